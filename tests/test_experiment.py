"""srlib.training.experiment, srlib.inference.zoo and srlib.paths: recipes, training and export into a zoo, provenance
of outputs."""

import json

import numpy as np
import pytest

from srlib import degrade, paths
from srlib.color import rgb_to_y
from srlib.inference import zoo
from srlib.inference.cards import export
from srlib.inference.infer import load_upscaler
from srlib.io import load_image, save_image
from srlib.models.cost import macs_per_output_pixel
from srlib.models.espcn import espcn
from srlib.training.experiment import Recipe, build, split_holdout, train


@pytest.fixture
def photos(tmp_path):
    """Twelve 60x60 smooth colour images in one folder."""
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 1, 60)[None, :, None]
    for i in range(12):
        save_image(tmp_path / "photos" / f"{i:02d}.png", np.clip(ramp * rng.random(3) + 0.2 * rng.random((60, 60, 3)),
                                                                 0, 1))
    return tmp_path / "photos"


def test_recipe_round_trips_and_refuses_unknown_fields():
    r = Recipe("espcn", scale=2, args={"filters": [8, 8]}, epochs=3)
    assert Recipe.from_dict(json.loads(json.dumps(r.to_dict()))) == r
    with pytest.raises(ValueError, match="bogus"):
        Recipe.from_dict({**r.to_dict(), "bogus": 1})


def test_old_recipe_keys_are_read_with_their_new_names():
    """Cards and run.json files written before the renames say lr, init and residual: read as learning_rate,
    warm_start and, per family, base (cnn: bilinear, autoencoder: bicubic) or the VAE's encoder_skip."""
    old = Recipe.from_dict({"model": "cnn", "scale": 2, "lr": 5e-4, "init": "cnn-x2", "args": {"residual": True}})
    assert (old.learning_rate, old.warm_start, old.args) == (5e-4, "cnn-x2", {"base": "bilinear"})
    assert Recipe.from_dict({"model": "autoencoder", "args": {"residual": True, "skips": False}}).args == {
        "base": "bicubic", "skips": False}
    assert Recipe.from_dict({"model": "autoencoder", "args": {"residual": False}}).args == {"base": None}
    assert Recipe.from_dict({"model": "vae", "args": {"residual": True}}).args == {"encoder_skip": True}
    assert set(old.to_dict()) >= {"learning_rate", "warm_start"} and not set(old.to_dict()) & {"lr", "init"}


@pytest.mark.parametrize("name", zoo.names())
def test_shipped_model_loads_and_runs(name):
    """Every shipped .keras file loads (registered layer names unchanged) and maps a fixed input to finite values of
    the right shape: a ramp (1, 12, 14, C) to HR about as bright; an arbitrary-scale generator queries 5 points."""
    model = zoo.load(name)
    c = (model.input["lr"] if isinstance(model.input, dict) else model.input).shape[-1]
    x = np.repeat(np.linspace(0, 1, 12 * 14, dtype=np.float32).reshape(1, 12, 14, 1), c, axis=-1)
    if isinstance(model.input, dict):
        from srlib.layers import coord_grid

        lr = x[:, :7, :7] if model.input["lr"].shape[1] == 7 else x
        inputs = {"lr": lr, "coord": coord_grid(4, 5).numpy()[None, :5]}
        if "cell" in model.input:
            inputs["cell"] = np.full((1, 5, 2), 0.1, np.float32)
        y = model(inputs).numpy()
        assert y.shape == (1, 5, c) and np.isfinite(y).all()
        return
    s = zoo.model_scale(model)
    y = model(x).numpy()
    assert y.shape == (1, 12 * s, 14 * s, c) and np.isfinite(y).all()
    assert abs(y.mean() - 0.5) < 0.1  # the ramp upscaled, not noise or zeros


@pytest.mark.parametrize("name", zoo.names())
def test_shipped_cards_hold_a_buildable_recipe(name):
    """Every zoo card's recipe builds a model with the shipped model's parameter count and cost."""
    card, model = zoo.card(name), zoo.load(name)
    recipe = Recipe.from_card(name)
    built = build(recipe.replace(warm_start=None))
    if recipe.model == "cppn_gan":  # shipped: the generator alone; its cost per output pixel depends on the scale
        from srlib.models.cppn_gan import generator_of

        assert generator_of(built).count_params() == model.count_params() == card.parameters
        assert macs_per_output_pixel(model, recipe.scale) == pytest.approx(card.macs_per_output_pixel, abs=0.1)
        return
    assert built.count_params() == model.count_params() == card.parameters
    assert macs_per_output_pixel(model) == pytest.approx(card.macs_per_output_pixel, abs=0.1)
    assert card.psnr("Set5", card.scale) is not None and card.scale == recipe.scale == zoo.model_scale(model)


def test_holdout_is_carved_from_training_data(photos):
    train_files, val_files = split_holdout([photos], n=3)
    assert len(val_files) == 3 and len(train_files) == 9 and not set(train_files) & set(val_files)


def test_train_export_and_load_through_the_zoo(photos, tmp_path, monkeypatch):
    """A tiny recipe trains with a held-out validation split, exports a card with its cost and machine,
    and the exported model is a zoo model that load_upscaler serves; a second train() reuses the run."""
    monkeypatch.setenv("SRLIB_WEIGHTS", str(tmp_path / "zoo"))
    r = Recipe("espcn", scale=2, args={"filters": [4, 4], "activation": "relu"}, patch=8, batch=4, steps=3, epochs=2,
               precision="fp32")
    model, log = train(r, tmp_path / "run", sources=[photos], verbose=0)
    assert len(log) == 2 and "val_psnr" in log
    rows = [{"dataset": "Set5", "scale": 2, "lr": "bicubic", "psnr": 30.0, "ssim": 0.9}]
    export(model, "tiny-x2", r, log, tmp_path / "run", architecture="ESPCN 4/4", benchmark=rows)
    card = zoo.card("tiny-x2")
    assert card.recipe == r.to_dict() and card.parameters == model.count_params()
    assert card.macs_per_output_pixel == pytest.approx(macs_per_output_pixel(model), abs=0.1)
    assert "cores" in card.trained_on and "cores" in card.scored_on and card.raw["epochs"] == 2
    assert (card.scale, card.scales, card.task, card.arbitrary_scale, card.degradation) == (2, (2,), "photo", False,
                                                                                            "bicubic")
    assert zoo.names() == ["tiny-x2"] and zoo.table()[0]["set5_psnr"] == 30.0 and card.psnr("Set5", 2) == 30.0
    up = load_upscaler("tiny-x2")
    assert up.scale == 2 and up(np.zeros((5, 6, 3), np.float32)).shape == (10, 12, 3)
    again, log2 = train(r, tmp_path / "run", sources=[photos], verbose=0)
    assert len(log2) == 2  # finished: reused, not trained again
    np.testing.assert_allclose(again.get_weights()[0], model.get_weights()[0])
    with pytest.raises(ValueError, match="another recipe.*epochs"):
        train(r.replace(epochs=3), tmp_path / "run", sources=[photos], verbose=0)


def test_transfer_init_copies_layers_whose_shapes_match(tmp_path, monkeypatch):
    """warm_start=<x3 model> starts an x2 ESPCN with the x3 feature layers; the output layer (other shape) is new."""
    source = espcn(3, filters=(4, 4))
    source.save(tmp_path / "x3.keras")
    model = build(Recipe("espcn", scale=2, args={"filters": [4, 4]}, warm_start=str(tmp_path / "x3.keras")))
    for i in (1, 2):
        np.testing.assert_array_equal(model.layers[i].get_weights()[0], source.layers[i].get_weights()[0])
    assert model.layers[3].get_weights()[0].shape != source.layers[3].get_weights()[0].shape


def test_relative_settings_resolve_from_the_current_directory(tmp_path, monkeypatch):
    """A relative SRLIB_DATA_DIR means the folder seen from where the command ran; absolute_env fixes it
    for processes that start elsewhere (notebook kernels run in notebooks/)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SRLIB_DATA_DIR", "data")
    assert paths.data_dir() == tmp_path / "data"
    assert paths.absolute_env()["SRLIB_DATA_DIR"] == str(tmp_path / "data")
    assert paths.clip("cockatoo-720p") == tmp_path / "data" / "video" / "clips" / "cockatoo_720p.mp4"
    with pytest.raises(ValueError, match="unknown clip"):
        paths.clip("nope")
    monkeypatch.delenv("SRLIB_DATA_DIR")  # unset: the default data/ is pinned too, for kernels that start elsewhere
    assert paths.absolute_env()["SRLIB_DATA_DIR"] == str(tmp_path / "data")


def test_loss_names():
    from srlib.metrics import mse_loss
    from srlib.training.experiment import loss_fn

    assert loss_fn("mse") is mse_loss
    y = np.random.default_rng(0).random((2, 16, 16, 1)).astype(np.float32)
    assert float(np.max(loss_fn("mse+ssim")(y, y))) == pytest.approx(0.0, abs=1e-6)
    assert float(np.max(loss_fn("ssim")(y, y))) == pytest.approx(0.0, abs=1e-6)
    assert float(np.min(loss_fn("ssim")(y, 1 - y))) > 1.0  # negated contrast: SSIM below 0
    with pytest.raises(ValueError, match="unknown loss"):
        loss_fn("l1")


@pytest.mark.slow
def test_time_budget_and_compatible_old_run_files(photos, tmp_path):
    """seconds= stops a run after the first epoch past the budget; a run.json written before the recipe had its
    newer fields (patience, lr_patience, seconds) still matches the same recipe, and a different one is refused."""
    r = Recipe("espcn", scale=2, args={"filters": [4, 4]}, patch=8, batch=4, steps=2, epochs=5, precision="fp32",
               seconds=1e-9)
    _, log = train(r, tmp_path / "run", sources=[photos], verbose=0)
    assert len(log) == 1
    plain = r.replace(seconds=None, epochs=1)
    old = {k: v for k, v in plain.to_dict().items() if k not in ("patience", "lr_patience", "seconds")}
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "run.json").write_text(json.dumps({"recipe": old, "sessions": []}))
    assert len(train(plain, tmp_path / "old", sources=[photos], verbose=0)[1]) == 1
    with pytest.raises(ValueError, match="lr_patience"):
        train(plain.replace(lr_patience=2), tmp_path / "old", sources=[photos], verbose=0)


def test_validation_pairs_follow_the_recipe_degradation(photos):
    """A recipe trained on pixelation + noise validates on pixelated, noisy LR (fixed seed), not on bicubic LR."""
    from srlib.training.experiment import datasets_for

    r = Recipe("espcn", scale=2, args={"filters": [4, 4]}, patch=8, batch=4, degradation="pixelate_noise")
    _, val_noisy = datasets_for(r, sources=[photos], val_source=[str(sorted(photos.iterdir())[0])])
    _, val_clean = datasets_for(r.replace(degradation="bicubic"), sources=[photos],
                                val_source=[str(sorted(photos.iterdir())[0])])
    (a, hr_a), (b, hr_b) = next(iter(val_noisy)), next(iter(val_clean))
    np.testing.assert_array_equal(hr_a, hr_b)
    assert np.abs(a.numpy() - b.numpy()).mean() > 0.005
    again = next(iter(datasets_for(r, sources=[photos], val_source=[str(sorted(photos.iterdir())[0])])[1]))[0]
    np.testing.assert_array_equal(a, again)
    test_lr = degrade.benchmark_lr(load_image(sorted(photos.iterdir())[0]), 2, "pixelate_noise")[1]
    np.testing.assert_array_equal(a.numpy()[0], rgb_to_y(test_lr).numpy())  # validation LR == test LR
