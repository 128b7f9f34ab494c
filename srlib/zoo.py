"""The model zoo: the shipped models and their cards, wherever srlib is installed.

A zoo model is two files in :func:`srlib.paths.weights_dir` (``results/weights/`` in a
checkout; the ``srlib/weights`` package data of an installed wheel, which pyproject.toml
maps onto the same folder):

    espcn_x3.keras   the model, float32, no optimizer state
    espcn_x3.json    its card (:func:`srlib.experiment.export` writes both): "model" is the
                     zoo name, with scale, parameters, multiply-adds per output pixel,
                     recipe, data, machine and benchmark rows

Adding a model to the zoo is adding those two files; nothing here names a model.
Listing the zoo reads the cards only (no TensorFlow).
"""

import importlib
import json
import re
import zipfile
from pathlib import Path

from srlib import paths


def _cards():
    """{zoo name: (card path, card dict)} for every card with its .keras beside it."""
    found = {}
    for path in sorted(paths.weights_dir().glob("*.json")):
        if path.with_suffix(".keras").is_file():
            card = json.loads(path.read_text())
            found[card.get("model", path.stem.replace("_", "-"))] = (path, card)
    return found


def names():
    """Zoo names, sorted: ['espcn-x2', 'espcn-x3', ...]."""
    return list(_cards())


def _entry(name):
    cards = _cards()
    if name not in cards:
        raise ValueError(f"{name}: not in the zoo (known: {', '.join(cards) or 'none'})")
    return cards[name]


def card(name):
    """The card of zoo model ``name`` as a dict."""
    return _entry(name)[1]


def path(name):
    """The ``.keras`` file of zoo model ``name``."""
    return _entry(name)[0].with_suffix(".keras")


def file_stem(name):
    """File name stem for a zoo name: 'espcn-x3' -> 'espcn_x3'."""
    return name.replace("-", "_")


def load_file(file):
    """A ``.keras`` file as an uncompiled model. The srlib modules its config names (``srlib.layers``,
    ``srlib.models.vae``, ...) are imported first, so their registered classes are found."""
    import keras

    with zipfile.ZipFile(file) as archive:
        config = archive.read("config.json").decode()
    for module in sorted(set(re.findall(r'"module": "(srlib(?:\.\w+)*)"', config))):
        importlib.import_module(module)
    return keras.models.load_model(Path(file), compile=False)


def load(name):
    """Zoo model ``name`` ('espcn-x3') as an uncompiled Keras model."""
    return load_file(path(name))


def model_scale(model):
    """The upscaling factor of an SR model, read from its output on an 8x8 input."""
    import numpy as np

    return int(model(np.zeros((1, 8, 8, model.input_shape[-1]), np.float32)).shape[1] // 8)


def set5_row(card):
    """(psnr, ssim) of the card's own Set5 benchmark row, or None."""
    for row in card.get("benchmark", []):
        if row.get("dataset") == "Set5" and row.get("scale") == card.get("scale"):
            return row["psnr"], row["ssim"]
    return None


def table():
    """One row per zoo model: name, scale, parameters, MACs per output pixel, its card's Set5 PSNR / SSIM and
    the LR they were measured on (the model's training degradation: 'bicubic' or e.g. 'pixelate_noise')."""
    rows = []
    for name, (_, c) in _cards().items():
        set5 = set5_row(c)
        rows.append({
            "model": name, "scale": c.get("scale"), "parameters": c.get("parameters"),
            "macs_per_output_pixel": c.get("macs_per_output_pixel"),
            "set5_psnr": set5[0] if set5 else None, "set5_ssim": set5[1] if set5 else None,
            "lr": c.get("recipe", {}).get("degradation", "bicubic"),
        })
    return rows
