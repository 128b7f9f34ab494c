"""ESPCN: Efficient Sub-Pixel CNN (Shi et al., CVPR 2016).

Three convolutions in LR space (5x5x64, 3x3x32, 3x3x(C s^2)) and a sub-pixel
shuffle to HR. With Y input at x3 it has 22.7k parameters, about a third of
SRCNN 9-5-5 (57k).
"""

import keras

from srlib.layers import SubPixelUpscale


def espcn(scale, channels=1, activation="tanh", filters=(64, 32), init=None, name=None):
    """Build ESPCN.

    Args:
      scale: integer upscaling factor.
      channels: 1 for Y-only, 3 for RGB.
      activation: hidden activation, ``"tanh"`` (the paper) or ``"relu"``.
      filters: widths of the two hidden layers.
      init: the hidden layers' kernel initialiser; None: ``"orthogonal"`` for tanh, ``"he_normal"`` otherwise
        (a study that changes only the activation names it, so both sides start alike).

    Returns:
      A functional ``keras.Model`` mapping (N, h, w, channels) in [0, 1] to
      (N, h * scale, w * scale, channels). Any h and w; the output is float32
      even under a mixed-precision policy. Not clipped: callers clip to [0, 1].
    """
    init = init or ("orthogonal" if activation == "tanh" else "he_normal")
    inp = keras.Input((None, None, channels), name="lr")
    x = keras.layers.Conv2D(filters[0], 5, padding="same", activation=activation, kernel_initializer=init)(inp)
    x = keras.layers.Conv2D(filters[1], 3, padding="same", activation=activation, kernel_initializer=init)(x)
    # The output layer runs in float32 even under mixed precision: bf16 keeps only
    # 8 bits of mantissa, about one uint8 level at mid-grey.
    x = keras.layers.Conv2D(channels * scale * scale, 3, padding="same", dtype="float32")(x)
    x = SubPixelUpscale(scale, dtype="float32")(x)
    return keras.Model(inp, x, name=name or f"espcn_x{scale}")
