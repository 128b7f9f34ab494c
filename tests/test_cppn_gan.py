"""The CPPN family: coordinate layers, the arbitrary-scale data and LR, rendering in tiles, the GAN's training step,
saving, the upscaler and the MNIST reader."""

import gzip
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from srlib import datasets, zoo
from srlib.cli import _scale
from srlib.data import implicit_dataset, implicit_pairs
from srlib.degrade import bicubic_lr, imresize, mod_crop
from srlib.evaluate import evaluate_image
from srlib.infer import ImplicitUpscaler, load_upscaler
from srlib.layers import CoordGrid, LocalQuery, coord_grid
from srlib.models import cppn_gan as C


def test_coord_grid_pixel_centres():
    """Hand-computed: 2 x 4 pixels have centres y = -0.5, 0.5 and x = -0.75, -0.25, 0.25, 0.75, row-major."""
    g = coord_grid(2, 4).numpy()
    assert g.shape == (8, 2)
    np.testing.assert_allclose(g[:4], [[-0.5, -0.75], [-0.5, -0.25], [-0.5, 0.25], [-0.5, 0.75]])
    np.testing.assert_allclose(g[4:, 0], 0.5)


def test_coord_grid_layer_adds_radius_and_latent():
    coord = coord_grid(3, 3)[None]
    z = tf.constant([[7.0, -1.0]])
    x = CoordGrid()([coord, z]).numpy()[0]
    assert x.shape == (9, 5)
    np.testing.assert_allclose(x[:, 2], np.hypot(x[:, 0], x[:, 1]), rtol=1e-6)
    np.testing.assert_allclose(x[:, 3:], [[7.0, -1.0]] * 9)


def _query(h, w, scale, rng, latent=3):
    lr = rng.random((2, h, w, 1)).astype("float32")
    z = rng.random((2, h, w, latent)).astype("float32")
    H, W = h * scale, w * scale
    coord = tf.repeat(coord_grid(H, W)[None], 2, 0)
    cell = tf.tile(tf.constant([[[2.0 / H, 2.0 / W]]]), [2, H * W, 1])
    return lr, z, coord, cell, (H, W)


def test_local_query_at_lr_centres_is_identity(rng):
    """Queried at the LR pixel centres (scale 1): the base is the LR image, the offset 0, the latent that pixel's."""
    lr, z, coord, cell, _ = _query(5, 7, 1, rng)
    features, base = LocalQuery()([z, lr, coord, cell])
    np.testing.assert_allclose(base.numpy(), lr.reshape(2, -1, 1), atol=1e-6)
    np.testing.assert_allclose(features[..., :3].numpy(), z.reshape(2, -1, 3))
    np.testing.assert_allclose(features[..., 3:5].numpy(), 0.0, atol=1e-5)
    np.testing.assert_allclose(features[..., 5:].numpy(), 1.0, atol=1e-6)  # the cell is one LR pixel


@pytest.mark.parametrize("scale", [2, 3])
def test_local_query_base_is_bilinear(rng, scale):
    """At integer scales the base equals TensorFlow's bilinear resize (half-pixel centres, edges clamped);
    offsets stay within half an LR pixel and the cell is 1 / scale."""
    lr, z, coord, cell, (H, W) = _query(6, 5, scale, rng)
    features, base = LocalQuery()([z, lr, coord, cell])
    ref = tf.image.resize(lr, (H, W), "bilinear").numpy().reshape(2, -1, 1)
    np.testing.assert_allclose(base.numpy(), ref, atol=1e-5)
    assert np.abs(features[..., 3:5].numpy()).max() <= 0.5 + 1e-6
    np.testing.assert_allclose(features[..., 5:].numpy(), 1 / scale, rtol=1e-5)


def test_render_in_tiles_equals_one_pass(rng):
    """Tiling the queries changes nothing, for both forms; the local form starts at the bilinear base."""
    photo = C.photo_generator(latent=4, filters=(8, 4, 8), width=8, depth=1)
    lr = rng.random((1, 9, 11, 1)).astype("float32")
    whole, tiled = C.render(photo, lr, (23, 27)), C.render(photo, lr, (23, 27), tile=50)
    assert whole.shape == (1, 23, 27, 1)
    np.testing.assert_allclose(tiled, whole, atol=1e-6)
    bilinear = tf.image.resize(lr, (27, 33), "bilinear").numpy()  # x3
    np.testing.assert_allclose(C.render(photo, lr, (27, 33)), bilinear, atol=0.02)
    digit = C.digit_generator(7, latent=4, width=8, depth=2)
    lr7 = rng.random((2, 7, 7, 1)).astype("float32")
    np.testing.assert_allclose(C.render(digit, lr7, (40, 40), tile=333), C.render(digit, lr7, (40, 40)), atol=1e-6)


def test_gan_step_logs_every_term_and_round_trips(tmp_path, rng):
    """One compiled fit on digits with the discriminator: every loss term logged and finite, both networks
    updated; the model saves, loads (fresh classes from the config) and predicts the same."""
    model = C.cppn_gan(4, form="global", latent=4, width=16, depth=2, adversarial=0.01, beta=1e-3, warmup=10)
    hr = rng.random((8, 28, 28, 1)).astype("float32")
    x, y = C.digit_inputs(C.digit_lr(hr, 7), 28), hr.reshape(8, -1, 1)
    model.compile(keras.optimizers.Adam(1e-3))
    first = lambda: (model.generator.trainable_weights[0], model.discriminator.trainable_weights[0])  # noqa: E731
    before = [w.numpy().copy() for w in first()]
    steps = []
    per_step = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: steps.append(dict(logs)))
    history = model.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(4), epochs=2, verbose=0,
                        callbacks=[per_step]).history
    assert len(steps) == 4  # every step reports every term
    for key in ("loss", "recon", "kl", "psnr", "adv", "d_loss", "d_real", "d_fake", "beta"):
        assert np.isfinite(history[key]).all() and all(np.isfinite(s[key]) for s in steps), key
    assert all(not np.allclose(b, a.numpy()) for b, a in zip(before, first(), strict=True))
    model.save(tmp_path / "gan.keras")
    loaded = zoo.load_file(tmp_path / "gan.keras")
    assert isinstance(loaded, C.CPPNGAN) and loaded.discriminator is not None and loaded.adversarial == 0.01
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), atol=1e-6)


def test_local_form_refuses_a_discriminator():
    with pytest.raises(ValueError, match="without a discriminator"):
        C.cppn_gan(4, form="local", adversarial=0.1)


def test_non_integer_benchmark_lr(rng):
    """x2.5 crops HR to a multiple of 5 and resizes to exactly 2/5 of it; integer scales keep the old path."""
    hr = rng.random((23, 31, 3)).astype("float32")
    assert mod_crop(tf.constant(hr), 2.5).shape == (20, 30, 3)
    lr = bicubic_lr(tf.constant(hr), 2.5)
    assert lr.shape == (8, 12, 3)
    np.testing.assert_allclose(lr.numpy(), np.round(lr.numpy() * 255) / 255, atol=1e-6)
    ref = np.round(np.clip(imresize(hr[:21, :30], scale=1 / 3).numpy(), 0, 1) * 255) / 255
    np.testing.assert_allclose(bicubic_lr(tf.constant(hr), 3).numpy(), ref, atol=1e-6)


def test_implicit_upscaler_any_scale(rng):
    """Output side ceil(side * scale) at non-integer scales; a benchmark score works at x2.5."""
    model = C.photo_generator(latent=4, filters=(8, 4), width=8, depth=1)
    up = ImplicitUpscaler(model, 2.5)
    assert up(rng.random((9, 10, 3)).astype("float32")).shape == (23, 25, 3)
    p, s, sr = evaluate_image(up, rng.random((40, 35, 3)).astype("float32"), 2.5)
    assert sr.shape == (40, 35, 3) and 5 < p < 60 and -1 <= s <= 1


def test_load_upscaler_explains_cppn_models(tmp_path):
    C.photo_generator(latent=4, filters=(8, 4), width=8, depth=1).save(tmp_path / "any.keras")
    C.digit_generator(7, latent=4, width=8, depth=1).save(tmp_path / "digit.keras")
    with pytest.raises(ValueError, match="give --scale"):
        load_upscaler(str(tmp_path / "any.keras"))
    assert load_upscaler(str(tmp_path / "any.keras"), 3.5).scale == 3.5
    with pytest.raises(ValueError, match="not photos"):
        load_upscaler(str(tmp_path / "digit.keras"), 4)


def test_scale_argument():
    assert _scale("3") == 3 and isinstance(_scale("3"), int) and _scale("2.5") == 2.5
    with pytest.raises(Exception, match="positive"):
        _scale("-2")


def test_sharpness_hand_computed():
    """A vertical step edge: every horizontal difference on one column is 1, vertical differences 0."""
    img = np.zeros((1, 4, 4, 1), np.float32)
    img[:, :, 2:] = 1.0
    np.testing.assert_allclose(C.sharpness(img), [1 / 3])  # 4 of the 12 horizontal differences are 1


def test_implicit_dataset_shapes_and_grid(tmp_path, rng):
    """LR patches, queries on the pixel-centre grid of the HR crop (side = round(patch * scale)), cell 2 / side."""
    images = (rng.random((3, 64, 64, 3)) * 255).astype(np.uint8)
    x, y = next(iter(implicit_dataset(images, patch_size=8, scales=(2.0, 3.0), batch_size=5, crops_per_image=4,
                                      cache=False)))
    assert x["lr"].shape == (5, 8, 8, 1) and x["coord"].shape == (5, 64, 2) and y.shape == (5, 64, 1)
    side = 2.0 / x["cell"].numpy()[:, 0, 0]
    assert np.all((side >= 16 - 1e-3) & (side <= 24 + 1e-3))
    centres = (x["coord"].numpy() + 1) * side[:, None, None] / 2 - 0.5  # integer pixel indices
    np.testing.assert_allclose(centres, np.round(centres), atol=1e-3)
    assert len({tuple(c) for c in x["coord"].numpy()[0]}) == 64  # no pixel queried twice


def test_implicit_pairs_cover_whole_images(tmp_path, rng):
    from srlib.io import save_image

    save_image(tmp_path / "a.png", rng.random((25, 30, 3)).astype("float32"))
    pairs = list(implicit_pairs(tmp_path, scales=(2, 3)))
    assert len(pairs) == 2
    (x, y), (x3, _) = pairs
    assert x["lr"].shape == (1, 12, 15, 1) and x["coord"].shape == (1, 24 * 30, 2) and y.shape == (1, 720, 1)
    assert x3["lr"].shape == (1, 8, 10, 1)


def _idx(path, images, magic=2051):
    n, h, w = images.shape
    header = np.array([magic, n, h, w], ">i4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + images.astype(np.uint8).tobytes())


def test_mnist_reader(tmp_path, monkeypatch, rng):
    monkeypatch.setenv("SRLIB_DATA_DIR", str(tmp_path))
    (tmp_path / "mnist").mkdir()
    digits = rng.integers(0, 256, (3, 28, 28))
    _idx(tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz", digits)
    x = datasets.mnist("t10k")
    assert x.shape == (3, 28, 28, 1) and x.dtype == np.float32
    np.testing.assert_allclose(x[..., 0] * 255, digits, atol=1e-4)
    _idx(tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz", digits, magic=2049)
    with pytest.raises(datasets.DatasetError, match="not an MNIST IDX images file"):
        datasets.mnist("t10k")


def test_test_digits_never_overlap_training_half(monkeypatch, tmp_path, rng):
    monkeypatch.setenv("SRLIB_DATA_DIR", str(tmp_path))
    (tmp_path / "mnist").mkdir()
    digits = np.arange(10000)[:, None, None] % 256 * np.ones((1, 28, 28))
    digits[:, 0, 0] = np.arange(10000) // 256  # every digit unique
    _idx(tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz", digits)
    key = lambda a: {tuple(d[:1, :2, 0].ravel()) for d in a}  # noqa: E731
    for half in C.MNIST_HALVES:
        assert not key(C.digits(half)) & key(C.test_digits(half))
        assert len(C.digits(half)) == len(C.test_digits(half)) == 5000


def test_shipped_cppn_any_loads_in_a_fresh_process():
    """The shipped arbitrary-scale model loads through the zoo and upscales x2.5 with `srlib upscale`'s loader."""
    if "cppn-any" not in zoo.names():
        pytest.skip("cppn-any not shipped")
    code = ("import numpy as np; from srlib.infer import load_upscaler; up = load_upscaler('cppn-any', 2.5); "
            "print(up(np.full((8, 6, 3), 0.5, np.float32)).shape)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "(20, 15, 3)" in out.stdout


def test_shipped_digit_model_reproduces_its_card():
    """cppn-gan-mnist scores on the test digits it never trained on what its card says, far above bicubic."""
    if "cppn-gan-mnist" not in zoo.names() or not datasets.mnist_file("t10k"):
        pytest.skip("cppn-gan-mnist or MNIST's test digits absent")
    card = zoo.card("cppn-gan-mnist")
    hr = C.test_digits(card.recipe["data"][0])
    lr = C.digit_lr(hr, 7)
    scores = C.digit_scores(C.render(zoo.load("cppn-gan-mnist"), lr, (28, 28)), hr)
    (row,) = card.benchmark
    assert row["dataset"] == "MNIST-test-b" != card.recipe["data"][0]
    assert scores["psnr"] == pytest.approx(row["psnr"], abs=0.006)
    assert scores["ssim"] == pytest.approx(row["ssim"], abs=0.00006)
    assert scores["sharpness"] == pytest.approx(card.raw["extra"]["sharpness_sr_over_hr"], abs=0.0006)
    bicubic = C.digit_scores(np.clip(imresize(lr, size=(28, 28)).numpy(), 0, 1), hr)
    assert scores["psnr"] > bicubic["psnr"] + 2
