"""Quantisation-aware training (srlib.quant), the int8 TFLite engine (srlib.inference.lite.LiteFile) and its zoo
entries."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import pytest
import skimage.data

from srlib import color, quant
from srlib.inference import zoo
from srlib.inference.cards import export
from srlib.inference.frames import FastLuma
from srlib.inference.infer import LiteUpscaler, ModelUpscaler, load_net, load_upscaler
from srlib.inference.lite import LiteFile, convert, to_tflite
from srlib.models.espcn import espcn
from srlib.training.experiment import Recipe, build


@pytest.fixture(scope="module")
def photo_y():
    """Y of a 60 x 80 crop of scikit-image's astronaut, (1, 60, 80, 1) float32 in [0, 1] (a real image)."""
    rgb = skimage.data.astronaut()[100:160, 150:230] / np.float32(255)
    return color.rgb_to_ycbcr(rgb[None]).numpy()[..., :1].astype(np.float32)


@pytest.fixture(scope="module")
def qat_model(photo_y):
    """A tiny ESPCN x3 (8 / 8 filters, ReLU), quantised and calibrated on the photo."""
    keras.utils.set_random_seed(3)
    return quant.calibrate(quant.quantize_model(espcn(3, activation="relu", filters=(8, 8))), photo_y)


@pytest.fixture(scope="module")
def int8_blob(qat_model):
    return to_tflite(qat_model)


def test_quantize_puts_fake_quant_at_the_edges_and_after_each_convolution(qat_model):
    kinds = [type(layer).__name__ for layer in qat_model.layers]
    assert kinds == ["InputLayer", "FakeQuant", "QuantConv2D", "FakeQuant", "QuantConv2D", "FakeQuant",
                     "QuantConv2D", "FakeQuant", "SubPixelUpscale"]
    fq = [layer for layer in qat_model.layers if isinstance(layer, quant.FakeQuant)]
    assert fq[0].fixed == (0.0, 1.0) and fq[-1].fixed == (0.0, 1.0)  # image in, image out
    assert all(layer.fixed is None and float(layer.max.numpy()) > 0 for layer in fq[1:-1])  # tracked, calibrated


def test_quantize_keeps_the_weights_and_refuses_what_int8_cannot_run():
    model = espcn(3, activation="relu", filters=(8, 8))
    q = quant.quantize_model(model)
    convs = [layer for layer in q.layers if isinstance(layer, quant.QuantConv2D)]
    originals = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == len(originals) == 3
    for mine, theirs in zip(convs, originals, strict=True):
        assert all(np.array_equal(a, b) for a, b in zip(mine.get_weights(), theirs.get_weights(), strict=True))
    with pytest.raises(ValueError, match="tanh"):
        quant.quantize_model(espcn(3, activation="tanh", filters=(8, 8)))
    with pytest.raises(ValueError, match="already quantised"):
        quant.quantize_model(q)


def test_weights_are_quantised_per_output_channel_on_127_levels():
    layer = quant.QuantConv2D(2, 1, use_bias=False)
    layer.build((1, 1, 1, 2))
    kernel = np.array([[0.5, 0.003], [0.3, 0.001]], np.float32).reshape(1, 1, 2, 2)  # (kh, kw, in, out)
    out = layer.convolution_op(np.ones((1, 1, 1, 2), np.float32), kernel).numpy().ravel()  # sums per channel
    big, small = 0.5 / 127, 0.003 / 127  # each channel's own step (a per-tensor step would zero the 0.001)
    np.testing.assert_allclose(out, [0.5 + round(0.3 / big) * big, 0.003 + round(0.001 / small) * small], rtol=1e-5)


def test_tracked_range_follows_training_batches_and_is_frozen_at_inference():
    layer = quant.FakeQuant(decay=0.5)
    layer(np.zeros((1, 2, 2, 1), np.float32))
    layer(np.full((1, 2, 2, 1), 4.0, np.float32), training=True)  # the first batch sets the range: [0, 4]
    assert float(layer.max.numpy()) == 4.0
    layer(np.full((1, 2, 2, 1), 2.0, np.float32), training=True)  # then 0.5 * 4 + 0.5 * 2
    assert float(layer.max.numpy()) == 3.0
    out = layer(np.array([[[[1.0], [5.0]]]], np.float32)).numpy().ravel()
    assert float(layer.max.numpy()) == 3.0  # inference does not move it
    step = 3.0 / 255
    np.testing.assert_allclose(out, [round(1.0 / step) * step, 3.0], rtol=1e-5)  # on the grid, clipped at max


def test_fake_quant_model_round_trips_through_keras_file(qat_model, photo_y, tmp_path):
    qat_model.save(tmp_path / "q.keras")
    loaded = zoo.load_file(tmp_path / "q.keras")
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in qat_model.layers]
    np.testing.assert_array_equal(loaded(photo_y).numpy(), qat_model(photo_y).numpy())
    fq = [layer for layer in loaded.layers if isinstance(layer, quant.FakeQuant)]
    assert fq[-1].fixed == (0.0, 1.0) and fq[1].decay == 0.99


def test_int8_engine_matches_the_fake_quant_model(qat_model, int8_blob, photo_y):
    """The acceptance test: >= 99.9 % of output pixels within one grey level, none more than 2 away."""
    net = LiteFile(int8_blob, threads=1)
    assert net.int8 and net.channels == 1
    want = np.round(qat_model(photo_y).numpy() * 255)
    got = np.round(np.clip(net(photo_y), 0, 1) * 255)
    assert got.shape == want.shape == (1, 180, 240, 1)
    diff = np.abs(got - want)
    assert (diff <= 1).mean() >= 0.999 and diff.max() <= 2
    assert np.array_equal(net(photo_y[:, :31, :47]).shape, (1, 93, 141, 1))  # any input size


def test_int8_graph_is_int8_from_edge_to_edge_on_grey_levels(int8_blob):
    net = LiteFile(int8_blob)
    ops = net.interpreter._get_ops_details()
    assert [op["op_name"] for op in ops] == ["CONV_2D", "CONV_2D", "CONV_2D", "DEPTH_TO_SPACE"]  # no (DE)QUANTIZE
    assert all(op["result_types"] == [np.int8] for op in ops)
    edges = [net.interpreter.get_input_details()[0], net.interpreter.get_output_details()[0]]
    for edge in edges:  # the image range: an int8 value is a grey level minus 128
        assert edge["dtype"] == np.int8 and np.isclose(edge["quantization"][0], 1 / 255)
        assert edge["quantization"][1] == -128
    assert net.grey


def test_grey_levels_are_the_float_path_rounded_and_refuse_what_they_cannot_take(int8_blob, photo_y):
    net = LiteFile(int8_blob, threads=1)
    grey = np.round(photo_y * 255).astype(np.uint8)  # a decoded frame's luma
    out = net.grey_levels(grey)
    assert out.dtype == np.uint8 and out.shape == (1, 180, 240, 1)
    # the float path on the same grey levels: its output is on the 1/255 grid, so rounding it is exact
    np.testing.assert_array_equal(out, np.round(net(grey / np.float32(255)) * 255).astype(np.uint8))
    assert np.array_equal(net.grey_levels(grey[:, :, :31]).shape, (1, 180, 93, 1))  # any size here too
    with pytest.raises(ValueError, match="takes uint8"):
        net.grey_levels(photo_y)
    model = espcn(3, activation="relu", filters=(4, 4))
    float_edges = LiteFile(convert(quant.calibrate(quant.quantize_model(model), photo_y), (None, None, None, 1),
                                   optimize=True))
    assert float_edges.int8 and not float_edges.grey  # QUANTIZE in, DEQUANTIZE out: float32 edges
    np.testing.assert_allclose(float_edges(photo_y).shape, (1, 180, 240, 1))
    with pytest.raises(ValueError, match="not int8 grey levels"):
        float_edges.grey_levels(grey)
    with pytest.raises(ValueError, match="needs optimize=True"):
        convert(model, (None, None, None, 1), int8_edges=True)


def test_lite_reach_agrees_with_the_keras_graph(qat_model, int8_blob):
    from srlib.inference import tiling

    up = LiteUpscaler(LiteFile(int8_blob), 3)
    assert up.reach == ModelUpscaler(qat_model, 3).reach
    assert tiling.reach(qat_model).radius == 5 - 1 + 1  # 5x5 -> 2 + 3x3 -> 1 + 3x3 -> 1 + depth-to-space 1
    with pytest.raises(ValueError, match="upscales x3, not x2"):
        LiteUpscaler(LiteFile(int8_blob), 2)


def test_lite_file_refuses_what_it_cannot_run(tmp_path):
    (tmp_path / "junk.tflite").write_bytes(b"not a flatbuffer")
    with pytest.raises(ValueError, match="junk.tflite: not a TFLite model"):
        LiteFile(tmp_path / "junk.tflite")
    with pytest.raises(ValueError, match="cannot read"):
        LiteFile(tmp_path / "absent.tflite")


def test_frame_engine_runs_the_int8_model(int8_blob, qat_model):
    net = LiteFile(int8_blob)
    fast = FastLuma(net, 3)
    assert fast.runtime == "tflite" and "int8" in fast.name
    planes = np.random.default_rng(0).integers(16, 236, (2, 30 * 3 // 2, 40), dtype=np.uint8)
    y, cbcr = fast.split(planes)
    assert fast.grey and y.dtype == np.uint8  # the decoder's luma as it is
    sr = fast.net(y)
    assert sr.dtype == np.uint8
    want = np.clip(qat_model(y / np.float32(255)).numpy(), 0, 1) * 255
    np.testing.assert_allclose(sr, want, atol=2.01)
    merged = fast.merge(sr, cbcr)
    assert merged.shape == (2, 90 * 3 // 2, 120)
    np.testing.assert_array_equal(merged[:, :90], sr[..., 0])  # the luma plane is the network's output
    with pytest.raises(ValueError, match="runtime 'tflite' only"):
        FastLuma(net, 3, runtime="tensorflow")


def test_recipe_quantize_builds_the_fake_quant_model_from_a_warm_start(tmp_path):
    source = espcn(3, activation="relu", filters=(8, 8))
    source.save(tmp_path / "start.keras")
    recipe = Recipe("espcn", scale=3, args={"activation": "relu", "filters": [8, 8]}, quantize="int8",
                    warm_start=str(tmp_path / "start.keras"))
    model = build(recipe)
    assert any(isinstance(layer, quant.FakeQuant) for layer in model.layers)
    first = next(layer for layer in model.layers if isinstance(layer, quant.QuantConv2D))
    np.testing.assert_array_equal(first.kernel.numpy(), source.layers[1].kernel.numpy())
    assert Recipe.from_dict(recipe.to_dict()) == recipe
    with pytest.raises(ValueError, match="quantize must be"):
        build(recipe.replace(quantize="int4"))


def _tiny_zoo(tmp_path, qat_model, blob):
    """A zoo folder with one int8 model, 'tiny-x3-int8', shipped by cards.export."""
    log = pd.DataFrame({"epoch": [0], "wall_s": [1.0], "samples_per_s": [10.0]})
    recipe = Recipe("espcn", scale=3, args={"activation": "relu", "filters": [8, 8]}, quantize="int8", steps=1)
    rows = [{"dataset": "Set5", "scale": 3, "lr": "bicubic", "psnr": 30.0, "ssim": 0.9}]
    export(qat_model, "tiny-x3-int8", recipe, log, weights_dir=tmp_path, tflite=blob, benchmark=rows)
    return tmp_path


def test_int8_zoo_entry_runs_the_tflite_file_its_card_names(tmp_path, monkeypatch, qat_model, int8_blob, photo_y):
    folder = _tiny_zoo(tmp_path, qat_model, int8_blob)
    assert sorted(p.name for p in folder.iterdir()) == ["tiny_x3_int8.json", "tiny_x3_int8.keras",
                                                        "tiny_x3_int8.tflite", "tiny_x3_int8_log.csv"]
    monkeypatch.setenv("SRLIB_WEIGHTS", str(folder))
    card = zoo.card("tiny-x3-int8")
    assert card.raw["extra"] == {"engine": "tflite int8", "engine_file": "tiny_x3_int8.tflite"}
    assert card.recipe["quantize"] == "int8" and zoo.engine_file("tiny-x3-int8") == folder / "tiny_x3_int8.tflite"
    assert isinstance(zoo.load("tiny-x3-int8").layers[1], quant.FakeQuant)  # the Keras file: its fake-quant twin
    assert isinstance(load_net("tiny-x3-int8"), LiteFile)
    up = load_upscaler("tiny-x3-int8")
    assert isinstance(up, LiteUpscaler) and up.scale == 3 and up.model.int8
    rgb = np.repeat(photo_y[0], 3, axis=-1)
    assert up(rgb).shape == (180, 240, 3)
    (folder / "tiny_x3_int8.keras").unlink()  # a .tflite alone is a zoo model too, not a Keras one
    assert zoo.path("tiny-x3-int8").suffix == ".tflite" and isinstance(load_net("tiny-x3-int8"), LiteFile)
    with pytest.raises(ValueError, match="a TFLite model, not a Keras one"):
        zoo.load("tiny-x3-int8")
    (folder / "tiny_x3_int8.tflite").unlink()
    assert zoo.names() == []


@pytest.mark.slow
def test_int8_model_loads_in_a_fresh_process_from_a_zoo(tmp_path, qat_model, int8_blob):
    folder = _tiny_zoo(tmp_path / "zoo", qat_model, int8_blob)
    code = ("import numpy as np; from srlib.inference.infer import load_upscaler; up = load_upscaler('tiny-x3-int8'); "
            "print(up.model.int8, up(np.full((10, 12, 3), 0.5, np.float32)).shape)")
    env = {**os.environ, "SRLIB_WEIGHTS": str(folder)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "True (30, 36, 3)"
    assert json.loads((folder / "tiny_x3_int8.json").read_text())["model"] == "tiny-x3-int8"


def test_rtsr_is_a_nearest_residual_and_exports_int8_ops_only():
    from srlib.models.rtsr import rtsr

    x = np.random.default_rng(1).random((1, 6, 7, 1), np.float32)
    model = rtsr(3, filters=(8, 8))
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    np.testing.assert_array_equal(model(x).numpy(), np.repeat(np.repeat(x, 3, axis=1), 3, axis=2))  # the base
    q = quant.calibrate(quant.quantize_model(rtsr(3, filters=(8, 8))), x)
    net = LiteFile(to_tflite(q))
    ops = [op["op_name"] for op in net.interpreter._get_ops_details()]
    assert ops == ["CONV_2D", "CONV_2D", "CONV_2D", "ADD", "DEPTH_TO_SPACE"]  # the input broadcast by the ADD
    diff = np.abs(np.round(net(x) * 255) - np.round(q(x).numpy() * 255))
    assert diff.max() <= 2


def test_video_default_measures_an_int8_model_when_the_float_one_falls_behind(tmp_path, monkeypatch):
    """A float model that falls behind stops the timing of costlier float models only: the int8 twin (same
    multiply-adds, its card's extra.engine) is still timed and chosen when it keeps up at SRCNN's quality."""
    from srlib.app import choose

    monkeypatch.setenv("SRLIB_WEIGHTS", str(tmp_path))
    for name, macs, psnr, engine, suffix in [("small-x3", 444, 31.9, None, ".keras"),
                                             ("big-x3", 2514, 32.81, None, ".keras"),
                                             ("big-x3-int8", 2514, 32.76, "tflite int8", ".tflite")]:
        card = {"model": name, "architecture": "toy", "task": "photo", "scale": 3, "scales": [3],
                "arbitrary_scale": False, "channels": "Y (MATLAB rgb2ycbcr)", "parameters": 10,
                "macs_per_output_pixel": macs, "data": "T91", "degradation": "bicubic", "recipe": {}, "steps": 1,
                "epochs": 1, "wall_time_s": 1.0, "samples_per_s_during_run": 1.0, "trained_on": "m", "fps": None,
                "benchmark_convention": "Y", "scored_on": "m", "extra": {"engine": engine} if engine else {},
                "benchmark": [{"dataset": "Set5", "scale": 3, "lr": "bicubic", "psnr": psnr, "ssim": 0.9}]}
        (tmp_path / f"{zoo.file_stem(name)}.json").write_text(json.dumps(card))
        (tmp_path / f"{zoo.file_stem(name)}{suffix}").write_bytes(b"")
    speeds = {"small-x3": 60.0, "big-x3": 14.0, "big-x3-int8": 30.0}
    monkeypatch.setattr(choose, "clip_fps", lambda name, clip, scale, degrade: speeds[name])
    monkeypatch.setattr(choose, "_floor", lambda scale: 32.75)
    assert choose.for_video(3, "clip.mp4", 25)[0] == "big-x3-int8"  # keeps up, better than small-x3
    speeds["big-x3-int8"] = 20.0
    name, _, why = choose.for_video(3, "clip.mp4", 25)
    assert name == "small-x3" and "keeps up" in why
    assert choose.for_video(3, "clip.mp4", 100)[0] == "big-x3-int8"  # nothing keeps up: the fastest at SRCNN
