"""The fifth report's model: a VAE-style encoder feeding a CPPN that renders at any resolution, with a discriminator.

A CPPN (compositional pattern-producing network) is an MLP from a pixel's coordinates to its value. Conditioned
on a latent code of the LR image it becomes a super-resolution decoder with no fixed output size: the same
weights render 28 x 28 or 1800 x 1800. Two latent forms:

* ``form='global'`` (the seed's, for digits): the encoder maps a fixed-size LR image to one latent vector ``z``;
  the CPPN maps (y, x, r, z) to intensity (:class:`srlib.layers.CoordGrid`); with ``base='bicubic'`` it also sees
  the LR around each query and adds a correction to the bicubic interpolation there (:class:`srlib.layers.LRTaps`).
* ``form='local'`` (for photos; LIIF's idea, Chen et al., CVPR 2021): the encoder maps an LR image of any size
  to a latent per LR pixel; the CPPN maps the latent of the LR pixel nearest the query, the query's offset from
  it and the output pixel size (1 / scale) to a correction of the bilinear interpolation there
  (:class:`srlib.layers.LocalQuery`). Trained on random scales, it renders any scale.

Inputs are dicts: ``lr`` (N, h, w, C), ``coord`` (N, Q, 2) query points in [-1, 1] (:func:`srlib.layers.coord_grid`)
and, for the local form, ``cell`` (N, Q, 2) the output pixel size in the same units; the output is (N, Q, C).
:func:`render` draws a whole image in query tiles (bounded memory, the encoder run once). The data:
:mod:`srlib.sources.digits` (global form), :mod:`srlib.sources.implicit_data` (local form).

:class:`CPPNGAN` trains a generator (``encoder`` -> ``Sampling`` -> ``decoder``, nested models) on
reconstruction (MSE) + beta * KL + ``adversarial`` * the non-saturating GAN loss of a convolutional discriminator
on HR vs SR images; all terms and the discriminator's loss are logged every step. One Adam updates generator and
discriminator together (simultaneous gradient steps), so a checkpoint holds one optimizer and resumes exactly.
"""

import math

import keras
import numpy as np
import tensorflow as tf

from srlib.layers import CoordGrid, LocalQuery, LRTaps, Sampling, coord_grid


def _bce(logits, value):
    """Mean sigmoid cross-entropy of ``logits`` against the constant label ``value``."""
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.fill(tf.shape(logits), value), logits))


@keras.saving.register_keras_serializable(package="srlib")
class CPPNGAN(keras.Model):
    """Generator + optional discriminator, trained on MSE + beta * KL + adversarial * GAN loss.

    Logs (each step, and per epoch): loss, recon (MSE), kl, psnr (of the queried pixels) and beta; with a
    discriminator also adv (the generator's GAN loss), d_loss, and d_real / d_fake (its mean probability that HR
    and SR are real). Validation (and so checkpoint choice) uses recon + beta * KL, not the adversarial term.

    Args:
      generator: a :func:`digit_generator` or :func:`photo_generator` model (dict inputs -> (N, Q, C)).
      discriminator: None (no adversarial term) or a :func:`discriminator` on (N, hr_size, hr_size, C) images;
        then the queries of each sample must be the ``hr_size`` x ``hr_size`` grid in row-major order.
      beta: weight of the KL (nats per latent position), ramped linearly from 0 over ``warmup`` steps.
      adversarial: weight of the generator's adversarial loss.
      hr_size: output side the discriminator sees.
    """

    def __init__(self, generator, discriminator=None, beta=1e-4, adversarial=0.0, warmup=0, hr_size=None, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.beta, self.adversarial, self.warmup, self.hr_size = float(beta), float(adversarial), int(warmup), hr_size
        names = ("loss", "recon", "kl", "psnr") + (("adv", "d_loss", "d_real", "d_fake") if discriminator else ())
        self.trackers = {k: keras.metrics.Mean(name=k) for k in names}
        self.built = True  # its parts come built

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def beta_now(self):
        """beta at the optimizer's current step (linear warm-up)."""
        if not self.warmup:
            return tf.constant(self.beta)
        return self.beta * tf.minimum(1.0, tf.cast(self.optimizer.iterations, "float32") / float(self.warmup))

    def _image(self, q):
        return tf.reshape(q, [-1, self.hr_size, self.hr_size, q.shape[-1]])

    def _log(self, **values):
        for k, v in values.items():
            self.trackers[k].update_state(v)
        return {k: self.trackers[k].result() for k in values}

    def _generate(self, x, hr, training):
        sr = self.generator(x, training=training)
        recon = tf.reduce_mean(tf.square(hr - sr))
        kl = tf.add_n(self.generator.losses) if self.generator.losses else tf.constant(0.0)
        psnr = tf.reduce_mean(-10.0 * tf.math.log(tf.reduce_mean(tf.square(hr - sr), axis=[1, 2]) + 1e-10)
                              / math.log(10.0))
        return sr, recon, kl, psnr

    def train_step(self, data):
        x, hr, _ = keras.utils.unpack_x_y_sample_weight(data)  # fit: (x, y); train_on_batch: (x, y, None)
        g_vars = self.generator.trainable_variables
        d_vars = self.discriminator.trainable_variables if self.discriminator else []
        with tf.GradientTape(persistent=True) as tape:
            sr, recon, kl, psnr = self._generate(x, hr, training=True)
            loss = recon + self.beta_now() * kl
            extra = {}
            if self.discriminator:
                real = self.discriminator(self._image(hr), training=True)
                fake = self.discriminator(self._image(sr), training=True)
                adv = _bce(fake, 1.0)  # non-saturating: the generator wants its images called real
                d_loss = _bce(real, 1.0) + _bce(fake, 0.0)
                loss = loss + self.adversarial * adv
                extra = {"adv": adv, "d_loss": d_loss, "d_real": tf.reduce_mean(tf.sigmoid(real)),
                         "d_fake": tf.reduce_mean(tf.sigmoid(fake))}
            replicas = tf.distribute.get_strategy().num_replicas_in_sync  # the optimizer sums replicas' gradients
            scaled = [loss / replicas, extra["d_loss"] / replicas if self.discriminator else None]
        grads = tape.gradient(scaled[0], g_vars)
        if self.discriminator:
            grads += tape.gradient(scaled[1], d_vars)
        del tape
        self.optimizer.apply_gradients(zip(grads, g_vars + d_vars, strict=True))
        return {**self._log(loss=loss, recon=recon, kl=kl, psnr=psnr, **extra), "beta": self.beta_now()}

    def test_step(self, data):
        x, hr, _ = keras.utils.unpack_x_y_sample_weight(data)
        _, recon, kl, psnr = self._generate(x, hr, training=False)
        return self._log(loss=recon + self.beta * kl, recon=recon, kl=kl, psnr=psnr)

    def get_config(self):
        ser = keras.saving.serialize_keras_object
        return {"name": self.name, "generator": ser(self.generator),
                "discriminator": ser(self.discriminator) if self.discriminator else None,
                "beta": self.beta, "adversarial": self.adversarial, "warmup": self.warmup, "hr_size": self.hr_size}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        de = lambda c: keras.saving.deserialize_keras_object(c, custom_objects=custom_objects)  # noqa: E731
        generator, discriminator = de(config.pop("generator")), config.pop("discriminator")
        return cls(generator, de(discriminator) if discriminator else None, **config)

    def build_from_config(self, config):  # the generator and discriminator come built
        pass


def _conv(filters, kernel=3, **kw):
    return keras.layers.Conv2D(filters, kernel, padding="same", kernel_initializer="he_normal", **kw)


def _head(x, latent, log_var_init):
    """Mean and log-variance heads (dense on vectors, 3x3 conv on grids), float32."""
    if len(x.shape) == 2:
        layer = lambda name, **kw: keras.layers.Dense(latent, name=name, dtype="float32", **kw)  # noqa: E731
    else:
        layer = lambda name, **kw: _conv(latent, name=name, dtype="float32", **kw)  # noqa: E731
    return layer("z_mean")(x), layer("z_log_var", bias_initializer=keras.initializers.Constant(log_var_init))(x)


def _generator(encoder, decoder, extra_inputs, seed, name):
    """lr + queries -> encoder -> Sampling -> decoder, as one model with nested ``encoder`` and ``decoder``."""
    lr = keras.Input(encoder.input_shape[1:], name="lr")
    z = Sampling(seed, name="sampling")(encoder(lr))
    return keras.Model({"lr": lr, **extra_inputs}, decoder([z, lr, *extra_inputs.values()]), name=name)


def digit_generator(lr_size=7, channels=1, latent=16, width=128, depth=3, activation="tanh", seed=1, base=None):
    """The digit generator: (N, lr_size, lr_size, C) -> one latent -> CPPN f(y, x, r, z), the seed's model.

    Inputs ``lr`` and ``coord`` (N, Q, 2); output (N, Q, C). ``depth`` layers of ``width`` units with ``activation``.
    ``base`` 'bicubic' or 'bilinear': the CPPN is conditioned on the LR as the photo model is, and learns a correction:
    it also sees the 4 x 4 LR pixels around each query and its offset (:class:`srlib.layers.LRTaps`), and its linear
    output (initialised near 0, so an untrained model renders the base) is added to the LR interpolated there by
    ``base`` (the shipped ``cppn-gan-mnist``: 'bicubic', chapter 05's digit study). None (the seed's form): the
    coordinates and the latent only, a sigmoid output in [0, 1].
    """
    lr = keras.Input((lr_size, lr_size, channels))
    h = _conv(32, activation="relu")(lr)
    for _ in range(2 if lr_size > 14 else 1):  # 7 -> 4, 26 -> 13 -> 7
        h = _conv(64, strides=2, activation="relu")(h)
    h = keras.layers.Dense(256, activation="relu")(keras.layers.Flatten()(h))
    encoder = keras.Model(lr, _head(h, latent, -4.0), name="encoder")
    z, lr_in, coord = keras.Input((latent,)), keras.Input(lr.shape[1:]), keras.Input((None, 2))
    x = CoordGrid()([coord, z])
    if base:
        taps, interpolated = LRTaps(base)([lr_in, coord])
        x = keras.layers.Concatenate()([x, taps])
    for _ in range(depth):
        x = keras.layers.Dense(width, activation=activation)(x)
    if base:
        tail = keras.layers.Dense(channels, dtype="float32", kernel_initializer=keras.initializers.RandomNormal(
            stddev=1e-3, seed=seed))(x)
        out = keras.layers.Add(dtype="float32")([tail, interpolated])
    else:
        out = keras.layers.Dense(channels, activation="sigmoid", dtype="float32")(x)
    decoder = keras.Model([z, lr_in, coord], out, name="decoder")
    return _generator(encoder, decoder, {"coord": keras.Input((None, 2), name="coord")}, seed, "cppn_digit")


def photo_generator(channels=1, latent=32, filters=(64, 32, 64, 64), width=64, depth=3, seed=1):
    """The local-latent generator for photos at any scale.

    Encoder: a 5x5 then 3x3 convolutions with ``filters`` (the first two as ESPCN's, so ``warm_start='espcn-x3'``
    can start them) -> a latent of ``latent`` channels per LR pixel. Decoder: :class:`srlib.layers.LocalQuery`,
    ``depth`` ReLU layers of ``width`` units, a linear output (initialised near 0) added to the bilinear base.
    Inputs ``lr`` (N, h, w, C), ``coord`` and ``cell`` (N, Q, 2); output (N, Q, C).
    """
    lr = keras.Input((None, None, channels))
    h = lr
    for i, f in enumerate(filters):
        h = _conv(f, 5 if i == 0 else 3, activation="relu")(h)
    encoder = keras.Model(lr, _head(h, latent, -6.0), name="encoder")
    z, lr_in = keras.Input((None, None, latent)), keras.Input((None, None, channels))
    coord, cell = keras.Input((None, 2)), keras.Input((None, 2))
    x, base = LocalQuery()([z, lr_in, coord, cell])
    for _ in range(depth):
        x = keras.layers.Dense(width, activation="relu", kernel_initializer="he_normal")(x)
    tail = keras.initializers.RandomNormal(stddev=1e-3)  # starts at the bilinear base
    x = keras.layers.Dense(channels, dtype="float32", kernel_initializer=tail)(x)
    decoder = keras.Model([z, lr_in, coord, cell], keras.layers.Add(dtype="float32")([x, base]), name="decoder")
    extra = {"coord": keras.Input((None, 2), name="coord"), "cell": keras.Input((None, 2), name="cell")}
    return _generator(encoder, decoder, extra, seed, "cppn_local")


def discriminator(hr_size=28, channels=1, filters=(64, 128)):
    """Convolutional discriminator: (N, hr_size, hr_size, C) -> (N, 1) logits (real HR vs SR)."""
    img = keras.Input((hr_size, hr_size, channels))
    h = img
    for f in filters:
        h = keras.layers.LeakyReLU(0.2)(keras.layers.Conv2D(f, 4, strides=2, padding="same")(h))
    return keras.Model(img, keras.layers.Dense(1, dtype="float32")(keras.layers.Flatten()(h)), name="discriminator")


def cppn_gan(scale, channels=1, form="local", lr_size=7, latent=None, beta=1e-4, adversarial=0.0, warmup=0,
             seed=1, **kwargs):
    """Build a :class:`CPPNGAN` (the experiment layer's builder).

    Args:
      scale: for ``form='global'``, output side / ``lr_size`` (28 / 7 = 4; 28 / 26 for the seed's 26 -> 28);
        for ``form='local'``, the largest training scale (any scale renders).
      channels: 1 (Y) or 3.
      form: 'global' (:func:`digit_generator`) or 'local' (:func:`photo_generator`).
      lr_size: input side of the global form.
      latent: latent size (default 16 global, 32 local).
      beta, warmup: KL weight and its warm-up steps.
      adversarial: weight of the GAN loss (0: no discriminator is built).
      **kwargs: the generator's other arguments (``width``, ``depth``, ``filters``).
    """
    if form == "global":
        hr_size = round(lr_size * scale)
        gen = digit_generator(lr_size, channels, latent or 16, seed=seed, **kwargs)
        disc = discriminator(hr_size, channels) if adversarial else None
        return CPPNGAN(gen, disc, beta, adversarial, warmup, hr_size, name=f"cppn_gan_{lr_size}to{hr_size}")
    if form != "local":
        raise ValueError(f"form must be 'global' or 'local', not {form!r}")
    if adversarial:
        raise ValueError("the local form trains without a discriminator (adversarial=0)")
    return CPPNGAN(photo_generator(channels, latent or 32, seed=seed, **kwargs), None, beta, 0.0, warmup,
                   name="cppn_local")


def generator_of(model):
    """The generator of a :class:`CPPNGAN`, or ``model`` itself when it is one (a shipped zoo model)."""
    return model.generator if isinstance(model, CPPNGAN) else model


def render(model, lr, size, tile=65536, scale=None):
    """Render (N, H, W, C) from LR images (N, h, w, C) at ``size`` = (H, W), ``tile`` queries at a time.

    ``scale``: the factor the output pixels sit at (pixel centres at (i + 0.5) / scale LR pixels), so that a crop of
    the LR renders exactly the matching part of the whole; None: H / h, the output frame stretched over the input.

    The encoder runs once, on the posterior mean; the decoder sees ``tile`` queries per call (a tile of the
    :func:`srlib.layers.coord_grid` of one image, or whole grids of several small images), so memory grows with
    ``tile``, not with N x H x W. Works for both forms (a global model needs its ``lr_size``).
    """
    gen = generator_of(model)
    lr = tf.convert_to_tensor(lr, tf.float32)
    n, (height, width) = lr.shape[0], size
    z = gen.get_layer("encoder")(lr)[0]
    decoder = gen.get_layer("decoder")
    local = len(decoder.inputs) == 4
    frame = (height, width) if scale is None else (lr.shape[1] * scale, lr.shape[2] * scale)
    grid = coord_grid(height, width, frame)
    cell = tf.constant([[[2.0 / frame[0], 2.0 / frame[1]]]])
    out = np.empty((n, height * width, lr.shape[-1]), np.float32)
    step = max(1, tile // min(tile, height * width))  # images per call: ``tile`` queries in all
    for i in range(0, n, step):
        zi, lri, k = z[i : i + step], lr[i : i + step], min(step, n - i)
        for start in range(0, height * width, tile):
            q = tf.repeat(grid[None, start : start + tile], k, axis=0)
            args = [zi, lri, q, tf.repeat(tf.repeat(cell, k, 0), tf.shape(q)[1], 1)] if local else [zi, lri, q]
            out[i : i + k, start : start + tile] = decoder(args, training=False).numpy()
    return out.reshape(n, height, width, -1)
