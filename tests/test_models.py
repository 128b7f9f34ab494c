"""Model builders: shapes, options and cost against hand counts; custom layers round-trip through .keras."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from srlib.experiment import macs_per_output_pixel
from srlib.layers import ResizeUpscale
from srlib.models.cnn import cnn


def test_cnn_fsrcnn_cost_matches_the_paper():
    """FSRCNN (56-12-4, 9x9 deconvolution, Y): 25*56 + 56*12 + 4*9*12*12 + 12*56 + 81*56 = 12,464 multiply-adds
    per LR pixel, the figure of Dong et al. (2016)."""
    assert macs_per_output_pixel(cnn(3)) * 9 == pytest.approx(12464)


@pytest.mark.parametrize("kw", [{}, {"residual": True}, {"downsample": True}, {"channels": 3, "output": "sigmoid"},
                                {"batch_norm": True, "dropout": 0.2, "activation": "relu", "init": "glorot_uniform"}])
@pytest.mark.parametrize("scale", [2, 3])
def test_cnn_options_keep_the_contract(kw, scale):
    """Every option gives (N, h, w, C) -> (N, h*s, w*s, C), float32, for sizes the graph does not know in advance."""
    kw = dict(kw)
    c = kw.pop("channels", 1)
    model = cnn(scale, c, **kw)
    run = tf.function(lambda x: model(x, training=False), input_signature=[tf.TensorSpec((None, None, None, c))])
    y = run(np.random.default_rng(0).random((2, 6, 10, c)).astype(np.float32))
    assert y.shape == (2, 6 * scale, 10 * scale, c) and y.dtype == tf.float32
    if kw.get("output") == "sigmoid":
        assert 0 <= float(tf.reduce_min(y)) and float(tf.reduce_max(y)) <= 1


def test_residual_cnn_starts_at_the_bilinear_upscale():
    """At initialisation (deconvolution weights of std 1e-3) the residual model outputs about the bilinear upscale."""
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(1).random((1, 8, 9, 1)).astype(np.float32)
    diff = np.abs(cnn(2, residual=True)(x).numpy() - tf.image.resize(x, (16, 18)).numpy())
    assert diff.mean() < 0.05 and diff.max() < 0.2  # a few grey levels; the image itself averages 0.5


def test_resize_upscale_round_trips_through_keras_file(tmp_path):
    inp = keras.Input((None, None, 2))
    model = keras.Model(inp, ResizeUpscale(3, "bicubic")(inp))
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(2).random((1, 5, 4, 2)).astype(np.float32)
    np.testing.assert_allclose(loaded(x), tf.image.resize(x, (15, 12), method="bicubic"), atol=1e-6)


@pytest.mark.parametrize("kw", [{}, {"placement": "pre"}, {"skips": False, "residual": False},
                                {"levels": 3, "dropout": 0.1, "channels": 3}])
def test_autoencoder_contract_on_odd_sizes(kw):
    """Both placements, with and without skips, give (N, h*s, w*s, C) for odd sizes the graph does not know."""
    from srlib.models.autoencoder import autoencoder

    kw = dict(kw)
    c = kw.pop("channels", 1)
    model = autoencoder(2, c, width=8, **kw)
    run = tf.function(lambda x: model(x, training=False), input_signature=[tf.TensorSpec((None, None, None, c))])
    y = run(np.random.default_rng(0).random((1, 7, 13, c)).astype(np.float32))
    assert y.shape == (1, 14, 26, c) and y.dtype == tf.float32


def test_autoencoder_post_is_cheaper_per_output_pixel():
    """Post-upsampling runs the same encoder-decoder on s^2 fewer pixels: about s^2 times fewer multiply-adds."""
    from srlib.models.autoencoder import autoencoder

    pre = macs_per_output_pixel(autoencoder(3, width=8, placement="pre"))
    post = macs_per_output_pixel(autoencoder(3, width=8, placement="post"))
    assert 6 < pre / post < 10
    with pytest.raises(ValueError, match="placement"):
        autoencoder(2, placement="middle")
