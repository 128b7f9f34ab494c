"""TensorFlow Lite models run by XNNPACK's CPU kernels: a Keras model at one fixed shape, or a ``.tflite`` file.

XNNPACK's float32 convolutions run small SR networks such as ESPCN about 1.4x
faster than TensorFlow's own CPU kernels on an AVX2 machine (``benchmarks/video.py``
measures it side by side), with the same float32 arithmetic: outputs agree with
the Keras model to about 1e-6. :class:`LiteNet` exports a Keras model as a SavedModel
(``model.export``) and converts it with ``tf.lite.TFLiteConverter``; nothing is
quantized. :class:`LiteFile` runs a converted flatbuffer as it is, at any input size: the int8 models of
:mod:`srlib.quant` are run this way. Their edges are int8 on grey levels (scale 1/255, zero point -128: an int8
value is a uint8 grey level minus 128), so video frames go in and come out as uint8 with no float pass over the
1080p output (:meth:`LiteFile.grey_levels`); float callers get float32 in and out as from any other model.

The interpreter is the LiteRT package's (``ai_edge_litert``, pinned in requirements.txt): TensorFlow's own
``tf.lite.Interpreter`` is deprecated in its favour; both run the same XNNPACK kernels (same outputs, same speed
on a 2-core Xeon). The converter stays TensorFlow's.
"""

import math
import os
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from srlib.inference import tiling
from srlib.quant import FakeQuant
from srlib.quiet import silenced


def convert(model, shape, optimize=False, int8_edges=False):
    """The TFLite flatbuffer (bytes) of Keras ``model`` for float32 inputs of ``shape`` (batch included; None for a
    size the interpreter is told later). ``optimize``: the converter's default optimisations, which fold the
    fake-quant ops of a :mod:`srlib.quant` model into int8 kernels; off, nothing is quantized. ``int8_edges``
    (with ``optimize``): the graph takes and gives int8 at the ranges of its first and last fake-quant ops, with
    no QUANTIZE / DEQUANTIZE op at its edges."""
    if int8_edges and not optimize:
        raise ValueError("convert: int8_edges needs optimize=True (a fake-quant model folded into int8 kernels)")
    with silenced(), tempfile.TemporaryDirectory() as tmp:
        model.export(tmp, format="tf_saved_model", input_signature=[tf.TensorSpec(shape, tf.float32)], verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        if optimize:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if int8_edges:
            converter.inference_input_type = converter.inference_output_type = tf.int8
        return converter.convert()


class LiteNet:
    """``model`` compiled for float32 inputs of shape ``shape`` and run by the XNNPACK delegate.

    Args:
      model: a Keras model with float32 inputs and outputs (see
        :func:`srlib.precision.with_precision` for a model saved in bfloat16).
      shape: the input shape, batch included, e.g. (1, 360, 640, 1).
      threads: CPU threads (default: all of them).

    Calling it: float32 array ``shape`` -> float32 array, the model's output
    (e.g. (1, 1080, 1920, 1) for ESPCN x3). Not thread-safe: one caller at a time.
    """

    def __init__(self, model, shape, threads=None):
        self.shape = tuple(shape)
        self._net = LiteFile(convert(model, self.shape), threads=threads, shape=self.shape)

    def __call__(self, x):
        x = np.asarray(x, np.float32)
        if x.shape != self.shape:
            raise ValueError(f"LiteNet was built for inputs of shape {self.shape}, not {x.shape}")
        return self._net(x)


class LiteFile:
    """A TFLite flatbuffer (a ``.tflite`` file or its bytes) with one input and one output, float32 or int8, run by
    the XNNPACK delegate at any input shape.

    Args:
      model: path of a ``.tflite`` file, or its bytes.
      threads: CPU threads (default: all of them).
      shape: the input shape to allocate for now (batch included); another shape later reallocates (tens of ms:
        keep one engine per shape for video, as :class:`srlib.inference.frames.FastLuma` does).

    Calling it: float32 array (N, h, w, C) -> float32 array, the model's output (e.g. (N, 3h, 3w, 1) for an x3 luma
    model); int8 edges are quantised and dequantised here, in NumPy, at the graph's own scales (as its QUANTIZE and
    DEQUANTIZE ops would). Not thread-safe. ``int8``: whether its convolutions run in int8; ``grey``: whether its
    edges are int8 grey levels (:meth:`grey_levels`). :meth:`reach` and :attr:`scale` are read from the graph.
    """

    def __init__(self, model, threads=None, shape=None):
        if isinstance(model, bytes):
            self.blob, self.source = model, "TFLite model"
        else:
            self.source = str(model)
            try:
                self.blob = Path(model).read_bytes()
            except OSError as e:
                raise ValueError(f"{model}: cannot read ({e.strerror})") from None
        try:
            with silenced():
                self.interpreter = Interpreter(model_content=self.blob, num_threads=threads or os.cpu_count())
        except ValueError as e:
            raise ValueError(f"{self.source}: not a TFLite model ({str(e).splitlines()[0]})") from None
        ins, outs = self.interpreter.get_input_details(), self.interpreter.get_output_details()
        if len(ins) != 1 or len(outs) != 1 or {ins[0]["dtype"], outs[0]["dtype"]} - {np.float32, np.int8}:
            raise ValueError(f"{self.source}: needs one float32 or int8 input and one float32 or int8 output")
        self._in, self._out = ins[0]["index"], outs[0]["index"]
        # (scale, zero point) of an int8 edge, None for a float32 one
        self._qin, self._qout = (d["quantization"] if d["dtype"] == np.int8 else None for d in (ins[0], outs[0]))
        self.grey = all(q is not None and np.isclose(q[0], 1 / 255) and q[1] == -128 for q in (self._qin, self._qout))
        self.channels = int(ins[0]["shape_signature"][-1])
        self.int8 = any(op["op_name"] == "CONV_2D" and np.int8 in op["operand_types"]
                        for op in self.interpreter._get_ops_details())
        self.shape = None
        if shape is not None:
            self._resize(tuple(shape))

    def _resize(self, shape):
        with silenced():  # the delegate announces itself on the first run
            self.interpreter.resize_tensor_input(self._in, shape, strict=True)
            self.interpreter.allocate_tensors()
            self.interpreter.invoke()
        self.shape = shape

    def __call__(self, x):
        x = np.asarray(x, np.float32)
        if self._qin is not None:
            scale, zero = self._qin
            x = np.clip(np.round(x / np.float32(scale)) + zero, -128, 127).astype(np.int8)
        out = self._run(x)
        if self._qout is None:
            return out
        scale, zero = self._qout
        return (out.astype(np.float32) - np.float32(zero)) * np.float32(scale)

    def grey_levels(self, x):
        """uint8 grey levels (N, h, w, C) -> the model's output as uint8 grey levels, no float pass: a uint8 value
        v is the int8 value v - 128 at scale 1/255 (the model's input), and back at its output. Needs :attr:`grey`."""
        if not self.grey:
            raise ValueError(f"{self.source}: its edges are not int8 grey levels (scale 1/255, zero point -128)")
        x = np.asarray(x)
        if x.dtype != np.uint8:
            raise ValueError(f"{self.source}: grey_levels takes uint8, not {x.dtype}")
        return (self._run((x ^ np.uint8(128)).view(np.int8)).view(np.uint8)) ^ np.uint8(128)

    def _run(self, x):
        """The graph on ``x`` (its input dtype), reallocated for a new shape; its output array."""
        if x.shape != self.shape:
            if x.ndim != 4 or x.shape[-1] != self.channels:
                raise ValueError(f"{self.source}: input shape {x.shape} is not (N, h, w, {self.channels})")
            self._resize(x.shape)
        self.interpreter.set_tensor(self._in, x)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self._out)

    @property
    def scale(self):
        """The upscaling factor, from the graph (the product of its pixel shuffles)."""
        return self._graph()[1]

    def reach(self):
        """:class:`srlib.inference.tiling.Reach` from the graph's ops, by :mod:`srlib.inference.tiling`'s per-layer
        rules: every convolution and pixel shuffle adds its reach at its resolution (the sum over all ops, an upper
        bound for any graph). ValueError for an op with an unknown reach."""
        radius, _, peak = self._graph()
        return tiling.Reach(math.ceil(radius - 1e-9), 1, tiling.activation_bytes(peak))

    def _graph(self):
        """(receptive radius in input pixels, upscaling factor, peak activation channels times its area over the
        input's)."""
        tensors = {t["index"]: t for t in self.interpreter.get_tensor_details()}
        radius, factor, peak = 0.0, 1, self.channels
        pointwise = {"QUANTIZE", "DEQUANTIZE", "ADD", "SUB", "MUL", "RELU", "RELU6", "RELU_N1_TO_1", "MINIMUM",
                     "MAXIMUM", "CONCATENATION", "TANH", "LOGISTIC", "PRELU", "LEAKY_RELU", "HARD_SWISH"}
        for op in self.interpreter._get_ops_details():
            name = op["op_name"]
            if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                kernel = tensors[op["inputs"][1]]["shape"]  # (out, kh, kw, in) or (1, kh, kw, out)
                radius += tiling.conv_radius(max(kernel[1:3])) / factor
            elif name == "DEPTH_TO_SPACE":
                c_in = tensors[op["inputs"][0]]["shape_signature"][-1]
                c_out = tensors[op["outputs"][0]]["shape_signature"][-1]
                radius += tiling.SUBPIXEL_RADIUS / factor
                factor *= math.isqrt(int(c_in // c_out))
            elif name not in pointwise:
                raise ValueError(f"{self.source}: op {name} has a reach unknown to srlib.inference.lite")
            for t in op["outputs"]:
                peak = max(peak, int(tensors[t]["shape_signature"][-1]) * factor * factor)
        return radius, factor, peak


def to_tflite(model):
    """The int8 TFLite flatbuffer (bytes) of a :func:`srlib.quant.quantize_model` d model: int8 weights and activations
    at the ranges its :class:`srlib.quant.FakeQuant` layers hold, input (N, h, w, C) of any size; int8 input and output
    on the grey levels of their fixed [0, 1] ranges (no QUANTIZE or DEQUANTIZE op: :class:`LiteFile` does that
    in NumPy for float callers, and nothing for uint8 frames)."""
    if not any(isinstance(layer, FakeQuant) for layer in model.layers):
        raise ValueError(f"{model.name}: not quantised (srlib.quant.quantize_model, then fine-tune)")
    return convert(model, (None, None, None, model.input_shape[-1]), optimize=True, int8_edges=True)
