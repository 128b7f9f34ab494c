"""Shipping a trained model: its ``.keras`` file, its JSON card and its training log in the zoo, and the
benchmark rows a card holds.

    rows = benchmark_rows(ModelUpscaler(model, 3), 3, data.test)
    export(model, "espcn-x3", recipe, log, run_dir, benchmark=rows)   # .keras + card + log in the zoo
"""

import json
import logging
from pathlib import Path

from srlib import paths, zoo
from srlib.cost import macs_per_output_pixel
from srlib.evaluate import CONVENTION, evaluate, lr_function, write_json
from srlib.io import atomic_write
from srlib.precision import machine, with_precision

log = logging.getLogger(__name__)


def benchmark_rows(upscaler, scale, test, degradation="bicubic"):
    """[{scale, dataset, psnr, ssim, lr}] of ``upscaler`` on each folder of ``test`` ({name: folder}),
    benchmark convention with LR by ``degradation`` (:func:`srlib.evaluate.lr_function`), rounded as tables
    show them (2 and 4 decimals)."""
    rows = []
    for name, folder in test.items():
        mean = evaluate(upscaler, folder, scale, progress=False, degradation=lr_function(degradation))["mean"]
        rows.append({"scale": scale, "dataset": name, "psnr": round(mean["psnr"], 2), "ssim": round(mean["ssim"], 4),
                     "lr": degradation})
    return rows


def export(model, name, recipe, log_df, run_dir=None, architecture="", benchmark=(), extra=None, weights_dir=None,
           macs=None):
    """Ship ``model`` as zoo model ``name``: ``<stem>.keras`` (float32, no optimizer state), the JSON card
    ``<stem>.json`` and the per-epoch log ``<stem>_log.csv`` in ``weights_dir`` (default: the zoo's).

    The card holds scale, channels, parameters, multiply-adds per output pixel (``macs``, else
    :func:`srlib.cost.macs_per_output_pixel`), data, degradation,
    recipe (a :class:`srlib.experiment.Recipe`), steps, wall time, training speed, the machine and dtype policy
    of each session of ``run_dir/run.json`` (else this machine),
    the benchmark convention and ``benchmark`` rows, plus ``extra``. Returns the float32 model.
    """
    folder = Path(weights_dir or paths.weights_dir())
    stem = zoo.file_stem(name)
    if all(layer.dtype_policy.name == "float32" for layer in model._flatten_layers()):  # a clean copy, no optimizer
        copy = model.__class__.from_config(model.get_config())
        copy.set_weights(model.get_weights())
        model = copy
    else:
        model = with_precision(model, "float32")
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / f"{stem}.keras", lambda tmp: model.save(tmp))
    atomic_write(folder / f"{stem}_log.csv", lambda tmp: log_df.to_csv(tmp, index=False))
    run = Path(run_dir) / "run.json" if run_dir else None
    sessions = json.loads(run.read_text())["sessions"] if run and run.exists() else [machine()]
    card = {
        "model": name, "architecture": architecture, "scale": recipe.scale,
        "channels": "Y (MATLAB rgb2ycbcr)" if recipe.channels == "y" else recipe.channels.upper(),
        "parameters": int(model.count_params()),
        "macs_per_output_pixel": round(macs if macs is not None else macs_per_output_pixel(model), 1),
        "data": " + ".join(recipe.data), "degradation": recipe.degradation,
        "recipe": recipe.to_dict(), "steps": int(len(log_df) * recipe.steps), "epochs": int(len(log_df)),
        "wall_time_s": float(log_df["wall_s"].iloc[-1]),
        "samples_per_s_during_run": float(log_df["samples_per_s"].median()),
        "machine": sessions,
        "benchmark_convention": CONVENTION, "benchmark": list(benchmark), **(extra or {}),
    }
    write_json(folder / f"{stem}.json", card)
    log.info("%s: %d epochs, %.0f min -> %s", name, len(log_df), card["wall_time_s"] / 60, paths.display(folder))
    return model
