"""Custom Keras layers, registered so saved ``.keras`` models load without ``custom_objects``."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="srlib")
class SubPixelUpscale(keras.layers.Layer):
    """Sub-pixel convolution output (Shi et al. 2016): depth-to-space by ``scale``.

    Rearranges (N, H, W, C * scale**2) into (N, H * scale, W * scale, C) as
    ``tf.nn.depth_to_space``: output pixel (i, j) of the s x s tile, channel c,
    comes from input channel ``(i * s + j) * C + c``.

    Args:
      scale: integer upscaling factor.

    Example:
      x = keras.layers.Conv2D(3 * 3**2, 3, padding="same")(features)
      hr = SubPixelUpscale(3)(x)      # (N, 3H, 3W, 3)
    """

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = int(scale)

    def call(self, inputs):
        return tf.nn.depth_to_space(inputs, self.scale)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        s = self.scale
        if c is not None and c % (s * s):
            raise ValueError(f"SubPixelUpscale({s}) needs channels divisible by {s * s}, got {c}")
        up = lambda d: None if d is None else d * s  # noqa: E731
        return (n, up(h), up(w), None if c is None else c // (s * s))

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}
