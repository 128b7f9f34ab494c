"""Shipping a trained model and scoring what it ships with: its ``.keras`` file, its JSON card
(:class:`srlib.inference.zoo.Card`, one schema for every model) and its training log in the zoo, and the benchmark rows
a card holds.

    rows = benchmark_rows(ModelUpscaler(model, 3), 3, data.test)
    export(model, "espcn-x3", recipe, log, run_dir, benchmark=rows)   # .keras + card + log in the zoo
    write_card(rescored("espcn-x3"))                                   # its rows again, from the shipped weights
"""

import json
import logging
from pathlib import Path

import numpy as np

from srlib import paths
from srlib.evaluate import evaluate, evaluate_clip
from srlib.inference import zoo
from srlib.inference.infer import load_upscaler
from srlib.io import atomic_write, write_json
from srlib.models.cost import macs_per_output_pixel
from srlib.outputs import Outputs
from srlib.precision import machine, with_precision
from srlib.sources import datasets

log = logging.getLogger(__name__)

BENCHMARK_SETS = ("Set5", "Set14", "BSD100")
CONVENTIONS = {  # a card's benchmark_convention, by task
    "photo": "Y channel (MATLAB rgb2ycbcr), border = scale shaved, SR rounded to uint8; LR = the row's lr "
             "degradation of HR cropped to a multiple of the scale (MATLAB bicubic for 'bicubic', fixed seeds "
             "otherwise), uint8-rounded; mean of per-image PSNR (peak 255) and SSIM (11x11 Gaussian)",
    "digits": "grey 28x28 digits, no border shaved, SR and HR rounded to uint8; LR = MATLAB bicubic to 7x7, "
              "uint8-rounded; mean of per-digit PSNR (peak 255) and SSIM (11x11 Gaussian)",
}


def benchmark_rows(upscaler, scale, test, degradation="bicubic"):
    """[{dataset, scale, lr, psnr, ssim}] of ``upscaler`` on each folder of ``test`` ({name: folder}),
    benchmark convention with LR by ``degradation`` (:func:`srlib.degrade.benchmark_lr`), rounded as tables
    show them (2 and 4 decimals)."""
    rows = []
    for name, folder in test.items():
        mean = evaluate(upscaler, folder, scale, progress=False, degradation=degradation)["mean"]
        rows.append({"dataset": name, "scale": scale, "lr": degradation, "psnr": round(mean["psnr"], 2),
                     "ssim": round(mean["ssim"], 4)})
    return rows


COMPRESSED_ROWS = (("BSD100", "bicubic_jpeg"), ("Vid4", "bicubic_h264_clip"))  # (dataset, lr) on compressed input


def compressed_rows(upscaler, scale):
    """[{dataset, scale, lr, psnr, ssim}] of ``upscaler`` on compressed input (:data:`COMPRESSED_ROWS`), benchmark
    convention, rounded as tables show them: BSD100 by ``bicubic_jpeg`` (MATLAB bicubic, then JPEG quality 50), and
    Vid4 by ``bicubic_h264_clip``: calendar and city (:func:`srlib.paths.vid4`) each MATLAB bicubic then one H.264
    stream (CRF 28; :func:`srlib.evaluate.evaluate_clip`), their frames pooled (the frame-weighted mean)."""
    rows = benchmark_rows(upscaler, scale, {"BSD100": datasets.require("BSD100")}, "bicubic_jpeg")
    datasets.require("Vid4")
    frames = [r for clip in paths.vid4().values()
              for r in evaluate_clip(upscaler, clip, scale, "bicubic_h264_clip", progress=False)["rows"]]
    return rows + [{"dataset": "Vid4", "scale": scale, "lr": "bicubic_h264_clip",
                    "psnr": round(float(np.mean([r["psnr"] for r in frames])), 2),
                    "ssim": round(float(np.mean([r["ssim"] for r in frames])), 4)}]


def _task(model):
    """('photo' or 'digits', arbitrary scale?) of a model, from its inputs: lr + coord (+ cell), or an image."""
    inputs = model.input if isinstance(model.input, dict) else {}
    return ("digits" if "coord" in inputs and "cell" not in inputs else "photo"), "cell" in inputs


def _scales(rows, scale, arbitrary):
    return sorted({r["scale"] for r in rows}) or ([] if arbitrary else [scale])


def write_card(card, weights_dir=None):
    """Check ``card`` (a dict) against the schema (:meth:`srlib.inference.zoo.Card.from_dict`, ValueError) and write it
    as ``<stem>.json`` in ``weights_dir`` (default: the zoo's). Returns its path."""
    zoo.Card.from_dict(card, card.get("model", "card"))
    path = Path(weights_dir or paths.weights_dir()) / f"{zoo.file_stem(card['model'])}.json"
    write_json(path, card)
    return path


def export(model, name, recipe, log_df, run_dir=None, architecture="", benchmark=(), extra=None, weights_dir=None,
           macs=None, tflite=None):
    """Ship ``model`` as zoo model ``name``: ``<stem>.keras`` (float32, no optimizer state), the JSON card
    ``<stem>.json`` (:data:`srlib.inference.zoo.CARD_KEYS`) and the per-epoch log ``<stem>_log.csv`` in ``weights_dir``
    (default: the zoo's). ``tflite``: the bytes of the TFLite model it runs on (an int8 model,
    :func:`srlib.inference.lite.to_tflite`), shipped as ``<stem>.tflite`` beside the ``.keras`` file (its fake-quant
    Keras twin); the card's ``extra.engine_file`` names it and ``extra.engine`` says 'tflite int8'.

    The card holds the task and scale(s) (read from the model's inputs: an arbitrary-scale model has scale null),
    channels, parameters, multiply-adds per output pixel (``macs``, else
    :func:`srlib.models.cost.macs_per_output_pixel`), data, degradation, recipe (a
    :class:`srlib.training.experiment.Recipe`), steps, wall time, training speed, the machine and dtype policy of each
    session of ``run_dir/run.json`` (``trained_on``; else this machine), the ``benchmark`` rows ({dataset, scale, lr,
    psnr, ssim}, :func:`benchmark_rows`) and the machine that scored them (this one), and ``extra`` (other
    measurements). Files shipped into the checkout's ``results/`` are the full profile's outputs:
    ``results/provenance.json`` lists them. Returns the float32 model.
    """
    folder = Path(weights_dir or paths.weights_dir())
    stem = zoo.file_stem(name)
    if all(layer.dtype_policy.name == "float32" for layer in model._flatten_layers()):  # a clean copy, no optimizer
        copy = model.__class__.from_config(model.get_config())
        copy.set_weights(model.get_weights())
        model = copy
    else:
        model = with_precision(model, "float32")
    run = Path(run_dir) / "run.json" if run_dir else None
    sessions = json.loads(run.read_text())["sessions"] if run and run.exists() else [machine()]
    task, arbitrary = _task(model)
    rows = [dict(r) for r in benchmark]
    card = {
        "model": name, "architecture": architecture, "task": task, "scale": None if arbitrary else recipe.scale,
        "scales": _scales(rows, recipe.scale, arbitrary), "arbitrary_scale": arbitrary,
        "channels": "Y (MATLAB rgb2ycbcr)" if recipe.channels == "y" else recipe.channels.upper(),
        "parameters": int(model.count_params()),
        "macs_per_output_pixel": round(macs if macs is not None else macs_per_output_pixel(model), 1),
        "data": " + ".join(recipe.data), "degradation": recipe.degradation,
        "recipe": recipe.to_dict(), "steps": int(len(log_df) * recipe.steps), "epochs": int(len(log_df)),
        "wall_time_s": float(log_df["wall_s"].iloc[-1]),
        "samples_per_s_during_run": float(log_df["samples_per_s"].median()),
        "trained_on": " | ".join(sessions), "fps": None, "benchmark_convention": CONVENTIONS[task],
        "scored_on": machine() if rows else None, "benchmark": rows, "extra": dict(extra or {}),
    }
    if tflite is not None:
        card["extra"] = {"engine": "tflite int8", **card["extra"], "engine_file": f"{stem}.tflite"}
    zoo.Card.from_dict(card, name)  # the schema, before anything is written
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / f"{stem}.keras", lambda tmp: model.save(tmp))
    if tflite is not None:
        atomic_write(folder / f"{stem}.tflite", lambda tmp: Path(tmp).write_bytes(tflite))
    atomic_write(folder / f"{stem}_log.csv", lambda tmp: log_df.to_csv(tmp, index=False))
    write_card(card, folder)
    _record(folder, stem, tflite is not None)
    log.info("%s: %d epochs, %.0f min -> %s", name, len(log_df), card["wall_time_s"] / 60, paths.display(folder))
    return model


def _record(folder, stem, tflite=False):
    """List a shipped model's files (three, four with a ``.tflite``) in ``results/provenance.json`` as the full
    profile's, when ``folder`` is under ``results/`` (a zoo elsewhere, e.g. a test's, is not a committed output)."""
    results, folder = paths.results_dir().resolve(), Path(folder).resolve()
    if folder.is_relative_to(results):
        outputs = Outputs("full")
        for suffix in (".keras", *([".tflite"] if tflite else []), ".json", "_log.csv"):
            outputs((folder / f"{stem}{suffix}").relative_to(results))


def rescored(name, sets=BENCHMARK_SETS, scales=None):
    """The card dict of zoo model ``name`` with its benchmark rows measured again from its shipped weights and
    ``scored_on`` set to this machine (:func:`write_card` writes it); the training record is kept as it was.

    Photo models: each of ``sets`` (registered names, fetched if missing) at each of ``scales`` (default: the card's
    scales) on the card's degradation. Digit models: the test digits the model never trained on; their sharpness
    ratio (``extra.sharpness_sr_over_hr``) too.
    """
    card = zoo.card(name)
    raw = json.loads(json.dumps(card.raw))
    if card.task == "digits":
        rows, raw["extra"]["sharpness_sr_over_hr"] = digit_rows(zoo.load(name), card.recipe["data"][0])
    else:
        rows = []
        for scale in scales or card.scales:
            up = load_upscaler(name, scale if card.arbitrary_scale else None)
            rows += benchmark_rows(up, scale, {s: datasets.require(s) for s in sets}, card.degradation)
    raw.update(benchmark=rows, scales=_scales(rows, card.scale, card.arbitrary_scale), scored_on=machine())
    return raw


def digit_rows(generator, trained_on):
    """([row], sharpness ratio) of a digit generator (7x7 -> 28x28) on the MNIST test digits it never trained on
    (the other half than ``trained_on``; :func:`srlib.sources.digits.digit_scores`), rounded as cards hold them."""
    from srlib.models.cppn_gan import render
    from srlib.sources.digits import digit_lr, digit_scores, test_digits

    hr = test_digits(trained_on)
    scores = digit_scores(render(generator, digit_lr(hr, 7), hr.shape[1:3]), hr)
    other = {"MNIST-test-a": "MNIST-test-b", "MNIST-test-b": "MNIST-test-a"}.get(trained_on, "MNIST-test")
    row = {"dataset": other, "scale": hr.shape[1] // 7, "lr": "bicubic", "psnr": round(scores["psnr"], 2),
           "ssim": round(scores["ssim"], 4)}
    return [row], round(scores["sharpness"], 3)
