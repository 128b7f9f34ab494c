"""What a model costs: multiply-adds per output pixel, for plain and arbitrary-scale models alike.

Counted from the Conv2D, Conv2DTranspose and Dense layers (the multiply-adds of a kernel at each output
position; a transposed convolution's at each input position); activations, additions and resizes are free.
"""

import keras
import numpy as np


def macs_per_output_pixel(model, scale=None, size=48):
    """Multiply-adds of ``model`` per output pixel (per channel of the output image).

    Plain models (an image in, an image out): measured on a ``size`` x ``size`` input; ``scale`` is not used.
    Arbitrary-scale models (dict inputs ``lr``, ``coord`` and perhaps ``cell``, :mod:`srlib.models.cppn_gan`):
    the decoder's cost per query plus the encoder's share at ``scale`` (required): its cost per LR pixel /
    scale^2 when it takes any size, its cost per image / (``lr_size`` * scale)^2 when it takes a fixed one.
    """
    if hasattr(model, "generator") or isinstance(model.input, dict):  # a CPPNGAN or its generator
        if scale is None:
            raise ValueError(f"{model.name}: an arbitrary-scale model costs per output pixel at a scale; pass scale=")
        return _implicit(getattr(model, "generator", model), scale)
    layers = [la for la in model.layers if isinstance(la, (keras.layers.Conv2D, keras.layers.Conv2DTranspose,
                                                           keras.layers.Dense))]
    probe = keras.Model(model.inputs, [la.input for la in layers] + [la.output for la in layers] + [model.output])
    shapes = [o.shape for o in probe([np.zeros((1, size, size, model.input_shape[-1]), np.float32)])]
    ins, outs, final = shapes[: len(layers)], shapes[len(layers) : -1], shapes[-1]
    macs = 0
    for layer, i, o in zip(layers, ins, outs, strict=True):
        positions = i[1] * i[2] if isinstance(layer, keras.layers.Conv2DTranspose) else int(np.prod(o[1:-1]))
        macs += positions * int(np.prod(layer.kernel.shape))
    return macs / (final[1] * final[2])


def _implicit(gen, scale):
    """Encoder share + decoder cost per query of a generator with nested ``encoder`` and ``decoder`` models."""

    def cost(sub):  # per LR position when the sizes are unknown, per image when they are known
        macs = 0
        for layer in sub.layers:
            if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)):
                positions = np.prod([d or 1 for d in layer.output.shape[1:3]]) if len(layer.output.shape) == 4 else 1
                macs += int(positions) * int(np.prod(layer.kernel.shape))
        return macs

    encoder, decoder = gen.get_layer("encoder"), gen.get_layer("decoder")
    lr_size = encoder.input_shape[1]
    share = cost(encoder) / scale**2 if lr_size is None else cost(encoder) / (lr_size * scale) ** 2
    return share + cost(decoder)
