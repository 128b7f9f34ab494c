"""Tests for srlib.color against MATLAB rgb2ycbcr values, scikit-image and exact inverses."""

import numpy as np
import pytest
import skimage.color
import tensorflow as tf

from srlib import color

# MATLAB rgb2ycbcr for uint8 input, values worked out by hand from
# Y = 16 + 65.481 R + 128.553 G + 24.966 B etc. (R, G, B in [0, 1]) and rounded.
MATLAB_UINT8 = {
    (255, 255, 255): (235, 128, 128),
    (0, 0, 0): (16, 128, 128),
    (255, 0, 0): (81, 90, 240),  # 81.481, 90.203, 240.0
    (0, 255, 0): (145, 54, 34),  # 144.553, 53.797, 34.214
    (0, 0, 255): (41, 240, 110),  # 40.966, 240.0, 109.786
}


@pytest.mark.parametrize("space", ["ycbcr", "yuv"])
@pytest.mark.parametrize("shape", [(7, 5, 3), (2, 4, 6, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip(rng, space, shape, dtype):
    """to_rgb(from_rgb(x)) == x to 1e-5 on random HWC and NHWC images, in YCbCr and YUV; YCbCr also the
    other way round, from a valid (studio-range) YCbCr image."""
    pairs = {"ycbcr": (color.rgb_to_ycbcr, color.ycbcr_to_rgb), "yuv": (color.rgb_to_yuv, color.yuv_to_rgb)}
    forward, back = pairs[space]
    x = rng.random(shape).astype(dtype)
    y = forward(x)
    assert y.shape == shape and y.dtype == dtype
    np.testing.assert_allclose(back(y).numpy(), x, atol=1e-5)
    if space == "ycbcr":
        ycc = (16 + rng.random(shape) * 219) / 255
        np.testing.assert_allclose(forward(back(ycc)).numpy(), ycc, atol=1e-5)


def test_pure_colours_match_matlab_formula():
    """Pure colours give the hand-computed BT.601 studio-range values of MATLAB rgb2ycbcr."""
    rgb = np.array(
        [[[1, 1, 1], [0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]],
        dtype=np.float64,
    )
    expected = (
        np.array(
            [
                [
                    [235, 128, 128],
                    [16, 128, 128],
                    [16 + 65.481, 128 - 37.797, 128 + 112.0],
                    [16 + 128.553, 128 - 74.203, 128 - 93.786],
                    [16 + 24.966, 128 + 112.0, 128 - 18.214],
                ]
            ]
        )
        / 255.0
    )
    np.testing.assert_allclose(color.rgb_to_ycbcr(rgb).numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(color.rgb_to_y(rgb).numpy(), expected[..., :1], atol=1e-12)


@pytest.mark.parametrize(("rgb", "ycbcr"), list(MATLAB_UINT8.items()))
def test_pure_colours_uint8_levels(rgb, ycbcr):
    """Rounded to uint8 levels, pure colours give MATLAB rgb2ycbcr's uint8 output."""
    x = np.array(rgb, np.float32)[None, None] / 255.0
    got = np.round(color.rgb_to_ycbcr(x).numpy()[0, 0] * 255).astype(int)
    assert tuple(got) == ycbcr


def test_ycbcr_matches_skimage(rng):
    """rgb_to_ycbcr * 255 equals skimage.color.rgb2ycbcr (MATLAB range for float input) to 1e-4."""
    x = rng.random((9, 11, 3))
    ref = skimage.color.rgb2ycbcr(x)
    np.testing.assert_allclose(color.rgb_to_ycbcr(x).numpy() * 255.0, ref, atol=1e-4)
    ref_back = skimage.color.ycbcr2rgb(ref)
    np.testing.assert_allclose(color.ycbcr_to_rgb(ref / 255.0).numpy(), ref_back, atol=1e-4)


def test_yuv_matches_skimage(rng):
    """rgb_to_yuv / yuv_to_rgb agree with skimage.color.rgb2yuv / yuv2rgb to 1e-4."""
    x = rng.random((9, 11, 3))
    np.testing.assert_allclose(color.rgb_to_yuv(x).numpy(), skimage.color.rgb2yuv(x), atol=1e-4)
    yuv = skimage.color.rgb2yuv(x)
    np.testing.assert_allclose(color.yuv_to_rgb(yuv).numpy(), skimage.color.yuv2rgb(yuv), atol=1e-4)


def test_yuv_white_and_grey():
    """Hand-computed: white -> Y=1, U=V=0; mid grey -> Y=0.5, U=V=0 (BT.601 rows sum to 1, 0, 0)."""
    x = np.array([[[1.0, 1.0, 1.0], [0.5, 0.5, 0.5]]])
    np.testing.assert_allclose(color.rgb_to_yuv(x).numpy(), [[[1, 0, 0], [0.5, 0, 0]]], atol=1e-4)


def test_rgb_to_y_shape_nhwc(rng):
    """rgb_to_y keeps leading dims and returns one channel equal to the Y of rgb_to_ycbcr."""
    x = rng.random((3, 4, 5, 3)).astype(np.float32)
    y = color.rgb_to_y(x)
    assert y.shape == (3, 4, 5, 1)
    ref = (16 + x @ np.array([65.481, 128.553, 24.966])) / 255.0
    np.testing.assert_allclose(y.numpy()[..., 0], ref, atol=1e-5)


def test_inside_tf_function(rng):
    """The conversions trace in a tf.function with unknown shape and match eager results."""

    @tf.function(input_signature=[tf.TensorSpec((None, None, None, 3), tf.float32)])
    def round_trip(x):
        return color.ycbcr_to_rgb(color.rgb_to_ycbcr(x)), color.yuv_to_rgb(color.rgb_to_yuv(x))

    x = rng.random((2, 5, 6, 3)).astype(np.float32)
    a, b = round_trip(x)
    np.testing.assert_allclose(a.numpy(), x, atol=1e-5)
    np.testing.assert_allclose(b.numpy(), x, atol=1e-5)
    np.testing.assert_allclose(round_trip.get_concrete_function()(tf.constant(x))[0].numpy(), x, atol=1e-5)


def test_inside_dataset_map(rng, dynamic_map):
    """rgb_to_ycbcr runs in tf.data.Dataset.map on dynamic-shape NHWC batches and matches skimage."""
    batches = [rng.random((2, 5, 6, 3)).astype(np.float32), rng.random((1, 3, 4, 3)).astype(np.float32)]
    out = dynamic_map(color.rgb_to_ycbcr, batches)
    for x, y in zip(batches, out, strict=True):
        assert y.shape == x.shape
        np.testing.assert_allclose(y * 255.0, skimage.color.rgb2ycbcr(x.astype(np.float64)), atol=1e-3)
