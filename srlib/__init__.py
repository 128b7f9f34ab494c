"""srlib: image and video super-resolution with Keras 3 / TensorFlow."""

import os

__version__ = "0.1.0"

if not os.environ.get("SRLIB_VERBOSE"):
    # TensorFlow's C++ start-up messages (CUDA probe, oneDNN notes) say nothing on a CPU-only machine;
    # set SRLIB_VERBOSE=1 (or `srlib --verbose`) to see them. Has no effect once TensorFlow is imported.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def __getattr__(name):
    """``srlib.upscale``: :func:`srlib.app.upscaling.upscale`, imported on first use (``import srlib`` stays light)."""
    if name == "upscale":
        from srlib.app.upscaling import upscale

        return upscale
    raise AttributeError(f"module 'srlib' has no attribute {name!r}")
