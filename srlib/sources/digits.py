"""MNIST digits for the global-form CPPN (:mod:`srlib.models.cppn_gan`): the sets, their LR, the generator inputs,
the training and validation datasets, and the scores.

Digits are (N, 28, 28, 1) float32 in [0, 1]. Where only the 10,000 test digits are at hand, a model trained on one
half ('MNIST-test-a' / 'MNIST-test-b') is scored on the other.
"""

import gzip

import numpy as np
import tensorflow as tf

from srlib.degrade import benchmark_lr
from srlib.layers import coord_grid
from srlib.metrics import psnr, sharpness, ssim
from srlib.sources import datasets

MNIST_HALVES = {"MNIST-test-a": slice(0, 5000), "MNIST-test-b": slice(5000, 10000)}
DIGIT_VAL = 500  # validation digits: the last ones of the training digits


def digits(name):
    """Digits (N, 28, 28, 1) of a data name: 'MNIST' (the 60,000 training digits) or 'MNIST-test-a' / 'MNIST-test-b'
    (the first / last 5,000 of the 10,000 test digits)."""
    if name == "MNIST":
        return datasets.mnist("train")
    if name not in MNIST_HALVES:
        raise ValueError(f"unknown digit set {name!r}: 'MNIST', {', '.join(map(repr, MNIST_HALVES))}")
    return datasets.mnist("t10k")[MNIST_HALVES[name]]


def digit_labels(name):
    """The labels (N,) int64 of :func:`digits` ``(name)``, from MNIST's IDX labels file in the data directory
    (DatasetError when it is absent or not one)."""
    split = "train" if name == "MNIST" else "t10k"
    if name != "MNIST" and name not in MNIST_HALVES:
        raise ValueError(f"unknown digit set {name!r}: 'MNIST', {', '.join(map(repr, MNIST_HALVES))}")
    f = datasets.path("MNIST") / f"{split}-labels-idx1-ubyte.gz"
    if not f.is_file():
        raise datasets.DatasetError(f"{f}: MNIST labels file absent")
    with gzip.open(f) as fh:
        raw = fh.read()
    magic, n = np.frombuffer(raw[:8], ">i4")
    if magic != 2049 or len(raw) != 8 + n:
        raise datasets.DatasetError(f"{f}: not an MNIST IDX labels file (magic {magic}, {len(raw)} bytes)")
    labels = np.frombuffer(raw[8:], np.uint8).astype(np.int64)
    return labels if name == "MNIST" else labels[MNIST_HALVES[name]]


def test_digits(name):
    """The test digits a model trained on ``name`` is scored on: all 10,000, or the other half."""
    test = datasets.mnist("t10k")
    if name == "MNIST":
        return test
    other = "MNIST-test-b" if name == "MNIST-test-a" else "MNIST-test-a"
    return test[MNIST_HALVES[other]]


def digit_lr(hr, lr_size):
    """The benchmark LR (:func:`srlib.degrade.benchmark_lr`, MATLAB bicubic rounded to uint8 levels) of digits
    (N, H, H, 1) at ``lr_size`` x ``lr_size``: (N, lr_size, lr_size, 1) float32."""
    return benchmark_lr(hr, hr.shape[1] / lr_size)[1]


def digit_inputs(lr, hr_size):
    """The generator inputs for LR digits (N, s, s, 1) rendered at ``hr_size``: {"lr", "coord"}."""
    grid = coord_grid(hr_size, hr_size)
    return {"lr": tf.constant(lr), "coord": tf.repeat(grid[None], len(lr), axis=0)}


def datasets_for(recipe, shard=None):
    """(training, validation) datasets of a global-form recipe: the digits of ``recipe.data[0]`` (:func:`digits`),
    the last :data:`DIGIT_VAL` for validation, LR by :func:`digit_lr` at ``args['lr_size']``, all pixels queried:
    ({"lr" (B, s, s, 1), "coord" (B, 784, 2)}, hr (B, 784, 1)). ``shard`` (index, count): a worker's part of the
    training digits (every count-th from ``index``)."""
    index, count = shard or (0, 1)
    lr_size = recipe.args.get("lr_size", 7)
    hr = digits(recipe.data[0])
    hr_size = hr.shape[1]

    def pairs(images):
        return tf.data.Dataset.from_tensor_slices((digit_lr(images, lr_size), images.reshape(len(images), -1, 1)))

    grid = coord_grid(hr_size, hr_size)
    inputs = lambda lr, y: ({"lr": lr, "coord": tf.repeat(grid[None], tf.shape(lr)[0], 0)}, y)  # noqa: E731
    train = pairs(hr[:-DIGIT_VAL][index::count]).shuffle(len(hr), seed=recipe.seed).repeat().batch(recipe.batch, True)
    val = pairs(hr[-DIGIT_VAL:]).batch(100)
    return train.map(inputs).prefetch(tf.data.AUTOTUNE), val.map(inputs)


def digit_scores(sr, hr, batch=1000):
    """Mean PSNR (dB) and SSIM of SR digits against HR, both (N, 28, 28, 1) in [0, 1], rounded to uint8 levels,
    no border shaved; and the sharpness ratio of the whole set (:func:`srlib.metrics.sharpness`, pooled, SR not
    rounded; 1: as sharp as HR)."""
    p = np.concatenate([psnr(sr[i : i + batch], hr[i : i + batch], y_channel=False).numpy()
                        for i in range(0, len(hr), batch)])
    s = np.concatenate([ssim(sr[i : i + batch], hr[i : i + batch], y_channel=False).numpy()
                        for i in range(0, len(hr), batch)])
    sharp = sharpness(sr, hr, y_channel=False, round_sr=False, pooled=True)
    return {"psnr": float(p.mean()), "ssim": float(s.mean()), "sharpness": float(sharp)}
