"""Convolutional autoencoder with additive skip connections (the third report's design; RED-Net, Mao et al., 2016).

Encoder: ``levels`` stages of two 3x3 convolutions and a 2x2 max-pooling; decoder: the mirror image,
nearest-neighbour upsampling and two 3x3 convolutions, each stage adding the encoder features of the
same resolution ("add 2", "add 3" in the report). Two placements of the upscaling:

* ``placement="pre"`` (the report's): the image is first enlarged by bicubic interpolation and the
  autoencoder works at HR, s^2 times the pixels;
* ``placement="post"``: the autoencoder works on the LR image and a sub-pixel tail renders HR.

With ``base='bicubic'`` (the default) the network adds its output to the interpolated input (a global base) and
learns the difference; ``skips`` are the encoder-decoder additions inside the network, a separate choice.
``tail_std=1e-3`` starts the output convolution near zero (as the cnn and vae tails), so the untrained model
outputs about its base; the shipped ae-skip models started from Glorot (the default, None), whose untrained
output is noise many times bicubic's error, which short runs silence rather than learn from (notebook 03).
"""

import keras

from srlib.layers import MatchSize, ResizeUpscale, SubPixelUpscale


def autoencoder(scale, channels=1, levels=2, width=64, dropout=0.0, skips=True, base="bicubic", placement="post",
                latent_dropout=0.0, tail_std=None, name=None):
    """Build the encoder-decoder.

    Args:
      scale: integer upscaling factor.
      channels: 1 (Y) or 3.
      levels: pooling stages (the bottleneck is 2**levels times smaller than the working image).
      width: filters of the first stage, doubled at each level down.
      dropout: dropout rate after each stage (0: none).
      skips: add each encoder stage's features to the decoder stage of the same size.
      base: 'bicubic' / 'bilinear': add that upscale of the input to the output (a global base); None: no base.
      placement: 'pre' (bicubic first, autoencoder at HR) or 'post' (autoencoder at LR, sub-pixel tail).
      latent_dropout: dropout rate on the bottleneck's features only (the third report's regulariser; 0: none).
      tail_std: std of the normal the output convolution's kernel starts from (None: Glorot uniform).

    Returns:
      A functional ``keras.Model`` (N, h, w, channels) in [0, 1] -> (N, h * scale, w * scale, channels),
      float32 output, any h and w (odd sizes too: pooled maps are matched back by cropping).
    """
    if placement not in ("pre", "post"):
        raise ValueError(f"placement must be 'pre' or 'post', not {placement!r}")
    if base not in (None, "bilinear", "bicubic"):
        raise ValueError(f"base must be None, 'bilinear' or 'bicubic', not {base!r}")
    inp = keras.Input((None, None, channels), name="lr")
    up = ResizeUpscale(scale, "bicubic", dtype="float32")(inp)

    def convs(x, filters):
        for _ in range(2):
            x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", kernel_initializer="he_normal")(x)
        return keras.layers.Dropout(dropout)(x) if dropout else x

    x = convs(up if placement == "pre" else inp, width)
    stack = []
    for level in range(levels):
        stack.append(x)
        x = keras.layers.MaxPooling2D(2, padding="same")(x)
        x = convs(x, width * 2 ** (level + 1))
    if latent_dropout:
        x = keras.layers.Dropout(latent_dropout, name="latent_dropout")(x)
    for level in reversed(range(levels)):
        skip = stack[level]
        x = MatchSize()([keras.layers.UpSampling2D(2)(x), skip])
        x = keras.layers.Conv2D(width * 2**level, 3, padding="same", activation="relu",
                                kernel_initializer="he_normal")(x)
        if skips:
            x = keras.layers.Add()([x, skip])
        x = convs(x, width * 2**level)
    init = "glorot_uniform" if tail_std is None else keras.initializers.RandomNormal(stddev=tail_std)
    x = keras.layers.Conv2D(channels * (1 if placement == "pre" else scale * scale), 3, padding="same",
                            dtype="float32", kernel_initializer=init)(x)
    if placement == "post":
        x = SubPixelUpscale(scale, dtype="float32")(x)
    if base:
        base_up = up if base == "bicubic" else ResizeUpscale(scale, base, dtype="float32")(inp)
        x = keras.layers.Add(dtype="float32")([x, base_up])
    return keras.Model(inp, x, name=name or f"ae_skip_x{scale}")
