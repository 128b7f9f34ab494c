"""Colour-space conversions as TensorFlow ops.

All functions take float images in [0, 1] with channels last: HWC or NHWC
(any leading batch dimensions). They are graph-safe and work inside
``tf.data.Dataset.map``.

YCbCr follows MATLAB's ``rgb2ycbcr`` / ``ycbcr2rgb`` (ITU-R BT.601, studio
range): for RGB in [0, 1],

    Y  = (16  + 65.481 R + 128.553 G +  24.966 B) / 255   in [16/255, 235/255]
    Cb = (128 - 37.797 R -  74.203 G + 112.0   B) / 255   in [16/255, 240/255]
    Cr = (128 + 112.0  R -  93.786 G -  18.214 B) / 255

so returned values are also scaled to [0, 1] (multiply by 255 for MATLAB's
uint8-range numbers). YUV is the analogue BT.601 form (Y in [0, 1], U and V
centred on 0) used by many video tools.
"""

import numpy as np
import tensorflow as tf

# Rows: output channel; columns: R, G, B. Values for RGB in [0, 1] -> [0, 255].
_YCBCR = np.array(
    [[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]]
)
_YCBCR_OFFSET = np.array([16.0, 128.0, 128.0])
_YUV = np.array([[0.299, 0.587, 0.114], [-0.14713, -0.28886, 0.436], [0.615, -0.51499, -0.10001]])


def _apply(image, matrix, offset):
    """Multiply the channel vector of every pixel by ``matrix`` and add ``offset``."""
    image = tf.convert_to_tensor(image)
    dtype = image.dtype if image.dtype.is_floating else tf.float32
    image = tf.cast(image, dtype)
    m = tf.constant(matrix.T, dtype=dtype)  # (3 in, 3 out)
    return tf.tensordot(image, m, axes=[[-1], [0]]) + tf.constant(offset, dtype=dtype)


def rgb_to_ycbcr(rgb):
    """RGB [0,1] (..., 3) -> YCbCr (..., 3) scaled to [0,1], as MATLAB rgb2ycbcr / 255."""
    return _apply(rgb, _YCBCR / 255.0, _YCBCR_OFFSET / 255.0)


def ycbcr_to_rgb(ycbcr):
    """YCbCr (..., 3) in [0,1] -> RGB (..., 3); inverse of :func:`rgb_to_ycbcr` (not clipped)."""
    inv = np.linalg.inv(_YCBCR / 255.0)
    return _apply(ycbcr, inv, -inv @ (_YCBCR_OFFSET / 255.0))


def rgb_to_y(rgb):
    """Luma of MATLAB rgb2ycbcr: RGB (..., 3) in [0,1] -> Y (..., 1) in [16/255, 235/255]."""
    return _apply(rgb, _YCBCR[:1] / 255.0, _YCBCR_OFFSET[:1] / 255.0)


def rgb_to_yuv(rgb):
    """RGB (..., 3) in [0,1] -> YUV (..., 3): Y in [0,1], U in +-0.436, V in +-0.615."""
    return _apply(rgb, _YUV, np.zeros(3))


def yuv_to_rgb(yuv):
    """YUV (..., 3) -> RGB (..., 3); inverse of :func:`rgb_to_yuv` (not clipped)."""
    return _apply(yuv, np.linalg.inv(_YUV), np.zeros(3))
