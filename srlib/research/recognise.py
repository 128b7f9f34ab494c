"""Is an SR digit still the digit it was? A small digit classifier and the Fréchet distance of its features.

Recognisability is the accuracy of :func:`classifier` (trained on the other half of the digits than the one
scored, so it never saw them) on SR digits, beside its accuracy on the HR and the bicubic digits; the Fréchet
distance (:func:`frechet_distance`, FID's formula, here on this classifier's penultimate features instead of
Inception's) compares the distribution of SR digits with that of HR ones: 0 when the two feature sets share mean and
covariance.

Digits are (N, 28, 28, 1) float32 in [0, 1]; labels (N,) integers 0-9.
"""

import logging
from pathlib import Path

import keras
import numpy as np

from srlib.paths import runs_dir
from srlib.sources import digits

log = logging.getLogger(__name__)

FEATURES = 64  # width of the penultimate layer: the features the Fréchet distance compares


def classifier(seed=1):
    """The uncompiled digit classifier: (N, 28, 28, 1) -> (N, 10) logits.

    Two 3x3 convolutions (32, 64 filters, ReLU), each followed by 2x2 max pooling, a dense layer of
    :data:`FEATURES` ReLU units named 'features' (the penultimate layer), a dense output of 10 logits.
    """
    init = lambda k: keras.initializers.HeNormal(seed=seed + k)  # noqa: E731
    x = img = keras.Input((28, 28, 1))
    for k, filters in enumerate((32, 64)):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", kernel_initializer=init(k))(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Dense(FEATURES, activation="relu", kernel_initializer=init(2), name="features")(
        keras.layers.Flatten()(x))
    logits = keras.layers.Dense(10, kernel_initializer=init(3), name="logits")(x)
    return keras.Model(img, logits, name="digit_classifier")


def train_classifier(images, labels, epochs=3, batch=64, seed=1):
    """A :func:`classifier` trained with Adam (1e-3) on ``images`` (N, 28, 28, 1) and ``labels`` (N,) for
    ``epochs`` passes in a fixed order drawn from ``seed``: the same inputs and seed give the same weights."""
    keras.utils.set_random_seed(seed)
    model = classifier(seed)
    model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    order = np.random.default_rng(seed).permutation(len(images))
    model.fit(images[order], np.asarray(labels)[order], batch_size=batch, epochs=epochs, shuffle=False, verbose=0)
    return model


def digit_classifier(half, epochs=3, seed=1, folder=None):
    """The classifier trained on the digits and labels of ``half`` ('MNIST-test-a' / 'MNIST-test-b' /
    'MNIST'), cached as ``<folder>/<half>_e<epochs>_seed<seed>.keras`` (``folder``: ``runs_dir()/digit_classifier``);
    a cached one is loaded, not trained again."""
    path = Path(folder or runs_dir() / "digit_classifier") / f"{half}_e{epochs}_seed{seed}.keras"
    if path.exists():
        return keras.saving.load_model(path)
    log.info("training the digit classifier on %s (%d epochs)", half, epochs)
    model = train_classifier(digits.digits(half), digits.digit_labels(half), epochs, seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.keras")
    model.save(tmp)
    tmp.replace(path)
    return model


def predict(model, images, batch=1000):
    """(labels (N,), features (N, :data:`FEATURES`) float64) of ``images`` (N, 28, 28, 1), clipped to [0, 1]."""
    probe = keras.Model(model.inputs, [model.output, model.get_layer("features").output])
    logits, feats = probe.predict(np.clip(np.asarray(images, np.float32), 0, 1), batch_size=batch, verbose=0)
    return logits.argmax(-1), feats.astype(np.float64)


def gaussian(features):
    """(mean (..., d), covariance (..., d, d), ddof 1) of ``features`` (..., N, d), N >= 2, float64; leading axes
    are a batch of sets."""
    f = np.asarray(features, np.float64)
    if f.ndim < 2 or f.shape[-2] < 2:
        raise ValueError(f"gaussian: need features (..., N >= 2, d), got shape {f.shape}")
    mean = f.mean(-2)
    centred = f - mean[..., None, :]
    return mean, np.swapaxes(centred, -1, -2) @ centred / (f.shape[-2] - 1)


def frechet_distance(a, b):
    """Fréchet distance between Gaussians fitted to feature sets ``a`` (..., N, d) and ``b`` (..., M, d):
    |mu_a - mu_b|^2 + tr(C_a + C_b - 2 (C_a C_b)^(1/2)) (FID's formula; 1-D: (m_a - m_b)^2 + (s_a - s_b)^2).
    Either argument may be a (mean, covariance) pair from :func:`gaussian`; leading axes are a batch (one
    LAPACK call per batch: far faster than one call per set where cores are shared). Returns a float, or (...)."""
    (ma, ca), (mb, cb) = (x if isinstance(x, tuple) else gaussian(x) for x in (a, b))
    # tr (C_a C_b)^(1/2) = sum of the square roots of the eigenvalues of the symmetric C_a^(1/2) C_b C_a^(1/2), which
    # stays exact where a feature is constant (a dead ReLU: singular covariances)
    w, v = np.linalg.eigh(ca)
    half = (v * np.sqrt(np.clip(w, 0, None))[..., None, :]) @ np.swapaxes(v, -1, -2)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(half @ cb @ half), 0, None)).sum(-1)
    trace = lambda c: np.trace(c, axis1=-2, axis2=-1)  # noqa: E731
    value = np.maximum(np.sum((ma - mb) ** 2, -1) + trace(ca) + trace(cb) - 2.0 * cross, 0.0)  # float error: -1e-12
    return float(value) if value.ndim == 0 else value
