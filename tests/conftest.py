"""Shared pytest fixtures for the srlib unit tests."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402


@pytest.fixture
def rng():
    """A seeded NumPy generator, fresh for every test."""
    return np.random.default_rng(1234)


def map_over_dynamic_batches(fn, batches, channels=3, dtype=tf.float32):
    """Run ``fn`` through ``tf.data.Dataset.map`` on NHWC batches whose N, H, W are unknown (graph mode).

    Returns the list of mapped batches as NumPy arrays.
    """
    spec = tf.TensorSpec((None, None, None, channels), dtype)
    ds = tf.data.Dataset.from_generator(lambda: iter(batches), output_signature=spec)
    ds = ds.map(fn)
    return [b.numpy() for b in ds]


@pytest.fixture
def dynamic_map():
    """The :func:`map_over_dynamic_batches` helper, as a fixture."""
    return map_over_dynamic_batches
