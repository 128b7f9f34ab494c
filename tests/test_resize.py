"""Tests for srlib.resize against MATLAB imresize's formula (an independent loop reference) and hand-computed values."""

import math

import numpy as np
import pytest
import tensorflow as tf

from srlib.resize import imresize

# ---------------------------------------------------------------------------
# Independent MATLAB imresize reference (plain loops, float64)
# ---------------------------------------------------------------------------


def _matlab_cubic(x):
    """MATLAB's cubic(x) from imresize.m (Keys, a = -0.5), for one scalar."""
    ax = abs(x)
    if ax <= 1:
        return 1.5 * ax**3 - 2.5 * ax**2 + 1
    if ax <= 2:
        return -0.5 * ax**3 + 2.5 * ax**2 - 4 * ax + 2
    return 0.0


def _matlab_contributions(in_length, out_length, scale):
    """imresize.m's contributions(): per output pixel, the 1-based input indices and their weights."""
    if scale < 1:  # antialiasing: h(x) = scale * cubic(scale * x), kernel_width = 4 / scale
        kernel_width = 4.0 / scale

        def h(x):
            return scale * _matlab_cubic(scale * x)
    else:
        kernel_width = 4.0
        h = _matlab_cubic
    aux = list(range(1, in_length + 1)) + list(range(in_length, 0, -1))  # symmetric padding
    p = math.ceil(kernel_width) + 2
    rows = []
    for u in range(1, out_length + 1):
        x = u / scale + 0.5 * (1 - 1 / scale)
        left = math.floor(x - kernel_width / 2)
        taps = [(left + k, h(x - (left + k))) for k in range(p)]
        total = sum(w for _, w in taps)
        rows.append([(aux[(j - 1) % len(aux)], w / total) for j, w in taps])
    return rows


def _matlab_resize_axis(a, axis, out_length, scale):
    """Resize numpy array ``a`` along ``axis`` with the contributions above, one output pixel at a time."""
    a = np.moveaxis(np.asarray(a, np.float64), axis, 0)
    out = np.zeros((out_length,) + a.shape[1:])
    for u, row in enumerate(_matlab_contributions(a.shape[0], out_length, scale)):
        for j, w in row:
            out[u] += w * a[j - 1]
    return np.moveaxis(out, 0, axis)


def matlab_imresize(img, scale=None, size=None):
    """MATLAB imresize(img, scale | [h w], 'bicubic') of an HWC float64 image."""
    h, w = img.shape[:2]
    if size is None:
        size = (math.ceil(h * scale), math.ceil(w * scale))
        sh = sw = scale
    else:
        sh, sw = size[0] / h, size[1] / w
    # MATLAB resizes the dimension with the smaller scale first.
    if sw < sh:
        return _matlab_resize_axis(_matlab_resize_axis(img, 1, size[1], sw), 0, size[0], sh)
    return _matlab_resize_axis(_matlab_resize_axis(img, 0, size[0], sh), 1, size[1], sw)


# ---------------------------------------------------------------------------
# imresize
# ---------------------------------------------------------------------------


def test_reference_contributions_hand_values():
    """Sanity check of the test's own reference: x2 upscaling weights worked out by hand.

    Output pixel 1 of a length-2 signal sits at x = 0.75; taps at distances 1.75, 0.75, -0.25, -1.25
    have cubic weights -0.0234375, 0.2265625, 0.8671875, -0.0703125 (sum 1).
    """
    row = _matlab_contributions(2, 4, 2.0)[0]
    weights = [w for _, w in row]
    np.testing.assert_allclose(weights, [0, -0.0234375, 0.2265625, 0.8671875, -0.0703125, 0], atol=1e-15)
    assert [j for j, _ in row] == [2, 2, 1, 1, 2, 2]  # indices -2..3 mirrored into 1..2


def test_imresize_upscale_step_hand_computed():
    """MATLAB imresize([0 1], 2) = [-0.09375 0.203125 0.796875 1.09375] (computed by hand from cubic())."""
    x = np.array([[[0.0], [1.0]]])  # (1, 2, 1)
    y = imresize(x, scale=2).numpy()
    assert y.shape == (2, 4, 1)
    expected = np.array([-0.09375, 0.203125, 0.796875, 1.09375])
    np.testing.assert_allclose(y[..., 0], np.stack([expected, expected]), atol=1e-12)


def test_imresize_downscale_step_hand_computed():
    """MATLAB imresize([0 0 0 0 1 1 1 1], 0.5) with antialiasing (h(x) = 0.5 cubic(0.5 x), width 8).

    Output u sits at x = 2u - 0.5; taps at half-distances 1.75, 1.25, 0.75, 0.25 weigh
    0.5 * (-0.0234375, -0.0703125, 0.2265625, 0.8671875), giving [-0.01171875, 0.06640625, 0.93359375, 1.01171875].
    """
    row = np.array([0, 0, 0, 0, 1, 1, 1, 1], np.float64)
    x = np.broadcast_to(row[None, :, None], (4, 8, 1))
    y = imresize(x, scale=0.5).numpy()
    assert y.shape == (2, 4, 1)
    expected = np.array([-0.01171875, 0.06640625, 0.93359375, 1.01171875])
    np.testing.assert_allclose(y[..., 0], np.stack([expected, expected]), atol=1e-12)


@pytest.mark.parametrize("scale", [2, 3, 0.5, 1 / 3, 0.25])
def test_imresize_constant_stays_constant(scale):
    """Rows of the resize matrix sum to 1, so a constant image stays exactly constant."""
    x = np.full((6, 9, 3), 0.3712)
    y = imresize(x, scale=scale).numpy()
    assert y.shape == (math.ceil(6 * scale), math.ceil(9 * scale), 3)
    np.testing.assert_allclose(y, 0.3712, atol=1e-12)


@pytest.mark.parametrize("scale", [0.5, 1 / 3, 0.25, 2, 3, 0.7])
def test_imresize_matches_matlab_loop_reference(rng, scale):
    """imresize equals the loop implementation of MATLAB's contributions() on a random image."""
    x = rng.random((9, 13, 2))
    y = imresize(x, scale=scale).numpy()
    ref = matlab_imresize(x, scale=scale)
    assert y.shape == ref.shape
    np.testing.assert_allclose(y, ref, atol=1e-10)


@pytest.mark.parametrize(("in_hw", "out_hw"), [((7, 11), (3, 4)), ((13, 5), (5, 2)), ((255, 7), (85, 3))])
def test_imresize_output_size_third(in_hw, out_hw):
    """Scale 1/3 gives ceil(side / 3) on odd sizes, and exactly side / 3 on odd multiples of 3 (255 -> 85)."""
    x = np.zeros(in_hw + (1,), np.float32)
    assert tuple(imresize(x, scale=1 / 3).shape) == out_hw + (1,)


def test_imresize_size_argument(rng):
    """size=(h, w) uses per-axis scales out/in, as MATLAB imresize(img, [h w])."""
    x = rng.random((9, 12, 3))
    y = imresize(x, size=(5, 7)).numpy()
    assert y.shape == (5, 7, 3)
    np.testing.assert_allclose(y, matlab_imresize(x, size=(5, 7)), atol=1e-10)
    y2 = imresize(x, size=(14, 6)).numpy()  # one axis up, one down
    np.testing.assert_allclose(y2, matlab_imresize(x, size=(14, 6)), atol=1e-10)


def test_imresize_float32_computation(rng):
    """dtype=tf.float32 computes in single precision and stays within 1e-5 of the float64 MATLAB reference."""
    x = rng.random((10, 12, 3)).astype(np.float32)
    y = imresize(x, scale=1 / 3, dtype=tf.float32)
    assert y.dtype == tf.float32 and y.shape == (4, 4, 3)
    np.testing.assert_allclose(y.numpy(), matlab_imresize(x.astype(np.float64), 1 / 3), atol=1e-5)


def test_imresize_needs_scale_or_size():
    """Neither scale nor size is an error."""
    with pytest.raises(ValueError):
        imresize(np.zeros((4, 4, 3)))


def test_imresize_batch_equals_per_image(rng):
    """NHWC input gives the same result as resizing each image alone; float32 dtype is kept."""
    x = rng.random((3, 10, 8, 3)).astype(np.float32)
    y = imresize(x, scale=0.5)
    assert y.dtype == tf.float32 and y.shape == (3, 5, 4, 3)
    for i in range(3):
        np.testing.assert_allclose(y[i].numpy(), imresize(x[i], scale=0.5).numpy(), atol=1e-6)
        np.testing.assert_allclose(y[i].numpy(), matlab_imresize(x[i].astype(np.float64), 0.5), atol=1e-6)


def test_imresize_in_dataset_map(rng, dynamic_map):
    """imresize runs in tf.data.Dataset.map on batches of unknown N, H, W and matches the reference."""
    batches = [rng.random((2, 12, 9, 3)).astype(np.float32), rng.random((1, 7, 10, 3)).astype(np.float32)]
    out = dynamic_map(lambda b: imresize(b, scale=1 / 3), batches)
    assert [o.shape for o in out] == [(2, 4, 3, 3), (1, 3, 4, 3)]
    for x, y in zip(batches, out, strict=True):
        for i in range(len(x)):
            np.testing.assert_allclose(y[i], matlab_imresize(x[i].astype(np.float64), 1 / 3), atol=1e-5)
