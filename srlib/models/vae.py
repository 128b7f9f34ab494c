"""A variational autoencoder for super-resolution (the first report's model), plain or with an encoder-decoder skip.

The encoder maps the LR image to a spatial latent at LR resolution, ``latent`` channels of mean and
log-variance per pixel; :class:`srlib.layers.Sampling` draws ``z`` (training) or passes the mean
(inference); the decoder renders HR from ``z`` with a sub-pixel tail and adds the bicubic upscale
of the input. With ``encoder_skip=True`` the encoder's features also reach the decoder directly
(added before its last hidden layer), so detail need not squeeze through the noisy latent.

Training minimises reconstruction (MSE, whatever loss ``compile`` was given) + beta * KL, with beta ramped linearly
from 0 over ``warmup`` steps; ``recon``, ``kl`` and ``beta`` are logged next to ``loss``.
"""

import keras
import numpy as np
import tensorflow as tf

from srlib.layers import ResizeUpscale, Sampling, SubPixelUpscale, gaussian_kl
from srlib.metrics import mse_loss


@keras.saving.register_keras_serializable(package="srlib")
class VAE(keras.Model):
    """A functional SR model (N, h, w, C) -> (N, h*s, w*s, C) whose graph contains one ``Sampling`` layer,
    trained on reconstruction + beta * KL (the KL that layer records)."""

    def __init__(self, *args, beta=1e-4, warmup=2000, **kwargs):  # *args: Keras revives it as a functional model
        super().__init__(*args, **kwargs)
        self.beta, self.warmup = float(beta), int(warmup)
        self.trackers = {k: keras.metrics.Mean(name=k) for k in ("loss", "recon", "kl")}

    @property
    def metrics(self):
        """loss, recon, kl, then the compiled metrics (Keras' own loss tracker left out: ``loss`` is ours)."""
        return [*self.trackers.values(), *[m for m in super().metrics if m.name not in self.trackers]]

    def beta_now(self):
        """beta at the optimizer's current step (linear warm-up)."""
        if not self.warmup:
            return tf.constant(self.beta)
        ramp = tf.cast(self.optimizer.iterations, "float32") / float(self.warmup)
        return self.beta * tf.minimum(1.0, ramp)

    def _forward(self, lr, hr, training):
        sr = self(lr, training=training)
        recon = tf.reduce_mean(mse_loss(hr, sr))
        kl = tf.add_n(self.losses)
        return sr, recon, kl

    def _log(self, hr, sr, **values):
        logs = {}
        for m in self.metrics:
            if m.name in values:
                m.update_state(values[m.name])
            else:
                m.update_state(hr, sr)
            result = m.result()
            logs.update(result if isinstance(result, dict) else {m.name: result})
        return {**logs, "beta": self.beta_now()}

    def train_step(self, data):
        lr, hr = data
        with tf.GradientTape() as tape:
            sr, recon, kl = self._forward(lr, hr, training=True)
            loss = recon + self.beta_now() * kl
            # 1 / replicas: the optimizer sums the replicas' gradients; mixed_float16: loss scaling (else a no-op)
            scaled = self.optimizer.scale_loss(loss / tf.distribute.get_strategy().num_replicas_in_sync)
        grads = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables, strict=True))
        return self._log(hr, sr, loss=loss, recon=recon, kl=kl)

    def test_step(self, data):
        lr, hr = data
        sr, recon, kl = self._forward(lr, hr, training=False)
        return self._log(hr, sr, loss=recon + self.beta * kl, recon=recon, kl=kl)

    def get_config(self):
        return {**super().get_config(), "beta": self.beta, "warmup": self.warmup}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        beta, warmup = config.pop("beta"), config.pop("warmup")
        model = super().from_config(config, custom_objects)
        model.beta, model.warmup = beta, warmup
        return model


def vae(scale, channels=1, latent=4, width=64, encoder_skip=True, beta=1e-4, warmup=2000, seed=1, name=None):
    """Build the SR VAE.

    Args:
      scale: integer upscaling factor.
      channels: 1 (Y) or 3.
      latent: latent channels per LR pixel.
      width: filters of the encoder's first layer; the others have ``width // 2``.
      encoder_skip: add the encoder's features to the decoder's (the report's "with residuals" variant; the bicubic
        base is always added).
      beta: weight of the KL term (0: an autoencoder whose latent is noised only while the variance
        stays large; the optimiser is free to shrink it).
      warmup: steps over which beta ramps up from 0.
      seed: seed of the sampling noise.

    Returns:
      A :class:`VAE`, (N, h, w, channels) in [0, 1] -> (N, h * scale, w * scale, channels) float32;
      called for inference it decodes the posterior mean.
    """
    conv = lambda f, k=3, **kw: keras.layers.Conv2D(f, k, padding="same", kernel_initializer="he_normal", **kw)  # noqa: E731
    inp = keras.Input((None, None, channels), name="lr")
    up = ResizeUpscale(scale, "bicubic", dtype="float32")(inp)
    h = conv(width, 5, activation="relu")(inp)
    features = conv(width // 2, activation="relu")(h)
    mean = conv(latent, name="z_mean", dtype="float32")(features)
    log_var = conv(latent, name="z_log_var", dtype="float32", bias_initializer=keras.initializers.Constant(-2.0))(
        features)
    z = Sampling(seed, name="sampling")([mean, log_var])
    x = conv(width // 2, activation="relu")(z)
    if encoder_skip:
        x = keras.layers.Add()([x, features])
    x = conv(width // 2, activation="relu")(x)
    # The tail starts near zero, so the untrained model outputs about the bicubic upscale.
    x = keras.layers.Conv2D(channels * scale * scale, 3, padding="same", dtype="float32",
                            kernel_initializer=keras.initializers.RandomNormal(stddev=1e-3))(x)
    x = SubPixelUpscale(scale, dtype="float32")(x)
    out = keras.layers.Add(dtype="float32")([x, up])
    return VAE(inp, out, beta=beta, warmup=warmup, name=name or f"vae{'_res' if encoder_skip else ''}_x{scale}")


def encoder_stats(model):
    """The sub-model LR -> [z_mean, z_log_var] of a :func:`vae` model, each (N, h, w, latent)."""
    return keras.Model(model.input, [model.get_layer("z_mean").output, model.get_layer("z_log_var").output])


def kl_per_channel(model, lr):
    """Mean KL (nats per LR pixel) of each latent channel over the images ``lr`` (N, h, w, C): (latent,)."""
    return tf.reduce_mean(gaussian_kl(*encoder_stats(model)(lr)), axis=(0, 1, 2)).numpy()


def sample_decodes(model, lr, n, seed=0):
    """``n`` decodes of ``lr`` (1, h, w, C), each with a latent drawn from the posterior: (n, h*s, w*s, C).

    Runs a copy of ``model`` (same weights) whose Sampling layer is seeded with ``seed``, in training mode:
    the model has no dropout or batch norm, so that changes nothing but the sampling.
    """
    def clone(layer):
        return Sampling(seed, name=layer.name) if isinstance(layer, Sampling) else layer

    sampler = keras.models.clone_model(model, clone_function=clone)
    return np.concatenate([sampler(lr, training=True).numpy() for _ in range(n)])
