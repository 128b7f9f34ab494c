"""srlib.inference.zoo: one card schema for every shipped model, read as a Card; lookups and the default model per
scale."""

import json

import pytest

from srlib import degrade, paths
from srlib.inference import zoo
from srlib.inference.zoo import CARD_KEYS, ROW_KEYS, Card


def _card(**changes):
    """A valid card dict of a made-up x2 model with Set5 / Set14 rows at x2 (bicubic)."""
    rows = [{"dataset": "Set5", "scale": 2, "lr": "bicubic", "psnr": 36.0, "ssim": 0.95},
            {"dataset": "Set14", "scale": 2, "lr": "bicubic", "psnr": 32.0, "ssim": 0.9}]
    card = {
        "model": "toy-x2", "architecture": "toy", "task": "photo", "scale": 2, "scales": [2], "arbitrary_scale": False,
        "channels": "Y (MATLAB rgb2ycbcr)", "parameters": 10, "macs_per_output_pixel": 5.0, "data": "T91",
        "degradation": "bicubic", "recipe": {"model": "espcn"}, "steps": 1, "epochs": 1, "wall_time_s": 1.0,
        "samples_per_s_during_run": 1.0, "trained_on": "a machine", "fps": None, "benchmark_convention": "Y",
        "scored_on": "another machine", "benchmark": rows, "extra": {},
    }
    return {**card, **changes}


@pytest.mark.parametrize("name", zoo.names())
def test_shipped_cards_share_one_schema(name):
    """Every shipped card has exactly the schema's keys, rows with exactly dataset/scale/lr/psnr/ssim at its scales
    (Set5, Set14 and BSD100 on one LR: its own degradation or clean bicubic; at most once each, the compressed-input
    rows of srlib.inference.cards.COMPRESSED_ROWS), and both machines (trained on, as recorded; scored on)."""
    compressed = {("BSD100", "bicubic_jpeg"), ("Vid4", "bicubic_h264_clip")}
    card = zoo.card(name)
    assert list(card.raw) == list(CARD_KEYS)
    assert card.benchmark and all(list(r) == list(ROW_KEYS) for r in card.benchmark)
    plain = [r for r in card.benchmark if (r["dataset"], r["lr"]) not in compressed]
    assert len({r["lr"] for r in plain}) == 1 and plain[0]["lr"] in (card.degradation, "bicubic")
    assert card.scored_on and "cores" in card.scored_on and "cores" in card.trained_on
    assert card.degradation in degrade.REGISTRY
    if card.task == "photo":  # Set5, Set14 and BSD100 at every scale it is scored at
        assert sorted((r["scale"], r["dataset"]) for r in plain) == sorted(
            (s, d) for s in card.scales for d in ("Set5", "Set14", "BSD100"))
        extra = [(r["scale"], r["dataset"], r["lr"]) for r in card.benchmark if r not in plain]
        assert len(extra) == len(set(extra))


def test_shipped_cards_keep_what_they_recorded():
    """Hand-read values: the ESPCN cards keep the machine line of their training; the noisy model is scored on its
    own degradation; cppn-any has no single scale; the digit model is scored on the half it never trained on."""
    cards = zoo.cards()
    assert cards["espcn-x3"].trained_on == "x86_64, 2 cores, no GPU"
    assert cards["cnn-x2-noisy"].degradation == "pixelate_noise" and cards["cnn-x2-noisy"].scales == (2,)
    assert cards["cnn-x2-noisy"].psnr("Set5", 2, lr="bicubic") is None
    anyscale = cards["cppn-any"]
    assert (anyscale.scale, anyscale.scales, anyscale.arbitrary_scale) == (None, (2, 3, 4), True)
    digits = cards["cppn-gan-mnist"]
    assert digits.task == "digits" and [r["dataset"] for r in digits.benchmark] == ["MNIST-test-b"]
    assert digits.recipe["data"] == ["MNIST-test-a"]


def test_card_lookups():
    card = Card.from_dict(_card())
    assert (card.name, card.scale, card.scales, card.fps) == ("toy-x2", 2, (2,), None)
    assert card.psnr("Set14", 2) == 32.0 and card.ssim("Set5", 2.0) == 0.95
    assert card.psnr("Set5", 3) is None and card.psnr("Set5", 2, lr="pixelate_noise") is None
    assert card.row("BSD100", 2) is None


@pytest.mark.parametrize(("changes", "message"), [
    ({"machine": "x"}, "unknown: machine"),
    ({"benchmark": [{"dataset": "Set5", "scale": 2, "method": "ours", "psnr": 36.0, "ssim": 0.95}]}, "other than"),
    ({"task": "video"}, "task 'video'"),
    ({"scale": None}, "scale must be null exactly"),
    ({"scales": [2, 3]}, "scales \\[2, 3\\]"),
    ({"trained_on": ["a", "b"]}, "must be strings"),
])
def test_card_schema_refuses_other_shapes(changes, message):
    with pytest.raises(ValueError, match=f"^toy.json: .*{message}"):
        Card.from_dict(_card(**changes), "toy.json")
    broken = _card()
    del broken["scored_on"]
    with pytest.raises(ValueError, match="missing: scored_on"):
        Card.from_dict(broken)


def test_a_card_file_that_is_not_json_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("SRLIB_WEIGHTS", str(tmp_path))
    (tmp_path / "bad.json").write_text("{")
    (tmp_path / "bad.keras").write_bytes(b"")
    with pytest.raises(ValueError, match=r"bad.json: not JSON"):
        zoo.names()


def test_best_model_on_a_made_up_zoo(tmp_path, monkeypatch):
    """Highest Set5 PSNR on bicubic LR per scale; a noisy model and digits never; the arbitrary-scale model where no
    card scores the scale; bicubic when nothing fits."""
    from srlib.app.choose import for_image as best_model

    monkeypatch.setenv("SRLIB_WEIGHTS", str(tmp_path))
    assert paths.weights_dir() == tmp_path
    row = lambda s, p, lr="bicubic": {"dataset": "Set5", "scale": s, "lr": lr, "psnr": p, "ssim": 0.9}  # noqa: E731
    assert best_model(2) == "bicubic"
    cards = [
        _card(model="a-x2", benchmark=[row(2, 36.0)]),
        _card(model="b-x2", benchmark=[row(2, 36.5)]),
        _card(model="noisy-x2", degradation="pixelate_noise", benchmark=[row(2, 40.0, "pixelate_noise")]),
        _card(model="digits", task="digits", scale=4, scales=[4], benchmark=[row(4, 40.0)]),
        _card(model="any", scale=None, scales=[3, 4], arbitrary_scale=True, benchmark=[row(3, 33.0), row(4, 30.0)]),
        _card(model="c-x4", scale=4, scales=[4], benchmark=[row(4, 30.5)]),
    ]
    for c in cards:
        (tmp_path / f"{zoo.file_stem(c['model'])}.json").write_text(json.dumps(c))
        (tmp_path / f"{zoo.file_stem(c['model'])}.keras").write_bytes(b"")
    assert [best_model(s) for s in (2, 3, 4, 2.5)] == ["b-x2", "any", "c-x4", "any"]


def test_table_has_a_row_per_scored_scale(tmp_path, monkeypatch):
    """`srlib models` rows: one per scale a card scores; an arbitrary-scale model's cost only at the scale it was
    counted at (its recipe's); a model scored on other data has no Set5 numbers."""
    monkeypatch.setenv("SRLIB_WEIGHTS", str(tmp_path))
    row = lambda d, s, p: {"dataset": d, "scale": s, "lr": "bicubic", "psnr": p, "ssim": 0.9}  # noqa: E731
    for c in [_card(),
              _card(model="any", scale=None, scales=[2, 4], arbitrary_scale=True, recipe={"model": "x", "scale": 4},
                    benchmark=[row("Set5", 2, 37.0), row("Set5", 4, 31.0)]),
              _card(model="digits", task="digits", scale=4, scales=[4], benchmark=[row("MNIST-test-b", 4, 18.0)]),
              _card(model="real-x3", scale=3, scales=[3], degradation="bicubic_codec",  # scored on clean LR too
                    benchmark=[row("Set5", 3, 32.1), {**row("BSD100", 3, 26.0), "lr": "bicubic_jpeg"}])]:
        (tmp_path / f"{c['model']}.json").write_text(json.dumps(c))
        (tmp_path / f"{c['model']}.keras").write_bytes(b"")
    assert [(r["model"], r["scale"], r["macs_per_output_pixel"], r["set5_psnr"], r["lr"]) for r in zoo.table()] == [
        ("any", "2 (any)", None, 37.0, "bicubic"), ("any", "4 (any)", 5.0, 31.0, "bicubic"),
        ("digits", 4, 5.0, None, "bicubic"), ("real-x3", 3, 5.0, 32.1, "bicubic"), ("toy-x2", 2, 5.0, 36.0, "bicubic")]
