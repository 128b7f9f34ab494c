"""RTSR: a quantisation-friendly real-time network, ESPCN with a nearest-neighbour residual.

ESPCN's convolutions (ReLU, in LR space) and sub-pixel shuffle, but the last convolution predicts a correction
to the input on each sub-pixel (the LR pixel copied s x s times, a nearest-neighbour upscale), so the output is
``depth_to_space(conv(features) + x)``, the input broadcast over the s^2 channels by the addition. The input is
exact in int8 (it is on the grey-level grid), so only the small correction carries the quantisation noise of the
features; everything is an int8 op that XNNPACK runs (convolution, broadcast addition, depth-to-space). Older RTSR
files repeat the input by an s^2-way concatenation instead: the same function, and about 7 ms slower per 640 x 360
frame in int8 on a 2-core Xeon. With the same widths as
``espcn`` its convolutions have the same shapes, so an ESPCN checkpoint warm-starts it.

Re-parameterised training (ECBSR, Zhang et al. 2021): ``rtsr(..., branches=True)`` trains every k x k convolution
as a :class:`RepConv2D`, the sum of linear branches

* the k x k convolution itself;
* a 1 x 1 convolution (its kernel zero-padded to the centre of k x k);
* a 1 x 1 expansion to twice the output width (no bias) followed by a k x k convolution;
* for k >= 3, ECBSR's edge branches: a 1 x 1 convolution, then per output channel a fixed 3 x 3 Sobel-x, Sobel-y
  or Laplacian mask times a learned scale (zero-padded to k x k).

Every branch is linear, so their sum is one k x k convolution: :func:`fuse` turns a trained branched RTSR into the
plain one carrying that kernel, and inference (:func:`srlib.quant.quantize_model`, the int8 export) runs the plain
model, at the plain cost. :func:`rtsr_branched_from` starts a branched RTSR as exactly a trained plain one.
"""

import keras
import numpy as np

from srlib.layers import SubPixelUpscale

EXPAND = 2  # the expand branch's width, times the output width
# (3 masks, 3, 3) on (row, column), applied as TF applies kernels (cross-correlation): Sobel-x, Sobel-y, Laplacian
EDGE_MASKS = np.array([[[1, 0, -1], [2, 0, -2], [1, 0, -1]],
                       [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
                       [[0, 1, 0], [1, -4, 1], [0, 1, 0]]], np.float32)


@keras.saving.register_keras_serializable(package="srlib")
class RepConv2D(keras.layers.Layer):
    """A k x k convolution (stride 1, 'same' zero padding) trained as a sum of linear branches (module docstring):
    (N, H, W, C_in) -> (N, H, W, filters).

    Args:
      filters: output channels.
      kernel_size: the odd side k of the kernel.
      activation: applied after the sum (a Keras activation name or function).
      kernel_initializer: of the k x k kernel, the expand branch's 1 x 1 expansion and the edge branches' 1 x 1
        weights. The 1 x 1 kernel and the expand branch's k x k kernel start at zero and the edge scales at
        N(0, 1e-3), so a new layer computes about the plain convolution of its k x k kernel (as :meth:`start_as`): a
        from-scratch branched network starts as the plain one would. (Every branch random tripled the fused kernel's
        variance; a 64/32/32 RTSR so started lost all its last layer's ReLUs in its first epoch at lr 1e-3.)

    Weights, in order (C = filters, M = 2C): ``kernel`` (k, k, C_in, C), ``bias`` (C,) (one bias for the sum),
    ``kernel_1x1`` (1, 1, C_in, C), ``expand`` (1, 1, C_in, M), ``expand_kernel`` (k, k, M, C), and for k >= 3
    ``edge_weights`` (3, C_in, C) (the edge branches' 1 x 1 convolutions: Sobel-x, Sobel-y, Laplacian) and
    ``edge_scales`` (3, C). ``call`` sums the branches' kernels into one (:meth:`fused_kernel`, in float32 under a
    mixed-precision policy too) and runs one convolution.
    """

    def __init__(self, filters, kernel_size, activation=None, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        if self.kernel_size % 2 == 0:
            raise ValueError(f"RepConv2D kernel_size {self.kernel_size} must be odd (the branches share a centre)")
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        k, c_in, c = self.kernel_size, int(input_shape[-1]), self.filters

        def weight(shape, name, init=None):
            # a fresh initializer each (one instance repeats its draws); read as stored (float32: the branches sum
            # there, call casts the one kernel to the compute dtype)
            init = init or keras.initializers.get(keras.initializers.serialize(self.kernel_initializer))
            return self.add_weight(shape=shape, initializer=init, name=name, autocast=False)

        self.kernel = weight((k, k, c_in, c), "kernel")
        self.bias = weight((c,), "bias", "zeros")
        self.kernel_1x1 = weight((1, 1, c_in, c), "kernel_1x1", "zeros")
        self.expand = weight((1, 1, c_in, EXPAND * c), "expand")
        self.expand_kernel = weight((k, k, EXPAND * c, c), "expand_kernel", "zeros")
        if k >= 3:
            self.edge_weights = weight((3, c_in, c), "edge_weights")
            self.edge_scales = weight((3, c), "edge_scales", keras.initializers.RandomNormal(stddev=1e-3))

    def fused_kernel(self):
        """The one (k, k, C_in, C) kernel equal to the sum of the branches (a backend tensor; bias: ``self.bias``)."""
        k = self.kernel_size
        centre = lambda w, side: keras.ops.pad(w, [[(k - side) // 2] * 2] * 2 + [[0, 0]] * 2)  # noqa: E731
        kernel = self.kernel + centre(self.kernel_1x1, 1)
        kernel = kernel + keras.ops.einsum("im,hwmo->hwio", self.expand[0, 0], self.expand_kernel)
        if k >= 3:
            edges = keras.ops.einsum("ehw,eio,eo->hwio", EDGE_MASKS, self.edge_weights, self.edge_scales)
            kernel = kernel + centre(edges, 3)
        return kernel

    def fused(self):
        """(kernel (k, k, C_in, C), bias (C,)) float32 numpy: the plain convolution this layer computes."""
        return keras.ops.convert_to_numpy(self.fused_kernel()), keras.ops.convert_to_numpy(self.bias)

    def start_as(self, kernel, bias):
        """Make the layer compute exactly the plain convolution ``kernel`` (k, k, C_in, C), ``bias`` (C,): the
        k x k branch takes them, the 1 x 1 kernel, the expand branch's k x k and the edge scales are zeroed; the
        expand and edge 1 x 1 weights keep their random values, so the zeroed factors get gradients at once and their
        partners from the first step on."""
        self.kernel.assign(kernel)
        self.bias.assign(bias)
        for w in (self.kernel_1x1, self.expand_kernel) + ((self.edge_scales,) if self.kernel_size >= 3 else ()):
            w.assign(keras.ops.zeros_like(w))

    def call(self, x):
        cast = lambda t: keras.ops.cast(t, self.compute_dtype)  # noqa: E731
        return self.activation(keras.ops.conv(x, cast(self.fused_kernel()), padding="same") + cast(self.bias))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "activation": keras.activations.serialize(self.activation),
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


def rtsr(scale, channels=1, filters=(64, 32), kernels=(5, 3, 3), name=None, branches=False):
    """Build RTSR.

    Args:
      scale: integer upscaling factor s.
      channels: 1 for Y-only, 3 for RGB.
      filters: widths of the hidden ReLU layers.
      kernels: kernel sides, one per hidden layer plus the output layer.
      branches: every convolution a :class:`RepConv2D` (re-parameterised training; :func:`fuse` makes the plain
        model), else ``keras.layers.Conv2D``; same widths, kernels and activations either way.

    Returns:
      A functional ``keras.Model`` mapping (N, h, w, channels) in [0, 1] to (N, h * s, w * s, channels); any h
      and w; not clipped (callers clip to [0, 1]; the int8 model of :func:`srlib.quant.quantize_model` clips there).
      Named ``rtsr_x<s>`` (``rtsr_rep_x<s>`` with branches).
    """
    if len(kernels) != len(filters) + 1:
        raise ValueError(f"kernels {kernels} needs one side per hidden layer plus the output layer")

    def conv(width, k, **kwargs):
        return RepConv2D(width, k, **kwargs) if branches else keras.layers.Conv2D(width, k, padding="same", **kwargs)

    inp = keras.Input((None, None, channels), name="lr")
    x = inp
    for width, k in zip(filters, kernels[:-1], strict=True):
        x = conv(width, k, activation="relu", kernel_initializer="he_normal")(x)
    x = conv(channels * scale * scale, kernels[-1], dtype="float32")(x)
    # depth_to_space takes channel (i * s + j) * C + c to sub-pixel (i, j), channel c: for C = 1 the addition
    # broadcasts the input over the s^2 channels; for C > 1 the input is repeated s^2 times along the channels
    x = keras.layers.Add(dtype="float32")(
        [x, inp if channels == 1 else keras.layers.Concatenate(dtype="float32")([inp] * (scale * scale))])
    default = f"rtsr_rep_x{scale}" if branches else f"rtsr_x{scale}"
    return keras.Model(inp, SubPixelUpscale(scale, dtype="float32")(x), name=name or default)


def _twin(model, branched):
    """(``model``'s convolutions, a new RTSR of its shape with the other kind of convolution): ``branched`` says
    what ``model`` is. Raises ValueError (one line) when ``model`` is not such an RTSR."""
    kind = RepConv2D if branched else keras.layers.Conv2D
    convs = [layer for layer in model.layers if type(layer) is kind]
    ups = [layer for layer in model.layers if isinstance(layer, SubPixelUpscale)]
    if not convs or len(ups) != 1:
        raise ValueError(f"{model.name}: not a{' branched' if branched else ' plain'} RTSR (no {kind.__name__} "
                         "layers or not one SubPixelUpscale)")
    side = lambda layer: layer.kernel_size if branched else layer.kernel_size[0]  # noqa: E731
    twin = rtsr(ups[0].scale, model.inputs[0].shape[-1], filters=[c.filters for c in convs[:-1]],
                kernels=[side(c) for c in convs], branches=not branched)
    # an older file's 9-way Concatenate repeat of the input computes what the broadcast addition does: not compared
    layout = lambda m: [("Conv2D" if isinstance(layer, RepConv2D) else type(layer).__name__,  # noqa: E731
                         getattr(getattr(layer, "activation", None), "__name__", None)) for layer in m.layers
                        if type(layer).__name__ != "Concatenate"]
    if layout(model) != layout(twin):
        raise ValueError(f"{model.name}: not a{' branched' if branched else ' plain'} RTSR (its layers or "
                         "activations differ from rtsr()'s)")
    return convs, twin


def fuse(model):
    """The plain RTSR (``keras.layers.Conv2D``, the same scale, widths and kernels) computing what the branched
    RTSR ``model`` computes: each :class:`RepConv2D`'s :meth:`~RepConv2D.fused` kernel and bias. Same input and
    output shapes as ``model``; float32 rounding apart, the same outputs."""
    convs, plain = _twin(model, branched=True)
    targets = [layer for layer in plain.layers if type(layer) is keras.layers.Conv2D]
    for source, target in zip(convs, targets, strict=True):
        target.set_weights(list(source.fused()))
    return plain


def rtsr_branched_from(model):
    """A branched RTSR that starts as exactly the plain RTSR ``model`` (:meth:`RepConv2D.start_as` of each of its
    convolutions' kernel and bias): the same outputs, float32 rounding apart; the branches then learn."""
    convs, branched = _twin(model, branched=False)
    targets = [layer for layer in branched.layers if isinstance(layer, RepConv2D)]
    for source, target in zip(convs, targets, strict=True):
        target.start_as(*source.get_weights())
    return branched


def rtsr_deepened_from(model, filters, kernels):
    """A plain RTSR of hidden widths ``filters`` and kernel sides ``kernels`` that computes exactly what the plain
    RTSR ``model`` computes: its layers are ``model``'s in order, with new hidden layers inserted, each as wide as
    the layer before it and started as the identity (the centre tap of its kernel the identity matrix, bias zero:
    on the ReLU outputs it takes, all >= 0, its ReLU passes them through), so training goes on from ``model``'s
    function with more layers (Net2Net's deepening, Chen et al. 2016).

    Raises ValueError (one line) when ``filters`` / ``kernels`` do not extend ``model``'s design that way.
    """
    convs, _ = _twin(model, branched=False)
    source = [(c.filters, c.kernel_size[0]) for c in convs]
    scale = next(layer for layer in model.layers if isinstance(layer, SubPixelUpscale)).scale
    deep = rtsr(scale, model.inputs[0].shape[-1], filters=filters, kernels=kernels)
    targets = [layer for layer in deep.layers if type(layer) is keras.layers.Conv2D]
    i = 0  # the next layer of ``model`` to place; its output layer only goes last
    for n, target in enumerate(targets):
        c, k, last = target.filters, target.kernel_size[0], n == len(targets) - 1
        if i < len(source) and (c, k) == source[i] and (i == len(source) - 1) == last:
            target.set_weights(convs[i].get_weights())
            i += 1
        elif not last and i > 0 and c == targets[n - 1].filters:
            kernel = np.zeros((k, k, c, c), np.float32)
            kernel[k // 2, k // 2] = np.eye(c, dtype=np.float32)
            target.set_weights([kernel, np.zeros(c, np.float32)])
        else:
            raise ValueError(f"{model.name}: widths {list(filters)} and kernels {list(kernels)} do not extend its "
                             f"design {[w for w, _ in source[:-1]]} / {[k for _, k in source]} by identity layers")
    return deep
