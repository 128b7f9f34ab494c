"""The model zoo: the shipped models and their cards, wherever srlib is installed.

A zoo model is two files in :func:`srlib.paths.weights_dir` (``results/weights/`` in a
checkout; the ``srlib/weights`` package data of an installed wheel, which pyproject.toml
maps onto the same folder):

    espcn_x3.keras   the model, float32, no optimizer state (or a .tflite file alone: a TFLite model run by
                     :class:`srlib.inference.lite.LiteFile`)
    espcn_x3.json    its card (:func:`srlib.inference.cards.export` writes both), read as a :class:`Card`

An int8 model (:mod:`srlib.quant`) ships its fake-quant Keras model as the ``.keras`` file and the int8 TFLite
model it runs on beside it: the card's ``extra.engine_file`` names that file (:func:`engine_file`), ``extra.engine``
says 'tflite int8'.

Every card has the same keys (:data:`CARD_KEYS`); its benchmark rows have exactly :data:`ROW_KEYS`.
Adding a model to the zoo is adding those two files; nothing here names a model.
Listing the zoo reads the cards only (no TensorFlow).
"""

import dataclasses
import importlib
import json
import re
import zipfile
from pathlib import Path

from srlib import paths

CARD_KEYS = (
    "model", "architecture", "task", "scale", "scales", "arbitrary_scale", "channels", "parameters",
    "macs_per_output_pixel", "data", "degradation", "recipe", "steps", "epochs", "wall_time_s",
    "samples_per_s_during_run", "trained_on", "fps", "benchmark_convention", "scored_on", "benchmark", "extra",
)
ROW_KEYS = ("dataset", "scale", "lr", "psnr", "ssim")
TASKS = ("photo", "digits")


@dataclasses.dataclass(frozen=True)
class Card:
    """A zoo model's card: what it is, what it costs, where it was trained and what it scores.

    Attributes:
      name: zoo name ('espcn-x3').
      scale: upscaling factor (int), or None for an arbitrary-scale model.
      scales: the scales it was scored at (its benchmark rows' scales, ascending), e.g. (3,) or (2, 3, 4); with no
        rows yet, (scale,) or () for an arbitrary-scale model.
      arbitrary_scale: True when it upscales by any factor (inputs ``lr``, ``coord``, ``cell``).
      channels: what it upscales, e.g. 'Y (MATLAB rgb2ycbcr)'.
      parameters: weights in the shipped model.
      macs_per_output_pixel: multiply-adds per output pixel; for an arbitrary-scale model at ``recipe['scale']``.
      degradation: the LR it was trained and scored on, a degradation name ('bicubic', 'pixelate_noise').
      task: 'photo' (photos of any size) or 'digits' (fixed-size MNIST digits).
      trained_on: the machine line(s) of its training sessions, as recorded then.
      scored_on: the machine line of the run that scored ``benchmark``.
      benchmark: rows {dataset, scale, lr, psnr, ssim} (benchmark convention; psnr 2 decimals, ssim 4).
      recipe: the training recipe (:class:`srlib.training.experiment.Recipe` as a dict).
      fps: a measured speed (frames per second), or None.
      raw: the card's JSON dict.
    """

    name: str
    scale: int | None
    scales: tuple
    arbitrary_scale: bool
    channels: str
    parameters: int
    macs_per_output_pixel: float
    degradation: str
    task: str
    trained_on: str
    scored_on: str | None
    benchmark: tuple
    recipe: dict
    raw: dict
    fps: float | None = None

    @classmethod
    def from_dict(cls, d, source="card"):
        """The card of a JSON dict; ValueError naming ``source`` when a key is missing or extra, or a value is off."""
        def fail(reason):
            raise ValueError(f"{source}: {reason}")

        if not isinstance(d, dict):
            fail("not a JSON object")
        missing, extra = [k for k in CARD_KEYS if k not in d], sorted(set(d) - set(CARD_KEYS))
        if missing or extra:
            fail(f"card keys differ from zoo.CARD_KEYS (missing: {', '.join(missing) or '-'}; "
                 f"unknown: {', '.join(extra) or '-'}; put other measurements under 'extra')")
        for row in d["benchmark"]:
            if sorted(row) != sorted(ROW_KEYS):
                fail(f"benchmark row {row} has keys other than {', '.join(ROW_KEYS)}")
        if d["task"] not in TASKS:
            fail(f"task {d['task']!r} is not one of {', '.join(TASKS)}")
        if (d["scale"] is None) != bool(d["arbitrary_scale"]):
            fail("scale must be null exactly when arbitrary_scale is true")
        scales = tuple(d["scales"])
        scored = sorted({r["scale"] for r in d["benchmark"]})
        if list(scales) != (scored or ([] if d["arbitrary_scale"] else [d["scale"]])):
            fail(f"scales {list(scales)} are not the ascending scales of its benchmark rows")
        if not isinstance(d["trained_on"], str) or not isinstance(d["degradation"], str):
            fail("trained_on and degradation must be strings")
        return cls(name=d["model"], scale=d["scale"], scales=scales, arbitrary_scale=bool(d["arbitrary_scale"]),
                   channels=d["channels"], parameters=int(d["parameters"]),
                   macs_per_output_pixel=float(d["macs_per_output_pixel"]), degradation=d["degradation"],
                   task=d["task"], trained_on=d["trained_on"], scored_on=d["scored_on"],
                   benchmark=tuple(dict(r) for r in d["benchmark"]), recipe=d["recipe"], raw=d, fps=d["fps"])

    @classmethod
    def read(cls, file):
        """The card in JSON file ``file``; ValueError naming the file when it is not one."""
        try:
            d = json.loads(Path(file).read_text())
        except json.JSONDecodeError as e:
            raise ValueError(f"{paths.display(file)}: not JSON ({e})") from None
        return cls.from_dict(d, paths.display(file))

    def row(self, dataset, scale, lr=None):
        """The benchmark row of ``dataset`` at ``scale`` on LR ``lr`` (None: the card's own degradation), or None."""
        lr = lr or self.degradation
        for r in self.benchmark:
            if r["dataset"] == dataset and float(r["scale"]) == float(scale) and r["lr"] == lr:
                return r
        return None

    def psnr(self, dataset, scale, lr=None):
        """PSNR (dB) of the benchmark row of ``dataset`` at ``scale`` on ``lr`` (None: its own degradation), or None."""
        r = self.row(dataset, scale, lr)
        return r["psnr"] if r else None

    def ssim(self, dataset, scale, lr=None):
        """SSIM of that row, or None."""
        r = self.row(dataset, scale, lr)
        return r["ssim"] if r else None


MODEL_SUFFIXES = (".keras", ".tflite")  # a Keras model, or a TFLite flatbuffer (the int8 engine's)


def _files():
    """{zoo name: card path} for every card with its model file (.keras or .tflite) beside it."""
    found = {}
    for file in sorted(paths.weights_dir().glob("*.json")):
        if any(file.with_suffix(suffix).is_file() for suffix in MODEL_SUFFIXES):
            found[Card.read(file).name] = file
    return found


def cards():
    """{zoo name: :class:`Card`} of every shipped model, by name."""
    return {name: Card.read(file) for name, file in _files().items()}


def names():
    """Zoo names, sorted: ['espcn-x2', 'espcn-x3', ...]."""
    return list(_files())


def _file(name):
    files = _files()
    if name not in files:
        raise ValueError(f"{name}: not in the zoo (known: {', '.join(files) or 'none'})")
    return files[name]


def card(name):
    """The :class:`Card` of zoo model ``name``."""
    return Card.read(_file(name))


def path(name):
    """The model file of zoo model ``name``: its ``.keras`` file, or its ``.tflite`` file for an int8 engine model."""
    card_file = _file(name)
    return next(card_file.with_suffix(s) for s in MODEL_SUFFIXES if card_file.with_suffix(s).is_file())


def engine_file(name):
    """The TFLite file zoo model ``name`` runs on: its card's ``extra.engine_file`` beside it, or its model file when
    that is a ``.tflite``; None for a model that runs as Keras. ValueError when the named file is missing."""
    named = card(name).raw["extra"].get("engine_file")
    if named is None:
        return path(name) if path(name).suffix == ".tflite" else None
    file = _file(name).parent / named
    if not file.is_file():
        raise ValueError(f"{paths.display(file)}: the engine file of {name}'s card is missing")
    return file


def file_stem(name):
    """File name stem for a zoo name: 'espcn-x3' -> 'espcn_x3'."""
    return name.replace("-", "_")


def load_file(file):
    """A ``.keras`` file as an uncompiled model. The srlib modules its config names (``srlib.layers``,
    ``srlib.models.vae``, ...) are imported first, so their registered classes are found."""
    import keras

    if Path(file).suffix == ".tflite":
        raise ValueError(f"{paths.display(file)}: a TFLite model, not a Keras one: run it with "
                         "srlib.inference.lite.LiteFile (srlib.inference.infer.load_upscaler and load_net do)")
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


def table():
    """One row per zoo model and scale its card scores: name, scale ('any' beside the scale for arbitrary-scale
    models), parameters, MACs per output pixel (an arbitrary-scale model's only at the scale its card counts them,
    ``recipe['scale']``), Set5 PSNR / SSIM (None for a model scored on other data) and the LR they were measured on
    (the model's degradation, 'bicubic' or e.g. 'pixelate_noise'; clean 'bicubic' when the card has no Set5 row on
    its own degradation but a clean one, as a model trained on a codec mixture)."""
    rows = []
    for name, c in cards().items():
        for scale in c.scales or (c.scale,):
            counted = not c.arbitrary_scale or scale == c.recipe["scale"]
            lr = c.degradation if c.row("Set5", scale) or not c.row("Set5", scale, "bicubic") else "bicubic"
            rows.append({
                "model": name, "scale": f"{scale} (any)" if c.arbitrary_scale else scale, "parameters": c.parameters,
                "macs_per_output_pixel": c.macs_per_output_pixel if counted else None,
                "set5_psnr": c.psnr("Set5", scale, lr), "set5_ssim": c.ssim("Set5", scale, lr), "lr": lr,
            })
    return rows
