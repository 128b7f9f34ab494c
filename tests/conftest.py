"""Shared pytest fixtures for the srlib unit tests.

Every test session trains into its own temporary runs folder (``SRLIB_RUNS``, inherited by the
notebook kernels and subprocesses it starts), so two test runs on one machine never share a
checkpoint, and a finished run left by an earlier session is never reused instead of trained.
"""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["SRLIB_RUNS"] = tempfile.mkdtemp(prefix="srlib-test-runs-")
atexit.register(shutil.rmtree, os.environ["SRLIB_RUNS"], ignore_errors=True)

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402


@pytest.fixture
def rng():
    """A seeded NumPy generator, fresh for every test."""
    return np.random.default_rng(1234)


@pytest.fixture(scope="module")
def photo():
    """A real photo, float32 (96, 120, 3): a crop of scikit-image's astronaut (face, suit, flag: edges and texture)."""
    from skimage import data

    return data.astronaut()[40:136, 150:270].astype(np.float32) / 255


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
