"""srlib: image and video super-resolution with Keras 3 / TensorFlow."""

__version__ = "0.1.0"
