"""A Keras model run by TensorFlow Lite's XNNPACK CPU kernels, for inputs of one fixed shape.

XNNPACK's float32 convolutions run small SR networks such as ESPCN about 1.4x
faster than TensorFlow's own CPU kernels on an AVX2 machine (``benchmarks/video.py``
measures it side by side), with the same float32 arithmetic: outputs agree with
the Keras model to about 1e-6. The model is exported as a SavedModel
(``model.export``) and converted by ``tf.lite.TFLiteConverter``; nothing is
quantized.
"""

import contextlib
import os
import sys
import tempfile
import warnings

import numpy as np
import tensorflow as tf


@contextlib.contextmanager
def _quiet():
    """File descriptors 1 and 2 to /dev/null: the SavedModel export's "Assets written to" and TFLite's C++ notice
    about its XNNPACK delegate are not for users. Nothing is hidden with ``SRLIB_VERBOSE`` (``srlib --verbose``)."""
    if os.environ.get("SRLIB_VERBOSE"):
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
            yield
    finally:
        for fd, copy in zip((1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)


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
        with _quiet(), tempfile.TemporaryDirectory() as tmp:
            model.export(tmp, format="tf_saved_model", input_signature=[tf.TensorSpec(self.shape, tf.float32)],
                         verbose=False)
            blob = tf.lite.TFLiteConverter.from_saved_model(tmp).convert()
            with warnings.catch_warnings():  # tf.lite's notice that the interpreter moves to the LiteRT package
                warnings.simplefilter("ignore")
                self.interpreter = tf.lite.Interpreter(model_content=blob, num_threads=threads or os.cpu_count())
            self.interpreter.allocate_tensors()
            self.interpreter.invoke()  # the delegate announces itself on the first run
        self._in = self.interpreter.get_input_details()[0]["index"]
        self._out = self.interpreter.get_output_details()[0]["index"]

    def __call__(self, x):
        x = np.asarray(x, np.float32)
        if x.shape != self.shape:
            raise ValueError(f"LiteNet was built for inputs of shape {self.shape}, not {x.shape}")
        self.interpreter.set_tensor(self._in, x)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self._out)
