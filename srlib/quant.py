"""Quantisation-aware training (QAT) in Keras 3 and the export to an int8 TensorFlow Lite model.

The TF Model Optimization toolkit does not support Keras 3, so the fake quantisation is written here with the
``tf.quantization`` fake-quant ops that the TFLite converter folds into int8 kernels:

* :class:`FakeQuant`: per-tensor activations, 8 bits, asymmetric; a range fixed by the caller (a [0, 1] image:
  scale 1/255, so an int8 value is a grey level) or tracked while training (an exponential moving average of the
  batch minimum and maximum, initialised by the first batch, frozen at inference).
* :class:`QuantConv2D`: a ``Conv2D`` whose kernel is fake-quantised per output channel (symmetric, narrow range
  [-127, 127], as TFLite's int8 convolutions), followed by its bias and activation (fused by the converter).

:func:`quantize_model` rewrites a trained float model for QAT (same weights): every ``Conv2D`` becomes a
:class:`QuantConv2D` followed by a tracked :class:`FakeQuant`, the image input and the model output get
:class:`FakeQuant` with the range [0, 1] fixed (the clipped output *is* the uint8 image, so the int8 output costs
nothing beyond the rounding to grey levels every SR output gets), merges (``Add``) get a tracked one. Layers that
only move values (``SubPixelUpscale``) keep their input's quantisation. :func:`srlib.inference.lite.to_tflite` converts
the result to a TFLite flatbuffer with int8 weights and activations, int8 at its edges too (the fixed [0, 1] ranges: an
int8 value there is a grey level minus 128), any input size; :class:`srlib.inference.lite.LiteFile` runs it, from
float32 or from uint8 grey levels.

    qat = quantize_model(zoo.load("espcn-x3"))     # fine-tune it: srlib.training.experiment.Recipe(quantize="int8")
    blob = srlib.inference.lite.to_tflite(qat)  # bytes of the int8 .tflite
"""

import keras
import tensorflow as tf

BITS = 8


@keras.saving.register_keras_serializable(package="srlib")
class FakeQuant(keras.layers.Layer):
    """Per-tensor 8-bit fake quantisation of activations: (N, H, W, C) -> the same shape, values on the int8 grid.

    Args:
      fixed: (min, max) of a range known in advance (an image in [0, 1]); None: tracked while training.
      decay: the moving average's decay per training step (tracked ranges).

    The range is nudged so that 0 is exactly representable (``tf.quantization.fake_quant_with_min_max_vars``);
    gradients pass straight through inside it. The tracked range lives in non-trainable weights (``min``, ``max``,
    ``seen``), saved with the model. In training a range that has seen no batch yet passes values through; at
    inference the range is used as it is, so train or :func:`calibrate` a tracked one first.
    """

    def __init__(self, fixed=None, decay=0.99, **kwargs):
        super().__init__(**kwargs)
        self.fixed = None if fixed is None else (float(fixed[0]), float(fixed[1]))
        self.decay = float(decay)
        if self.fixed is not None and not self.fixed[0] <= 0.0 < self.fixed[1]:
            raise ValueError(f"FakeQuant range {self.fixed} must hold 0 and have max > min")

    def build(self, input_shape):
        lo, hi = self.fixed or (0.0, 0.0)
        self.min = self.add_weight(shape=(), initializer=keras.initializers.Constant(lo), trainable=False, name="min")
        self.max = self.add_weight(shape=(), initializer=keras.initializers.Constant(hi), trainable=False, name="max")
        self.seen = self.add_weight(shape=(), initializer=keras.initializers.Constant(float(self.fixed is not None)),
                                    trainable=False, name="seen")

    def call(self, x, training=False):
        x = tf.cast(x, tf.float32)
        if training and self.fixed is None:
            lo, hi = tf.minimum(tf.reduce_min(x), 0.0), tf.maximum(tf.reduce_max(x), 0.0)
            first = tf.equal(self.seen, 0.0)
            self.min.assign(tf.where(first, lo, self.decay * self.min + (1 - self.decay) * lo))
            self.max.assign(tf.where(first, hi, self.decay * self.max + (1 - self.decay) * hi))
            self.seen.assign(1.0)
        quantized = tf.quantization.fake_quant_with_min_max_vars(x, self.min, tf.maximum(self.max, self.min + 1e-6),
                                                                 num_bits=BITS)
        return tf.where(self.seen > 0, quantized, x) if training else quantized

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "fixed": self.fixed, "decay": self.decay}


@keras.saving.register_keras_serializable(package="srlib")
class QuantConv2D(keras.layers.Conv2D):
    """``keras.layers.Conv2D`` whose kernel is fake-quantised per output channel: symmetric, scale
    max|w| / 127 per channel, narrow range (TFLite's int8 convolution weights). The bias stays float (TFLite
    stores it as int32 at the input scale times the weight scale). Same arguments and weights as ``Conv2D``."""

    def convolution_op(self, inputs, kernel):
        # (kh, kw, in, out): one range per output channel, the last axis
        m = tf.stop_gradient(tf.maximum(tf.reduce_max(tf.abs(kernel), axis=(0, 1, 2)), 1e-8))
        kernel = tf.quantization.fake_quant_with_min_max_vars_per_channel(kernel, -m, m, num_bits=BITS,
                                                                          narrow_range=True)
        return super().convolution_op(inputs, kernel)


def _quant_conv(layer):
    """A Conv2D's QuantConv2D twin, float32 (QAT runs in float32), unbuilt."""
    config = {**layer.get_config(), "dtype": "float32"}
    return QuantConv2D.from_config(config)


def quantize_model(model):
    """A fake-quantised copy of the functional float model ``model`` (N, h, w, C) -> (N, H, W, C), same weights.

    ``Conv2D`` -> :class:`QuantConv2D` + tracked :class:`FakeQuant`; the image input and the output -> fixed
    [0, 1] :class:`FakeQuant` (the output is clipped there); ``Add`` -> + tracked :class:`FakeQuant`. Layers
    that only move values (``SubPixelUpscale``, ``Concatenate`` of tensors on one grid) are kept. Raises ValueError
    (one line) for a layer the int8 export cannot take (``PReLU``, ``tanh`` and other non-ReLU activations,
    transposed or separable convolutions, resizes).
    """
    ok = ("InputLayer", "Conv2D", "SubPixelUpscale", "Add", "Concatenate", "FakeQuant", "QuantConv2D")
    for layer in model.layers:
        kind = type(layer).__name__
        act = getattr(layer, "activation", None)
        act_name = getattr(act, "__name__", "linear")
        if kind not in ok or act_name not in ("linear", "relu"):
            raise ValueError(f"{model.name}: layer {layer.name} ({kind}, activation {act_name}) has no int8 "
                             "export here (ReLU Conv2D, Add, Concatenate and SubPixelUpscale only)")
    if any(isinstance(layer, FakeQuant) for layer in model.layers):
        raise ValueError(f"{model.name}: already quantised")
    if len(model.inputs) != 1:
        raise ValueError(f"{model.name}: quantize_model takes a model of one image input")
    source = model.inputs[0]
    image = keras.Input(source.shape[1:], batch_size=source.shape[0], name=source.name)
    quantized = FakeQuant(fixed=(0.0, 1.0), name="input_quant")(image)

    def call(layer, *args, **kwargs):
        args = keras.tree.map_structure(lambda t: quantized if t is image else t, args)
        out = layer(*args, **kwargs)
        if isinstance(layer, QuantConv2D | keras.layers.Add):
            out = FakeQuant(name=f"{layer.name}_quant")(out)
        return out

    clone = keras.models.clone_model(
        model, clone_function=lambda layer: _quant_conv(layer) if type(layer) is keras.layers.Conv2D
        else layer.__class__.from_config(layer.get_config()), call_function=call, input_tensors=image)
    for mine, theirs in zip(_weighted(clone), _weighted(model), strict=True):
        mine.set_weights(theirs.get_weights())
    # the output: the last tracked FakeQuant before it becomes the fixed [0, 1] one (the clip)
    last = _last_quant(clone)
    last.fixed = (0.0, 1.0)
    last.min.assign(0.0)
    last.max.assign(1.0)
    last.seen.assign(1.0)
    return clone


def calibrate(model, x):
    """Set the tracked ranges of a :func:`quantize_model` d model from one batch ``x`` (N, h, w, C) (a training-mode
    pass: the first batch a range sees sets it). Returns ``model``."""
    model(tf.convert_to_tensor(x, tf.float32), training=True)
    return model


def _weighted(model):
    """The layers with trainable weights (convolutions), in order."""
    return [layer for layer in model.layers if layer.trainable_weights]


def _last_quant(model):
    """The FakeQuant whose output reaches the model output through value-moving layers only."""
    t = model.outputs[0]
    while True:
        layer = t._keras_history[0]
        if isinstance(layer, FakeQuant):
            return layer
        if type(layer).__name__ != "SubPixelUpscale":
            raise ValueError(f"{model.name}: output layer {layer.name} is not quantised")
        t = layer._inbound_nodes[0].input_tensors[0]
