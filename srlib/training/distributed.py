"""Multi-worker data-parallel training: ``tf.distribute.MultiWorkerMirroredStrategy`` with a custom loop.

Keras 3's ``model.fit`` cannot run under that strategy (keras-team/keras#20585: it reduces a per-replica batch
eagerly to build the model), so :func:`fit` runs each step itself: every worker reads its own shard of the
images, turns its uint8 HR crops into (LR, HR) inside the step (``prepare``, e.g. :func:`srlib.data.pair_fn`),
calls the model's own ``train_step`` (Keras' for ESPCN / CNN / autoencoder, the VAE's and the CPPN-GAN's
own), and the optimizer sums the gradients of all workers (all-reduce) before one identical update everywhere.

    index, workers = cluster()                            # from TF_CONFIG; (0, 1) when there is none
    strategy = worker_strategy()                          # first, before any other TensorFlow op
    mine = hr_batches(files, 51, 32, seed=index, shard=(index, workers))   # uint8 HR crops of this worker's files
    model = fit(build, mine, val, run_dir, epochs=10, steps_per_epoch=500, batch_size=32,
                learning_rate=scaled_learning_rate(1e-3, workers), prepare=pair_fn(3, seed=index), strategy=strategy)

A run folder holds what :func:`srlib.training.train.fit` writes, all by the chief (worker 0): ``log.csv``,
``best.keras``, ``last.keras``, plus ``ckpt/`` (a ``tf.train.CheckpointManager``: weights, optimizer state and step,
removed when training finishes). The other workers write their scratch checkpoint and a training-only log under
``run_dir/workers/worker_<i>/``. Started again after any worker died, every worker restores the chief's
latest checkpoint and skips the batches it had consumed, so the run continues as if never stopped.
"""

import json
import logging
import math
import os
import shutil
import time
from pathlib import Path

import keras
import tensorflow as tf

from srlib.inference.zoo import load_file
from srlib.metrics import PSNR, mse_loss
from srlib.training.train import finished

log = logging.getLogger(__name__)


def cluster():
    """(task index, number of workers) of this process from ``TF_CONFIG`` (worker tasks only; worker 0 is the
    chief); (0, 1) without one."""
    config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    if "chief" in config.get("cluster", {}):
        raise ValueError("TF_CONFIG: name worker tasks only (worker 0 is the chief), not a 'chief' task")
    return int(config.get("task", {}).get("index", 0)), max(1, len(config.get("cluster", {}).get("worker", [])))


def output_dir(run_dir):
    """Where this process writes: ``run_dir`` for the chief (worker 0), ``run_dir/workers/worker_<i>`` else."""
    index = cluster()[0]
    return Path(run_dir) / "workers" / f"worker_{index}" if index else Path(run_dir)


def worker_strategy(threads=None):
    """The ``MultiWorkerMirroredStrategy`` of ``TF_CONFIG`` with ``threads`` intra-op threads for this worker
    (default ``$SRLIB_THREADS``, else all cores) and one inter-op thread; call it before any other TensorFlow op
    (once per process: later calls return the same strategy). Ring all-reduce on CPUs, NCCL where there are GPUs."""
    global _STRATEGY
    if _STRATEGY is not None:
        return _STRATEGY
    threads = int(threads or os.environ.get("SRLIB_THREADS") or os.cpu_count())
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    ring = tf.distribute.experimental.CommunicationImplementation.RING
    options = tf.distribute.experimental.CommunicationOptions(
        implementation=ring if not tf.config.list_physical_devices("GPU") else
        tf.distribute.experimental.CommunicationImplementation.AUTO)
    _STRATEGY = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    return _STRATEGY


_STRATEGY = None  # this process's one MultiWorkerMirroredStrategy (TensorFlow allows one)


def scaled_learning_rate(learning_rate, workers):
    """The learning rate for ``workers`` x the batch that ``learning_rate`` was tuned for: square-root scaling,
    ``learning_rate * sqrt(workers)`` (the rule for Adam: Malladi et al., NeurIPS 2022; SGD's linear rule
    over-steps an adaptive optimiser, whose step size does not shrink with the gradient noise)."""
    return learning_rate * math.sqrt(workers)


@tf.function
def _votes(strategy, flag):
    """The sum of ``flag`` over all replicas (an all-reduce)."""
    return strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(tf.identity, args=(flag,)), axis=None)


def _agree(strategy, flag):
    """True on every worker when ``flag`` is true on any one (also a barrier)."""
    return bool(_votes(strategy, tf.constant(float(flag))) > 0)


def _compile(model, learning_rate, loss, crop_border):
    """Compile as :func:`srlib.training.train.fit` does; a model with its own ``train_step`` gets no Keras loss (it has
    its own, and Keras would build one for outputs it may not fit: the CPPN's (N, Q, C) queries)."""
    own = type(model).train_step is not keras.Model.train_step
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=None if own else loss,
                  metrics=[PSNR(y_channel=False, crop_border=crop_border)])


def _twin(build_model, model, learning_rate, loss, crop_border):
    """A copy of ``model`` outside the strategy (validation and ``.keras`` files on one process)."""
    twin = build_model()
    _compile(twin, learning_rate, loss, crop_border)
    twin.set_weights(model.get_weights())
    return twin


class Step:
    """The distributed training step of ``model``: ``step(iterator)`` -> this step's logs over the global batch.

    Each replica resets the model's metrics, applies ``prepare`` to its batch (e.g. (i (), uint8 HR crops
    (B, S, S, 3)) -> (LR (B, S/s, S/s, C), HR (B, S, S, C))) and runs ``model.train_step`` on it; the metric
    results (sync-on-read sums) are then read across all replicas: {name: () float32}.
    """

    def __init__(self, strategy, model, prepare=None):
        self.strategy, self.model, self.prepare = strategy, model, prepare

    def _replica(self, batch):
        self.model.reset_metrics()
        self.model.train_step(self.prepare(*batch) if self.prepare else batch)

    @tf.function
    def __call__(self, iterator):
        self.strategy.run(self._replica, args=(next(iterator),))
        return self.model.get_metrics_result()


def _symbolic(spec):
    """A batch of placeholders with the shapes and dtypes of ``spec`` (a nest of ``tf.TensorSpec``)."""
    return tf.nest.map_structure(lambda s: keras.KerasTensor(tuple(s.shape), s.dtype.name), spec)


def fit(build_model, train_ds, val_ds, run_dir, epochs, steps_per_epoch, batch_size, learning_rate=1e-3,
        loss=mse_loss, crop_border=0, prepare=None, strategy=None, seed=0, seconds=None, patience=None,
        checkpoint_steps=None, on_step=None, verbose=1):
    """Train a model built by ``build_model()`` on every worker of ``strategy``; returns it with its last weights
    (a model outside the strategy). A run finished in ``run_dir`` is not repeated: its last model is returned.

    Args:
      build_model: zero-argument function returning an uncompiled Keras model (called in the strategy's scope).
      train_ds: this worker's repeating dataset of batches of ``batch_size``, read from its own shard of the
        files (:func:`cluster`; :func:`srlib.data.hr_batches` with ``shard=``) and seeded by its index.
      val_ds: dataset of (x, y) pairs the chief evaluates after each epoch (``val_loss``, ``val_psnr``).
      run_dir: the run folder (module docstring); the same path on every worker (a shared file system when the
        workers are on several machines, so that they resume from the chief's checkpoint).
      epochs, steps_per_epoch: schedule; a step is one global batch of ``batch_size`` x workers samples.
      batch_size: samples per worker and step.
      learning_rate: for the global batch (:func:`scaled_learning_rate`); a float or a Keras schedule.
      loss: Keras loss (models with their own ``train_step`` use their own).
      crop_border: border excluded from the PSNR.
      prepare: TF function run in each replica's step on a batch of ``train_ds``, returning (x, y)
        (:func:`srlib.data.pair_fn`: uint8 HR crops -> (LR, HR)); None: the batches are (x, y) already.
      strategy: a ``tf.distribute`` strategy (:func:`worker_strategy`); None: the current one (one process).
      seed: seeds Python, NumPy and TF.
      seconds: stop after the first epoch that ends with this much training time (on any worker).
      patience: stop when ``val_loss`` has not improved for this many epochs (None: off).
      checkpoint_steps: checkpoint every this many steps as well as at each epoch's end (None: epochs only).
      on_step: called on every worker after each step with (step number from 1, that step's logs: floats over
        the global batch).
    """
    keras.utils.set_random_seed(seed)
    strategy = strategy or tf.distribute.get_strategy()
    run_dir, out = Path(run_dir), output_dir(run_dir)
    chief = out == run_dir
    out.mkdir(parents=True, exist_ok=True)
    if _agree(strategy, chief and finished(run_dir, epochs)):
        log.info("%s: finished run reused (%d epochs)", run_dir, epochs)
        return load_file(run_dir / "last.keras")
    with strategy.scope():
        model = build_model()
        _compile(model, learning_rate, loss, crop_border)
        spec = train_ds.map(prepare).element_spec if prepare else train_ds.element_spec
        model._symbolic_build(data_batch=_symbolic(spec))  # what fit() does, on a local batch's shapes
        model.optimizer.build(model.trainable_variables)
    step = tf.Variable(0, dtype=tf.int64, trainable=False)  # this worker's count (the same on all)
    state = tf.train.Checkpoint(variables=[v.value for v in model.variables],
                                optimizer=[v.value for v in model.optimizer.variables], step=step)
    manager = tf.train.CheckpointManager(state, out / "ckpt", max_to_keep=1)
    latest = tf.train.latest_checkpoint(str(run_dir / "ckpt")) or manager.latest_checkpoint
    if latest:
        state.restore(latest).assert_existing_objects_matched()
        log.info("%s: resuming at step %d of %d", run_dir, int(step), epochs * steps_per_epoch)
    done = int(step)
    data = strategy.distribute_datasets_from_function(lambda ctx: train_ds.skip(done))
    iterator, train_step = iter(data), Step(strategy, model, prepare)
    csv = out / "log.csv"
    rows = _read_log(csv, done // steps_per_epoch)
    wall = rows[-1]["wall_s"] if rows else 0.0
    for epoch in range(done // steps_per_epoch, epochs):
        t, sums, n = time.perf_counter(), {}, 0
        while int(step) < (epoch + 1) * steps_per_epoch:
            logs = {k: float(v) for k, v in train_step(iterator).items()}
            sums = {k: sums.get(k, 0.0) + v for k, v in logs.items()}
            n += 1
            step.assign_add(1)
            if on_step:
                on_step(int(step), logs)
            if checkpoint_steps and int(step) % checkpoint_steps == 0:
                manager.save(int(step))
        dt = time.perf_counter() - t
        wall += dt
        rows.append({"epoch": epoch, **{k: v / n for k, v in sums.items()}, "wall_s": wall,
                     "samples_per_s": batch_size * strategy.num_replicas_in_sync * n / dt})
        if chief:
            twin = _twin(build_model, model, learning_rate, loss, crop_border)
            rows[-1] |= {f"val_{k}": v for k, v in twin.evaluate(val_ds, return_dict=True, verbose=0).items()}
            twin.save(run_dir / "last.keras")
            if len(_since_best(rows)) == 0:
                twin.save(run_dir / "best.keras")
        _write_log(csv, rows)  # before the checkpoint: a resumed run reads only the rows of its checkpoint's epochs
        manager.save(int(step))
        if verbose:
            log.info("epoch %d/%d: %s", epoch + 1, epochs, ", ".join(f"{k} {v:.4g}" for k, v in rows[-1].items()))
        stop = chief and bool(patience) and len(_since_best(rows)) >= patience
        if _agree(strategy, stop or (seconds is not None and wall >= seconds)):
            break
    _agree(strategy, False)  # every worker returns after the chief's files are written
    shutil.rmtree(out / "ckpt", ignore_errors=True)
    return _twin(build_model, model, learning_rate, loss, crop_border)


def _since_best(rows):
    """The rows after the one with the lowest ``val_loss`` (of those that have one)."""
    losses = [r.get("val_loss", math.inf) for r in rows]
    return rows[losses.index(min(losses)) + 1:]


def _read_log(csv, epochs):
    """The first ``epochs`` rows of a run's log (dicts of floats; ``epoch`` an int); [] when there is none."""
    if not csv.exists():
        return []
    lines = csv.read_text().strip().splitlines()
    header = lines[0].split(",")
    return [{k: (int(v) if k == "epoch" else float(v)) for k, v in zip(header, line.split(","), strict=True) if v}
            for line in lines[1:epochs + 1]]


def _write_log(csv, rows):
    """The rows as CSV (``epoch`` first, then the other columns sorted, as Keras' CSVLogger writes them)."""
    keys = ["epoch", *sorted({k for r in rows for k in r} - {"epoch"})]
    text = "\n".join([",".join(keys), *(",".join(str(r.get(k, "")) for k in keys) for r in rows)]) + "\n"
    tmp = csv.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(csv)
