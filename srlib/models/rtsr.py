"""RTSR: a quantisation-friendly real-time network, ESPCN with a nearest-neighbour residual.

ESPCN's convolutions (ReLU, in LR space) and sub-pixel shuffle, but the last convolution predicts a correction
to the input repeated onto each sub-pixel (the LR pixel copied s x s times, a nearest-neighbour upscale), so
the output is ``depth_to_space(conv(features) + repeat(x))``. The repeat is exact in int8 (the input is on the
grey-level grid), so only the small correction carries the quantisation noise of the features; everything is
an int8 op that XNNPACK runs (convolution, concatenation, addition, depth-to-space). With the same widths as
``espcn`` its convolutions have the same shapes, so an ESPCN checkpoint warm-starts it.
"""

import keras

from srlib.layers import SubPixelUpscale


def rtsr(scale, channels=1, filters=(64, 32), kernels=(5, 3, 3), name=None):
    """Build RTSR.

    Args:
      scale: integer upscaling factor s.
      channels: 1 for Y-only, 3 for RGB.
      filters: widths of the hidden ReLU layers.
      kernels: kernel sides, one per hidden layer plus the output layer.

    Returns:
      A functional ``keras.Model`` mapping (N, h, w, channels) in [0, 1] to (N, h * s, w * s, channels); any h
      and w; not clipped (callers clip to [0, 1]; the int8 model of :func:`srlib.quant.quantize_model` clips there).
    """
    if len(kernels) != len(filters) + 1:
        raise ValueError(f"kernels {kernels} needs one side per hidden layer plus the output layer")
    inp = keras.Input((None, None, channels), name="lr")
    x = inp
    for width, k in zip(filters, kernels[:-1], strict=True):
        x = keras.layers.Conv2D(width, k, padding="same", activation="relu", kernel_initializer="he_normal")(x)
    x = keras.layers.Conv2D(channels * scale * scale, kernels[-1], padding="same", dtype="float32")(x)
    # depth_to_space takes channel (i * s + j) * C + c to sub-pixel (i, j), channel c: C-channel copies s^2 times
    repeat = keras.layers.Concatenate(dtype="float32")([inp] * (scale * scale))
    x = keras.layers.Add(dtype="float32")([x, repeat])
    return keras.Model(inp, SubPixelUpscale(scale, dtype="float32")(x), name=name or f"rtsr_x{scale}")
