"""Custom Keras layers, registered so saved ``.keras`` models load without ``custom_objects``."""

import keras
import numpy as np
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


@keras.saving.register_keras_serializable(package="srlib")
class ResizeUpscale(keras.layers.Layer):
    """Fixed (non-learned) upscaling by ``scale`` with ``tf.image.resize``: the base a residual SR model adds to.

    (N, H, W, C) -> (N, H * scale, W * scale, C) for any H and W, also inside a graph with unknown
    sizes (where ``keras.layers.UpSampling2D(interpolation='bilinear')`` fails).

    Args:
      scale: integer upscaling factor.
      method: ``tf.image.resize`` method, 'bilinear' (default) or 'bicubic' (not MATLAB's: no antialias
        is needed when enlarging, but the kernel is Keys' a = -0.5, MATLAB's too; borders differ).
    """

    def __init__(self, scale, method="bilinear", **kwargs):
        super().__init__(**kwargs)
        self.scale, self.method = int(scale), method

    def call(self, inputs):
        size = tf.shape(inputs)[1:3] * self.scale
        return tf.cast(tf.image.resize(inputs, size, method=self.method), inputs.dtype)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        up = lambda d: None if d is None else d * self.scale  # noqa: E731
        return (n, up(h), up(w), c)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "method": self.method}


@keras.saving.register_keras_serializable(package="srlib")
class MatchSize(keras.layers.Layer):
    """Crop ``x`` to the height and width of ``ref``: ``MatchSize()([x, ref])``.

    For encoder-decoders on sizes that are not multiples of the pooling: a map pooled with
    ``padding='same'`` and upsampled again is up to one pixel larger than the skip it meets.
    (N, H', W', C) with H' >= H, W' >= W -> (N, H, W, C).
    """

    def call(self, inputs):
        x, ref = inputs
        shape = tf.shape(ref)
        return x[:, : shape[1], : shape[2], :]

    def compute_output_shape(self, input_shapes):
        x, ref = input_shapes
        return (x[0], ref[1], ref[2], x[3])


def gaussian_kl(mean, log_var):
    """KL divergence of N(mean, exp(log_var)) from N(0, 1), element by element (nats), same shape as ``mean``."""
    return 0.5 * (tf.square(mean) + tf.exp(log_var) - 1.0 - log_var)


@keras.saving.register_keras_serializable(package="srlib")
class Sampling(keras.layers.Layer):
    """The reparameterisation of a VAE: ``[mean, log_var]`` -> ``z``, both (N, ..., L).

    In training, ``z = mean + exp(log_var / 2) * eps`` with ``eps ~ N(0, 1)`` a stateless function of
    ``seed``, the replica and a draw counter that is one of the layer's weights, so the same seed gives the
    same draws, a run resumed from a checkpoint continues the same sequence, and each replica of a distributed
    step (another batch) draws its own noise (replica 0, and a single process, draws what the seed alone gives).
    At inference ``z = mean`` (the posterior mean), unless the call gets ``sample=True``. Each call also records
    the KL divergence (:func:`gaussian_kl`) of N(mean, var) from N(0, 1), summed over the last axis and averaged
    over the others (nats per latent position), with ``add_loss``: ``model.losses`` holds it after each call.

    Args:
      seed: integer seed of the noise (None: a random one).
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self._seed = int(np.random.default_rng().integers(2**31)) if seed is None else int(seed)
        self.draws = self.add_weight(shape=(), dtype="int64", initializer="zeros", trainable=False, name="draws",
                                     aggregation="only_first_replica")

    def call(self, inputs, training=None, sample=False):
        mean, log_var = inputs
        kl = tf.cast(gaussian_kl(mean, log_var), "float32")  # (N, ..., L)
        self.add_loss(tf.reduce_mean(tf.reduce_sum(kl, axis=-1)))
        if not (training or sample):
            return mean
        replica = tf.distribute.get_replica_context()  # None in a cross-replica context
        replica = tf.cast(replica.replica_id_in_sync_group if replica else 0, tf.int64)
        seed = tf.stack([tf.constant(self._seed, tf.int64) + replica * 2**32, self.draws.value])
        self.draws.assign_add(1)
        eps = tf.random.stateless_normal(tf.shape(mean), seed, dtype=mean.dtype)
        return mean + tf.exp(0.5 * log_var) * eps

    def compute_output_shape(self, input_shapes):
        return input_shapes[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def coord_grid(height, width, frame=None):
    """Pixel-centre coordinates of a ``height`` x ``width`` image, (height * width, 2) float32, row-major.

    Each row is (y, x) in [-1, 1]: pixel (i, j) has centre y = (2 i + 1) / height - 1, x = (2 j + 1) / width - 1,
    so an image and any resize of it share one coordinate frame (MATLAB ``imresize`` aligns pixels the same way).
    ``frame`` = (fh, fw): the frame's extent in pixels when it is not the grid's own (a non-integer h * scale:
    pixel (i, j) then has centre y = (2 i + 1) / fh - 1, x = (2 j + 1) / fw - 1).
    """
    fh, fw = frame or (height, width)
    y = (2.0 * tf.range(height, dtype=tf.float32) + 1.0) / tf.cast(fh, tf.float32) - 1.0
    x = (2.0 * tf.range(width, dtype=tf.float32) + 1.0) / tf.cast(fw, tf.float32) - 1.0
    yy, xx = tf.meshgrid(y, x, indexing="ij")
    return tf.reshape(tf.stack([yy, xx], axis=-1), [-1, 2])


@keras.saving.register_keras_serializable(package="srlib")
class CoordGrid(keras.layers.Layer):
    """The input of a CPPN with one global latent: ``[coord, z]`` -> (N, Q, 3 + L) rows (y, x, r, z).

    ``coord`` (N, Q, 2) are query points (y, x) in [-1, 1] (:func:`coord_grid` of the output size:
    any resolution), ``r = sqrt(x^2 + y^2)``; ``z`` (N, L) is repeated at every query.
    """

    def call(self, inputs):
        coord, z = inputs
        r = tf.norm(coord, axis=-1, keepdims=True)
        zq = tf.repeat(z[:, None, :], tf.shape(coord)[1], axis=1)
        return tf.concat([coord, r, tf.cast(zq, coord.dtype)], axis=-1)

    def compute_output_shape(self, input_shapes):
        coord, z = input_shapes
        return (coord[0], coord[1], 3 + z[-1])


@keras.saving.register_keras_serializable(package="srlib")
class LocalQuery(keras.layers.Layer):
    """The input of a CPPN conditioned on a grid of local latents (LIIF's form, without the local ensemble).

    ``[z, lr, coord, cell]`` -> ``[features, base]``:

    * ``z`` (N, h, w, L): one latent per LR pixel; ``lr`` (N, h, w, C): the LR image;
    * ``coord`` (N, Q, 2): query points (y, x) in [-1, 1], :func:`coord_grid`'s frame;
    * ``cell`` (N, Q, 2): the size of an output pixel in the same units (2 / H, 2 / W);
    * ``features`` (N, Q, L + 4): the latent of the LR pixel nearest each query, the query's offset from that
      pixel's centre in LR pixels (in [-0.5, 0.5] inside the image) and the cell in LR pixels (1 / scale);
    * ``base`` (N, Q, C): the LR image bilinearly interpolated at the query (edge pixels repeated), the
      value the CPPN's output is added to.
    """

    def call(self, inputs):
        z, lr, coord, cell = inputs
        shape = tf.shape(lr)
        size = tf.cast(shape[1:3], tf.float32)
        u = (tf.cast(coord, tf.float32) + 1.0) * 0.5 * size - 0.5  # (N, Q, 2) continuous LR pixel index
        limit = tf.cast(shape[1:3] - 1, tf.float32)
        # The nearest LR pixel; a query halfway between two (every 5th pixel at x2.5) takes the lower one, with a
        # margin far below the 1 / 32 that separates other queries (scales p / q, p <= 16) from a tie, so float
        # error in u cannot flip the choice between a crop of the image and the whole (tiles stay exact).
        nearest = tf.clip_by_value(tf.floor(u + (0.5 - 1e-3)), 0.0, limit)

        def at(yx):  # (N, Q, 2) integer-valued float -> flat index into (N, h * w)
            yx = tf.cast(yx, tf.int32)
            return yx[..., 0] * shape[2] + yx[..., 1]

        flat = lambda t: tf.reshape(t, [shape[0], -1, t.shape[-1]])  # noqa: E731
        zq = tf.gather(flat(z), at(nearest), batch_dims=1)
        lo = tf.clip_by_value(tf.floor(u), 0.0, limit)
        hi = tf.clip_by_value(lo + 1.0, 0.0, limit)
        t = tf.clip_by_value(u - lo, 0.0, 1.0)  # (N, Q, 2) bilinear weights of the upper neighbour
        img = flat(tf.cast(lr, tf.float32))
        corner = lambda y, x: tf.gather(img, at(tf.stack([y, x], -1)), batch_dims=1)  # noqa: E731
        ty, tx = t[..., :1], t[..., 1:]
        base = ((1 - ty) * ((1 - tx) * corner(lo[..., 0], lo[..., 1]) + tx * corner(lo[..., 0], hi[..., 1]))
                + ty * ((1 - tx) * corner(hi[..., 0], lo[..., 1]) + tx * corner(hi[..., 0], hi[..., 1])))
        cell_lr = tf.cast(cell, tf.float32) * 0.5 * size
        features = tf.concat([tf.cast(zq, tf.float32), u - nearest, cell_lr], axis=-1)
        return features, base

    def compute_output_shape(self, input_shapes):
        z, lr, coord, _ = input_shapes
        return (coord[0], coord[1], z[-1] + 4), (coord[0], coord[1], lr[-1])


def _keys_cubic(d):
    """Keys' cubic convolution kernel (a = -0.5, MATLAB's ``cubic``) at distances ``d``."""
    d = tf.abs(d)
    near = (1.5 * d - 2.5) * d * d + 1.0
    far = ((-0.5 * d + 2.5) * d - 4.0) * d + 2.0
    return tf.where(d <= 1.0, near, tf.where(d < 2.0, far, tf.zeros_like(d)))


@keras.saving.register_keras_serializable(package="srlib")
class LRTaps(keras.layers.Layer):
    """The LR around each query point of a global-latent CPPN: ``[lr, coord]`` -> ``[features, base]``.

    * ``lr`` (N, h, w, C): the LR image; ``coord`` (N, Q, 2): query points (y, x) in [-1, 1], :func:`coord_grid`'s
      frame (pixel centres of LR and output aligned as MATLAB ``imresize`` aligns them);
    * ``features`` (N, Q, 16 C + 2): the 4 x 4 LR pixels whose cubic weights reach the query (row-major, channels
      last; borders mirrored symmetrically, MATLAB's padding) and the query's offset in LR pixels from the
      upper-left of the middle four, in [0, 1);
    * ``base`` (N, Q, C): the LR interpolated at the query from those taps, ``method`` 'bicubic' (Keys a = -0.5:
      at the pixel centres of an H x W output this is MATLAB ``imresize(lr, [H W], 'bicubic')``) or 'bilinear'.

    Args:
      method: 'bicubic' or 'bilinear'.
    """

    def __init__(self, method="bicubic", **kwargs):
        super().__init__(**kwargs)
        if method not in ("bicubic", "bilinear"):
            raise ValueError(f"LRTaps: method must be 'bicubic' or 'bilinear', not {method!r}")
        self.method = method

    def call(self, inputs):
        lr, coord = inputs
        shape = tf.shape(lr)
        size = tf.cast(shape[1:3], tf.float32)
        u = (tf.cast(coord, tf.float32) + 1.0) * 0.5 * size - 0.5  # (N, Q, 2) continuous LR pixel index
        left = tf.floor(u)
        t = u - left  # (N, Q, 2) in [0, 1)
        k = tf.constant([-1.0, 0.0, 1.0, 2.0])
        kernel = _keys_cubic if self.method == "bicubic" else lambda d: tf.maximum(0.0, 1.0 - tf.abs(d))
        wy, wx = kernel(t[..., :1] - k), kernel(t[..., 1:] - k)  # (N, Q, 4) each
        period = 2 * shape[1:3]
        idx = tf.cast(left[..., None] + k, tf.int32)  # (N, Q, 2, 4)
        idx = tf.math.floormod(idx, period[:, None])
        idx = tf.where(idx < shape[1:3][:, None], idx, period[:, None] - 1 - idx)  # symmetric mirror
        flat_idx = idx[..., 0, :, None] * shape[2] + idx[..., 1, None, :]  # (N, Q, 4, 4)
        img = tf.reshape(tf.cast(lr, tf.float32), [shape[0], -1, shape[3]])
        taps = tf.gather(img, tf.reshape(flat_idx, [shape[0], -1]), batch_dims=1)  # (N, Q * 16, C)
        taps = tf.reshape(taps, [shape[0], -1, 4, 4, shape[3]])
        base = tf.einsum("nqi,nqj,nqijc->nqc", wy, wx, taps)
        features = tf.concat([tf.reshape(taps, [shape[0], -1, 16 * lr.shape[-1]]), t], axis=-1)
        return features, base

    def compute_output_shape(self, input_shapes):
        lr, coord = input_shapes
        return (coord[0], coord[1], 16 * lr[-1] + 2), (coord[0], coord[1], lr[-1])

    def get_config(self):
        return {**super().get_config(), "method": self.method}
