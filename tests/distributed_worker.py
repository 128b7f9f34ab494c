"""One process of the multi-worker tests (tests/test_distributed.py): tiny models on tiny synthetic images.

    python tests/distributed_worker.py steps RUN_DIR [KILL_AT]   ESPCN x2, 2 epochs x 10 steps, 4 pairs per worker
    python tests/distributed_worker.py reference OUT_JSON        the same 20 global batches in one process
    python tests/distributed_worker.py families RUN_DIR IMAGES   cnn, autoencoder, VAE, local CPPN through
                                                                 experiment.train; the CPPN-GAN through fit

The cluster comes from ``TF_CONFIG`` (set by the test). ``steps`` writes RUN_DIR/steps_<i>.json (each step's loss)
and RUN_DIR/weights_<i>.npz; with KILL_AT, worker 1 dies (os._exit(9)) after that step.
"""

import json
import logging
import os
import sys

import numpy as np
import tensorflow as tf

from srlib.training import distributed

SCALE, HR, BATCH, LEARNING_RATE, STEPS, EPOCHS = 2, 16, 4, 3e-3, 10, 2
IMAGES = (np.random.default_rng(0).random((8, 32, 32, 3)) * 255).astype(np.uint8)


def build():
    from srlib.models.espcn import espcn

    return espcn(SCALE, 1, "relu", filters=(8, 8))


def worker_data(index, count):
    """Worker ``index`` of ``count``: its uint8 HR crops (i, (4, 16, 16, 3)) and the step's pairing function."""
    from srlib.data import hr_batches, pair_fn

    seed = 1 + 1000 * index
    return hr_batches(IMAGES, HR, BATCH, 4, seed=seed, shard=(index, count)), pair_fn(SCALE, seed=seed)


def val_pairs():
    lr = tf.image.resize(IMAGES[:2, :, :, :1] / 255.0, (16, 16), "area")
    return tf.data.Dataset.from_tensor_slices((tf.cast(lr, "float32"), IMAGES[:2, :, :, :1] / np.float32(255))).batch(2)


def steps(run_dir, kill_at=0):
    index, count = distributed.cluster()
    strategy = distributed.worker_strategy(threads=1)
    tf.config.experimental.enable_op_determinism()
    tf.random.set_seed(0)  # as in reference(): a dataset's shuffle order depends on the global seed too
    train_ds, prepare = worker_data(index, count)
    losses = []

    def on_step(step, logs):
        losses.append(logs["loss"])
        if step == kill_at and index == 1:
            os._exit(9)

    model = distributed.fit(build, train_ds, val_pairs(), run_dir, EPOCHS, STEPS, BATCH, LEARNING_RATE,
                            prepare=prepare, strategy=strategy, checkpoint_steps=5, on_step=on_step)
    with open(f"{run_dir}/steps_{index}.json", "w") as f:
        json.dump(losses, f)
    np.savez(f"{run_dir}/weights_{index}.npz", *model.get_weights())


def reference(out):
    """Each step's loss of the model's own train step on the concatenated batches of both workers, one process."""
    import keras

    from srlib.metrics import PSNR, mse_loss

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(0)
    model = build()
    model.compile(keras.optimizers.Adam(LEARNING_RATE), mse_loss, metrics=[PSNR(y_channel=False)])
    shards = [worker_data(i, 2) for i in range(2)]
    iterators = [iter(ds) for ds, _ in shards]
    losses = []
    for _ in range(EPOCHS * STEPS):
        pairs = [prepare(*next(it)) for it, (_, prepare) in zip(iterators, shards, strict=True)]
        lr, hr = (tf.concat(parts, 0) for parts in zip(*pairs, strict=True))
        losses.append(float(model.train_on_batch(lr, hr, return_dict=True)["loss"]))
    with open(out, "w") as f:
        json.dump(losses, f)


def families(run_dir, images):
    """Every family through the multi-worker loop: a few steps each, weights written per family and worker."""
    from srlib.models.cppn_gan import cppn_gan
    from srlib.sources.digits import digit_inputs, digit_lr
    from srlib.training.experiment import Recipe, train

    index, _ = distributed.cluster()
    strategy = distributed.worker_strategy(threads=1)
    tiny = dict(scale=2, patch=8, batch=2, steps=3, epochs=1, precision="fp32", schedule="constant")
    recipes = {"cnn": Recipe("cnn", args={"features": 8, "shrink": 4, "mapping": 1}, **tiny),
               "autoencoder": Recipe("autoencoder", args={"levels": 1, "width": 8}, **tiny),
               "vae": Recipe("vae", args={"latent": 2, "width": 8, "warmup": 5}, **tiny),
               "cppn_local": Recipe("cppn_gan", args={"form": "local", "latent": 4, "width": 8, "depth": 1,
                                                      "filters": [8, 8, 8, 8]}, **tiny)}
    files = sorted(os.path.join(images, f) for f in os.listdir(images))
    for name, recipe in recipes.items():
        model, _ = train(recipe, f"{run_dir}/{name}", sources=files, val_source=files[:1], verbose=0)
        np.savez(f"{run_dir}/{name}/weights_{index}.npz", *model.get_weights())
    hr = IMAGES[:8, :28, :28, :1] / np.float32(255)  # the CPPN-GAN (global form, discriminator) on 8 "digits"
    pairs = tf.data.Dataset.from_tensor_slices((digit_inputs(digit_lr(hr, 7), 28), hr.reshape(8, -1, 1)))
    gan = lambda: cppn_gan(4, form="global", latent=4, width=16, depth=2, adversarial=0.05)  # noqa: E731
    model = distributed.fit(gan, pairs.shard(2, index).repeat().batch(2), pairs.batch(4), f"{run_dir}/gan", 1, 3, 2,
                            strategy=strategy, verbose=0)
    np.savez(f"{run_dir}/gan/weights_{index}.npz", *model.get_weights())


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    mode, *args = sys.argv[1:]
    {"steps": lambda: steps(args[0], int(args[1]) if len(args) > 1 else 0), "reference": lambda: reference(args[0]),
     "families": lambda: families(*args)}[mode]()
