"""Training: ``fit()`` with standard callbacks, resume and ``tf.distribute`` (precision: :mod:`srlib.precision`).

A run lives in one folder (``run_dir``):

    run_dir/best.keras      lowest validation loss so far
    run_dir/last.keras      end of the latest epoch
    run_dir/backup/         BackupAndRestore state (weights, optimizer, epoch)
    run_dir/log.csv         one row per epoch (CSVLogger, appended on resume)
    run_dir/tb/             TensorBoard logs (training values every 100 steps, validation every epoch)

Calling :func:`fit` again with the same ``run_dir`` after the process died
continues from the last completed epoch with the optimizer state and learning
rate it had, and skips the batches already consumed so a seeded dataset
continues where it stopped; the ``backup/`` folder is removed when training
finishes. (ReduceLROnPlateau's patience counter restarts at 0.)
"""

import json
import logging
import time
from pathlib import Path

import keras
import tensorflow as tf

from srlib.inference.zoo import load_file
from srlib.metrics import PSNR, mse_loss

log = logging.getLogger(__name__)


def get_strategy(name=None):
    """``tf.distribute`` strategy of one machine by name: None/'default', 'mirrored' (several workers:
    :mod:`srlib.training.distributed`, whose loop runs under MultiWorkerMirroredStrategy where Keras 3's ``fit``
    cannot)."""
    if name in (None, "default"):
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    raise ValueError(f"unknown strategy {name!r}: 'default' or 'mirrored' "
                     "(several workers: srlib.training.distributed)")


class Timing(keras.callbacks.Callback):
    """Adds ``samples_per_s`` and cumulative ``wall_s`` to each epoch's logs."""

    def __init__(self, batch_size, steps_per_epoch, wall_s=0.0):
        super().__init__()
        self.batch_size, self.steps = batch_size, steps_per_epoch
        self.wall = wall_s

    def on_epoch_begin(self, epoch, logs=None):
        self._t = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        dt = time.perf_counter() - self._t
        self.wall += dt
        if logs is not None:
            logs["samples_per_s"] = self.batch_size * self.steps / dt
            logs["wall_s"] = self.wall


class TimeBudget(keras.callbacks.Callback):
    """Stops training at the end of the first epoch after which ``seconds`` of training time have passed
    (counted from the run's log, so a resumed run keeps its budget): equal wall-clock comparisons."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and logs.get("wall_s", 0.0) >= self.seconds:
            self.model.stop_training = True


def _previous_wall(csv_path):
    """Cumulative wall time recorded in an existing log (0 for a new run)."""
    if not csv_path.exists():
        return 0.0
    lines = csv_path.read_text().strip().splitlines()
    if len(lines) < 2:
        return 0.0
    header = lines[0].split(",")
    return float(lines[-1].split(",")[header.index("wall_s")]) if "wall_s" in header else 0.0


def completed_epochs(run_dir):
    """Epochs finished by an interrupted run in ``run_dir`` (0 if none or finished)."""
    meta = Path(run_dir) / "backup" / "training_metadata.json"
    return int(json.loads(meta.read_text())["epoch"]) if meta.exists() else 0


def finished(run_dir, epochs):
    """True when ``run_dir`` holds a run that completed ``epochs`` epochs (nothing left to resume)."""
    run_dir = Path(run_dir)
    csv = run_dir / "log.csv"
    if completed_epochs(run_dir) or not csv.exists() or not (run_dir / "last.keras").exists():
        return False
    return len(csv.read_text().strip().splitlines()) - 1 >= epochs


def fit(
    build_model,
    train_ds,
    val_ds,
    run_dir,
    epochs,
    steps_per_epoch,
    batch_size,
    learning_rate=1e-3,
    loss=mse_loss,
    crop_border=0,
    patience=None,
    lr_patience=None,
    lr_factor=0.5,
    min_lr=1e-5,
    strategy=None,
    seed=0,
    verbose=1,
    callbacks=(),
):
    """Train a model built by ``build_model()`` and return it (with its last weights).

    A run already finished in ``run_dir`` is not repeated: its last model is returned.

    Args:
      build_model: zero-argument function returning an uncompiled Keras model
        (called inside the strategy scope).
      train_ds: repeating dataset of (lr, hr) batches.
      val_ds: dataset of (lr, hr) pairs evaluated after each epoch.
      run_dir: folder for checkpoints and logs (see module docstring).
      epochs, steps_per_epoch, batch_size: schedule; ``batch_size`` only for the speed log.
      learning_rate: a float or a ``keras.optimizers.schedules`` schedule (its
        step count is part of the optimizer state, so resume keeps it).
      loss: Keras loss callable.
      crop_border: border excluded from the validation PSNR.
      patience: EarlyStopping patience on val_loss (None: off).
      lr_patience: ReduceLROnPlateau patience on val_loss (None: off).
      strategy: a ``tf.distribute.Strategy`` of one machine or a name for :func:`get_strategy` (several
        workers: :func:`srlib.training.distributed.fit`; Keras 3's ``fit`` cannot run under MultiWorkerMirroredStrategy,
        keras-team/keras#20585).
      seed: seeds Python, NumPy and TF for repeatable runs.
      callbacks: extra Keras callbacks, run after the standard ones (e.g. one that stops or
        inspects training; a new one is needed per call).
    """
    keras.utils.set_random_seed(seed)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if finished(run_dir, epochs):
        log.info("%s: finished run reused (%d epochs)", run_dir, epochs)
        return load_file(run_dir / "last.keras")
    if strategy is None or isinstance(strategy, str):
        strategy = get_strategy(strategy)
    with strategy.scope():
        model = build_model()
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss=loss,
            metrics=[PSNR(y_channel=False, crop_border=crop_border)],
        )
    done = completed_epochs(run_dir)
    if done:
        log.info("%s: resuming after epoch %d of %d", run_dir, done, epochs)
        train_ds = train_ds.skip(done * steps_per_epoch)
    csv = run_dir / "log.csv"
    standard = [
        keras.callbacks.BackupAndRestore(str(run_dir / "backup")),
        Timing(batch_size, steps_per_epoch, _previous_wall(csv)),
        keras.callbacks.ModelCheckpoint(str(run_dir / "best.keras"), monitor="val_loss", save_best_only=True),
        keras.callbacks.ModelCheckpoint(str(run_dir / "last.keras")),
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.CSVLogger(str(csv), append=True),
        keras.callbacks.TensorBoard(str(run_dir / "tb"), write_graph=False, update_freq=100),  # every 100 steps
    ]
    if lr_patience:
        standard.append(
            keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=lr_factor, patience=lr_patience, min_lr=min_lr)
        )
    if patience:
        standard.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience))
    model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        callbacks=[*standard, *callbacks],
        verbose=verbose,
    )
    return model
