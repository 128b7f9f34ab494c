"""The experiment layer: a training recipe, one call to train it, and provenance for what it writes.

A model family is a builder in ``srlib.models.<family>`` (a function of the same name taking
``scale``, ``channels`` and its own keyword arguments), a :class:`Recipe`, and a notebook:

    recipe = Recipe("espcn", scale=3, args={"filters": [64, 32], "activation": "relu"}, epochs=90)
    model, log = train(recipe, paths.runs_dir() / "espcn_x3")      # resumes after a crash
    export(model, "espcn-x3", recipe, log, benchmark=rows)         # srlib.inference.cards: .keras + card + log in the
    zoo

Result files go through :mod:`srlib.outputs`; the folders a notebook trains and tests on come from
:func:`srlib.sources.datasets.notebook_data`.
"""

import dataclasses
import importlib
import json
import logging
from pathlib import Path

import keras
import pandas as pd

from srlib import color, degrade, quant
from srlib.data import benchmark_pairs, hr_batches, make_dataset, pair_fn, split_holdout
from srlib.inference import zoo
from srlib.io import write_json
from srlib.metrics import MixedLoss, VGGLoss, mse_loss, ssim_loss
from srlib.precision import gpus, machine, set_precision
from srlib.sources import datasets, digits, implicit_data
from srlib.training import distributed
from srlib.training.train import TimeBudget, fit

log = logging.getLogger(__name__)

CHANNELS = {"y": 1, "rgb": 3, "ycbcr": 3, "yuv": 3}


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Everything that decides a training run.

    Attributes:
      model: builder family: ``srlib.models.<model>.<model>(scale, channels, **args)``.
      scale: upscaling factor.
      args: the builder's other keyword arguments (JSON-able).
      channels: 'y' (one channel, chroma by bicubic) or 'rgb' / 'ycbcr' / 'yuv' (three learned channels).
      data: training sets (names in :data:`srlib.sources.datasets.REGISTRY`).
      degradation: HR -> LR, a name of :data:`srlib.degrade.REGISTRY`.
      patch, batch: LR patch side and batch size.
      steps, epochs: steps per epoch and epochs.
      learning_rate, schedule: Adam's learning rate; 'cosine' (decay to 1% over the run) or 'constant'.
      precision: 'fp32', 'bf16', 'fp16' or 'auto' (:func:`srlib.precision.auto_precision`).
      seed: seeds crops, augmentation and initialisation.
      warm_start: zoo name or ``.keras`` file whose weighted layers start this model where their
        shapes match, in order (scale transfer: the features move, the output layer is new).
      val: 'holdout' (:data:`srlib.data.HOLDOUT_IMAGES` images carved from the training data, removed from
        it) or a set name; checkpoints are chosen on it, so it must not be a test set for new models.
      loss: 'mse', 'ssim', 'mse+ssim' or 'mse+vgg' (:func:`loss_fn`).
      patience, lr_patience: EarlyStopping and ReduceLROnPlateau (halving) patience in epochs on the
        validation loss (None: off; with ``lr_patience`` use ``schedule='constant'``).
      seconds: stop after this much training time (None: the full schedule), for equal wall-clock budgets.
      quantize: None, or 'int8': quantisation-aware training (:func:`srlib.quant.quantize_model` of the built model,
        after ``warm_start``), exported by :func:`srlib.inference.lite.to_tflite`.
    """

    model: str = "espcn"
    scale: int = 3
    args: dict = dataclasses.field(default_factory=dict)
    channels: str = "y"
    data: tuple = ("T91", "BSD200")
    degradation: str = "bicubic"
    patch: int = 24
    batch: int = 32
    steps: int = 2000
    epochs: int = 90
    learning_rate: float = 1e-3
    schedule: str = "cosine"
    precision: str = "auto"
    seed: int = 1
    warm_start: str | None = None
    val: str = "holdout"
    loss: str = "mse"
    patience: int | None = None
    lr_patience: int | None = None
    seconds: float | None = None
    quantize: str | None = None

    def replace(self, **changes):
        """A copy with ``changes``."""
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        d = dataclasses.asdict(self)
        d["data"] = list(self.data)
        return d

    @classmethod
    def from_dict(cls, d):
        """The recipe of a dict written by :meth:`to_dict` (a card's ``recipe``, a run's ``run.json``); unknown
        keys are refused. Dicts written before the renames (``lr``, ``init``, builder arg ``residual``) are read
        with the new names (:data:`RENAMED`, :func:`_renamed_args`)."""
        d = {RENAMED.get(k, k): v for k, v in d.items()}
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown recipe fields: {', '.join(sorted(unknown))}")
        args = _renamed_args(d.get("model", cls.model), d.get("args", {}))
        return cls(**{**d, "args": args, "data": tuple(d.get("data", cls.data))})

    @classmethod
    def from_card(cls, name):
        """The recipe a zoo model was trained with."""
        return cls.from_dict(zoo.card(name).recipe)


RENAMED = {"lr": "learning_rate", "init": "warm_start"}  # recipe fields of older cards and runs -> their names now


def _renamed_args(model, args):
    """Builder ``args`` with the old ``residual`` under its present name: cnn's global base was bilinear,
    the autoencoder's bicubic (``base``); the VAE's was its encoder-decoder skip (``encoder_skip``)."""
    if "residual" not in args:
        return dict(args)
    args = dict(args)
    residual = args.pop("residual")
    if model == "vae":
        return {**args, "encoder_skip": residual}
    return {**args, "base": ({"cnn": "bilinear", "autoencoder": "bicubic"}[model] if residual else None)}


def build(recipe):
    """The uncompiled model of ``recipe`` (with ``warm_start``'s weights where shapes match)."""
    builder = getattr(importlib.import_module(f"srlib.models.{recipe.model}"), recipe.model)
    model = builder(recipe.scale, CHANNELS[recipe.channels], **recipe.args)
    if recipe.warm_start:
        start = recipe.warm_start
        source = zoo.load(start) if start in zoo.names() else zoo.load_file(start)
        for mine, other in zip(_weighted_layers(model), _weighted_layers(source), strict=False):
            if [w.shape for w in mine.weights] == [w.shape for w in other.weights]:
                mine.set_weights(other.get_weights())
    if recipe.quantize not in (None, "int8"):
        raise ValueError(f"quantize must be None or 'int8', not {recipe.quantize!r}")
    return quant.quantize_model(model) if recipe.quantize else model


def _weighted_layers(model):
    """The layers with weights of ``model``, in order, nested models opened (their inner layers, not themselves)."""
    out = []
    for layer in model.layers if isinstance(model, keras.Model) else []:
        out += _weighted_layers(layer) if isinstance(layer, keras.Model) else [layer] if layer.weights else []
    return out


def _to_space(ds, channels):
    if channels in ("y", "rgb"):
        return ds
    to = {"ycbcr": color.rgb_to_ycbcr, "yuv": color.rgb_to_yuv}[channels]
    return ds.map(lambda lr, hr: (to(lr), to(hr)))


def datasets_for(recipe, sources=None, val_source=None, shard=None):
    """(training dataset, validation dataset) of ``recipe``; validation pairs are the test's benchmark pairs.

    ``sources``: image folders or files to train on instead of ``recipe.data`` (the notebooks'
    fallback photos and smoke crops); ``val_source``: validation images instead of ``recipe.val``.
    The CPPN family queries pixels: :func:`srlib.sources.digits.datasets_for` (global form) and
    :func:`srlib.sources.implicit_data.datasets_for` (local form, any scale) make its data.
    ``shard`` (index, count): worker ``index`` of a multi-worker run reads every count-th training image from
    ``index``, seeded by ``recipe.seed + 1000 * index``; where :func:`step_pairs` pairs in the step (a GPU), the
    image families yield numbered uint8 HR crops (:func:`srlib.data.hr_batches`) instead of pairs.
    """
    if shard:
        recipe = recipe.replace(seed=recipe.seed + 1000 * shard[0])
    if recipe.model == "cppn_gan":
        if recipe.args.get("form", "local") == "global":
            return digits.datasets_for(recipe, shard)
        return implicit_data.datasets_for(recipe, sources, val_source, shard)
    sources = list(sources) if sources is not None else [datasets.require(name) for name in recipe.data]
    if val_source is None and recipe.val == "holdout":
        sources, val_source = split_holdout(sources)
    elif val_source is None:
        val_source = datasets.require(recipe.val)
    y = recipe.channels == "y"
    space = "rgb" if y else recipe.channels
    if shard and step_pairs(recipe):
        train_ds = hr_batches(sources, recipe.patch * recipe.scale, recipe.batch, seed=recipe.seed, cache=True,
                              shard=shard)
    else:
        train_ds = make_dataset(sources, recipe.scale, recipe.patch, recipe.degradation, batch_size=recipe.batch,
                                cache=True, seed=recipe.seed, y_only=y, space=space, shard=shard)
    val_ds = benchmark_pairs(val_source, recipe.scale, y_only=y, degradation=recipe.degradation)
    return train_ds, _to_space(val_ds, recipe.channels)


def step_pairs(recipe, index=0):
    """The training step's (i, uint8 HR crops) -> (LR, HR) for worker ``index`` of a multi-worker run
    (:func:`srlib.data.pair_fn`) where the step runs on a GPU; None on CPUs (the degradation then runs in
    ``tf.data``, beside the step rather than in it), for the CPPN family, whose batches are pairs already, and for
    a codec degradation, whose LR is cached per file (:func:`srlib.codec_data.cached_pairs`)."""
    if recipe.model == "cppn_gan" or not gpus() or not degrade.get(recipe.degradation).in_graph:
        return None
    y = recipe.channels == "y"
    return pair_fn(recipe.scale, recipe.degradation, y, "rgb" if y else recipe.channels, recipe.seed + 1000 * index)


def _run_info(run_dir, recipe, policy):
    """Record the recipe and this session's machine and dtype policy in ``run_dir/run.json``
    (the first session's recipe stays; sessions of a resumed run accumulate)."""
    path = Path(run_dir) / "run.json"
    info = json.loads(path.read_text()) if path.exists() else {"recipe": recipe.to_dict(), "sessions": []}
    if Recipe.from_dict(info["recipe"]) != recipe:  # resuming or reusing it would mix two recipes in one run
        theirs = Recipe.from_dict(info["recipe"]).to_dict()
        changed = sorted(k for k, v in recipe.to_dict().items() if theirs[k] != v)
        raise ValueError(f"{run_dir}: holds a run of another recipe ({', '.join(changed)} differ); "
                         "train into another folder or delete this one")
    session = f"{machine()}; {policy}"
    if session not in info["sessions"]:
        info["sessions"].append(session)
        write_json(path, info)
    return info


def train(recipe, run_dir, sources=None, val_source=None, verbose=2, callbacks=()):
    """Train (or resume, or reuse the finished run in ``run_dir``) and return (model with the last epoch's
    weights, per-epoch log DataFrame); :func:`best` loads the checkpoint chosen on the validation images.

    ``run_dir`` belongs to one recipe: a different one raises ValueError rather than resume or reuse it.

    ``sources`` / ``val_source``: see :func:`datasets_for`; ``callbacks``: passed to :func:`srlib.training.train.fit`.
    The global dtype policy is float32 again when this returns.

    Where ``TF_CONFIG`` names several workers (``python -m srlib.launch``), every worker runs this call: each trains
    on its shard in :func:`srlib.training.distributed.fit` (no ``callbacks``, ``lr_patience``), ``recipe.batch`` per
    worker, the learning rate scaled to the global batch (:func:`srlib.training.distributed.scaled_learning_rate`); the
    chief (worker 0) writes ``run_dir``, the log returned on another worker is its own (training columns only).
    """
    index, workers = distributed.cluster()
    strategy = distributed.worker_strategy() if workers > 1 else None  # before any other TensorFlow op
    if strategy and (recipe.lr_patience or callbacks):
        raise ValueError("lr_patience and callbacks need model.fit: one worker only (train without TF_CONFIG)")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    policy = set_precision(recipe.precision)
    if not index:
        _run_info(run_dir, recipe, policy)
    log.info("%s: %s x%d, %d x %d steps, %s", run_dir.name, recipe.model, recipe.scale, recipe.epochs,
             recipe.steps, policy)
    try:
        train_ds, val_ds = datasets_for(recipe, sources, val_source, (index, workers) if strategy else None)
        total, rate = recipe.epochs * recipe.steps, distributed.scaled_learning_rate(recipe.learning_rate, workers)
        lr = keras.optimizers.schedules.CosineDecay(rate, total, alpha=0.01) if recipe.schedule == "cosine" else rate
        if strategy:
            model = distributed.fit(lambda: build(recipe), train_ds, val_ds, run_dir, recipe.epochs, recipe.steps,
                                    recipe.batch, learning_rate=lr, loss=loss_fn(recipe.loss), crop_border=recipe.scale,
                                    prepare=step_pairs(recipe, index), strategy=strategy, seed=recipe.seed,
                                    seconds=recipe.seconds, patience=recipe.patience, verbose=verbose)
            return model, pd.read_csv(distributed.output_dir(run_dir) / "log.csv")
        model = fit(lambda: build(recipe), train_ds, val_ds, run_dir, recipe.epochs, recipe.steps, recipe.batch,
                    learning_rate=lr, loss=loss_fn(recipe.loss), crop_border=recipe.scale, seed=recipe.seed,
                    patience=recipe.patience, lr_patience=recipe.lr_patience, verbose=verbose,
                    callbacks=[*callbacks, *([TimeBudget(recipe.seconds)] if recipe.seconds else [])])
    finally:
        set_precision("fp32")
    return model, pd.read_csv(run_dir / "log.csv")


def loss_fn(name):
    """The training loss of a recipe: 'mse', 'ssim' (1 - SSIM), 'mse+ssim' (MSE + (1 - SSIM), weights 1 and 1), or
    'mse+vgg' (MSE + VGG19 block2_conv2 features with ImageNet weights, which Keras downloads once: raises
    where they cannot be had)."""
    if name == "mse":
        return mse_loss
    if name == "ssim":
        return ssim_loss
    if name == "mse+ssim":
        return MixedLoss([(1.0, mse_loss), (1.0, ssim_loss)])
    if name == "mse+vgg":
        return MixedLoss([(1.0, mse_loss), (1.0, VGGLoss("block2_conv2", weights="imagenet"))])
    raise ValueError(f"unknown loss {name!r}: 'mse', 'ssim', 'mse+ssim' or 'mse+vgg'")


def best(run_dir):
    """The checkpoint of ``run_dir`` with the lowest validation loss (what :func:`srlib.inference.cards.export` should
    ship)."""
    return zoo.load_file(Path(run_dir) / "best.keras")
