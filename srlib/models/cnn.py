"""CNN encoder-decoder with a transposed-convolution decoder (the FSRCNN family, Dong et al., ECCV 2016).

Encoder in LR space: a wide feature convolution, a 1x1 shrink, ``mapping`` 3x3 layers and a 1x1
expand; decoder: one ``Conv2DTranspose`` with stride ``scale`` (times 2 with ``downsample``) renders
the HR image. FSRCNN x3 (56-12-4, 9x9 deconvolution, Y) costs about 12.5k multiply-adds per LR pixel,
half of ESPCN's 22.6k. The options are the first report's design choices, so each can be ablated.
"""

import keras

from srlib.layers import ResizeUpscale


def cnn(scale, channels=1, features=56, shrink=12, mapping=4, activation="prelu", init="he_normal",
        batch_norm=False, dropout=0.0, output="linear", downsample=False, base=None, deconv_kernel=9,
        name=None):
    """Build the encoder-decoder.

    Args:
      scale: integer upscaling factor.
      channels: 1 (Y) or 3 (RGB / YCbCr / YUV).
      features, shrink, mapping: FSRCNN's d, s and m (feature width, shrunk width, 3x3 mapping layers).
      activation: 'prelu' (FSRCNN), 'relu' or any Keras activation name.
      init: kernel initialiser of the hidden layers, 'he_normal' or 'glorot_uniform' (Keras' default).
      batch_norm: BatchNormalization after each hidden convolution.
      dropout: dropout rate after each hidden block (0: none).
      output: 'linear' or 'sigmoid' (bounded to [0, 1], as the first report had it).
      downsample: a 2x2 max-pooling after the feature layer (the seed's strided encoder); the
        decoder then upsamples by 2 * scale.
      base: None, or 'bilinear' / 'bicubic': add that interpolation of the input (a global base), so the network
        learns HR minus it (the shipped cnn-x2: 'bilinear').
      deconv_kernel: side of the transposed convolution (FSRCNN: 9).

    Returns:
      A functional ``keras.Model`` mapping (N, h, w, channels) in [0, 1] to (N, h * scale,
      w * scale, channels), float32 output even under a mixed-precision policy. Any h, w (even
      ones with ``downsample``); not clipped unless ``output='sigmoid'``.
    """
    if base not in (None, "bilinear", "bicubic"):
        raise ValueError(f"base must be None, 'bilinear' or 'bicubic', not {base!r}")
    inp = keras.Input((None, None, channels), name="lr")

    def block(x, width, kernel):
        x = keras.layers.Conv2D(width, kernel, padding="same", kernel_initializer=init,
                                use_bias=not batch_norm)(x)
        if batch_norm:
            x = keras.layers.BatchNormalization()(x)
        x = keras.layers.PReLU(shared_axes=[1, 2])(x) if activation == "prelu" else keras.layers.Activation(
            activation)(x)
        return keras.layers.Dropout(dropout)(x) if dropout else x

    x = block(inp, features, 5)
    if downsample:
        x = keras.layers.MaxPooling2D(2)(x)
    x = block(x, shrink, 1)
    for _ in range(mapping):
        x = block(x, shrink, 3)
    x = block(x, features, 1)
    stride = scale * (2 if downsample else 1)
    x = keras.layers.Conv2DTranspose(channels, deconv_kernel, strides=stride, padding="same", dtype="float32",
                                     kernel_initializer=keras.initializers.RandomNormal(stddev=1e-3))(x)
    if base:
        up = ResizeUpscale(scale, base, dtype="float32")(inp)
        x = keras.layers.Add(dtype="float32")([x, up])
    if output == "sigmoid":
        x = keras.layers.Activation("sigmoid", dtype="float32")(x)
    return keras.Model(inp, x, name=name or f"cnn_x{scale}")
