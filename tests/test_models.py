"""Model builders: shapes, options and cost against hand counts; custom layers round-trip through .keras."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from srlib.layers import ResizeUpscale
from srlib.models.cnn import cnn
from srlib.models.cost import macs_per_output_pixel


def test_cnn_fsrcnn_cost_matches_the_paper():
    """FSRCNN (56-12-4, 9x9 deconvolution, Y): 25*56 + 56*12 + 4*9*12*12 + 12*56 + 81*56 = 12,464 multiply-adds
    per LR pixel, the figure of Dong et al. (2016)."""
    assert macs_per_output_pixel(cnn(3)) * 9 == pytest.approx(12464)


@pytest.mark.parametrize("kw", [{}, {"base": "bilinear"}, {"base": "bicubic"}, {"downsample": True},
                                {"channels": 3, "output": "sigmoid"},
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


def test_cnn_with_a_bilinear_base_starts_at_the_bilinear_upscale():
    """At initialisation (deconvolution weights of std 1e-3) the model with base='bilinear' outputs about the bilinear
    upscale."""
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(1).random((1, 8, 9, 1)).astype(np.float32)
    diff = np.abs(cnn(2, base="bilinear")(x).numpy() - tf.image.resize(x, (16, 18)).numpy())
    assert diff.mean() < 0.05 and diff.max() < 0.2  # a few grey levels; the image itself averages 0.5


def test_resize_upscale_round_trips_through_keras_file(tmp_path):
    inp = keras.Input((None, None, 2))
    model = keras.Model(inp, ResizeUpscale(3, "bicubic")(inp))
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(2).random((1, 5, 4, 2)).astype(np.float32)
    np.testing.assert_allclose(loaded(x), tf.image.resize(x, (15, 12), method="bicubic"), atol=1e-6)


@pytest.mark.parametrize("kw", [{}, {"placement": "pre"}, {"skips": False, "base": None}, {"base": "bilinear"},
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


def test_autoencoder_tail_std_starts_at_the_bicubic_upscale():
    """Untrained, the Glorot output layer (the shipped models' start) adds noise far above bicubic's error to the base;
    with tail_std=1e-3 the model outputs about the bicubic upscale, for both placements."""
    from srlib.models.autoencoder import autoencoder

    x = np.random.default_rng(1).random((1, 8, 9, 1)).astype(np.float32)
    bicubic = tf.image.resize(x, (16, 18), method="bicubic").numpy()
    for placement in ("post", "pre"):
        keras.utils.set_random_seed(0)
        glorot = np.abs(autoencoder(2, width=8, placement=placement)(x).numpy() - bicubic)
        quiet = np.abs(autoencoder(2, width=8, placement=placement, tail_std=1e-3)(x).numpy() - bicubic)
        assert glorot.mean() > 0.1 and quiet.mean() < 0.02 and quiet.max() < 0.1, (placement, glorot.mean())


def test_autoencoder_latent_dropout_only_on_the_bottleneck_while_training(tmp_path):
    """latent_dropout adds one Dropout layer, on the bottleneck's features: training outputs vary, inference is
    deterministic, and it round-trips through .keras; off (the default), the graph has no Dropout layer."""
    from srlib.models.autoencoder import autoencoder

    assert not [lay for lay in autoencoder(2, width=8).layers if isinstance(lay, keras.layers.Dropout)]
    keras.utils.set_random_seed(0)
    model = autoencoder(2, width=8, levels=2, latent_dropout=0.5, tail_std=0.1)
    drops = [lay for lay in model.layers if isinstance(lay, keras.layers.Dropout)]
    assert [d.name for d in drops] == ["latent_dropout"] and drops[0].rate == 0.5
    assert drops[0].input.shape[-1] == 8 * 4  # the deepest stage's filters: width * 2**levels
    x = np.random.default_rng(2).random((1, 12, 12, 1)).astype(np.float32)
    assert not np.allclose(model(x, training=True).numpy(), model(x, training=True).numpy())
    np.testing.assert_array_equal(model(x).numpy(), model(x).numpy())
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), atol=1e-6)
    assert loaded.get_layer("latent_dropout").rate == 0.5


@pytest.mark.parametrize("encoder_skip", [False, True])
def test_vae_contract_and_posterior_mean_at_inference(encoder_skip):
    """(N, h, w, C) -> (N, h*s, w*s, C) float32 for odd sizes; inference decodes the posterior mean (repeatable),
    sampled decodes differ from each other and repeat under a seed."""
    from srlib.models.vae import VAE, sample_decodes, vae

    model = vae(2, latent=2, width=8, encoder_skip=encoder_skip)
    assert isinstance(model, VAE)
    x = np.random.default_rng(0).random((1, 7, 9, 1)).astype(np.float32)
    y = model(x)
    assert y.shape == (1, 14, 18, 1) and y.dtype == tf.float32
    np.testing.assert_array_equal(model(x).numpy(), y.numpy())
    d1, d2 = sample_decodes(model, x, 3, seed=5), sample_decodes(model, x, 3, seed=5)
    np.testing.assert_array_equal(d1, d2)
    assert d1.shape == (3, 14, 18, 1) and d1.std(axis=0).mean() > 1e-4


@pytest.mark.slow
def test_vae_trains_logs_recon_and_kl_and_round_trips(tmp_path):
    """Through the experiment layer: recon, kl and the warming-up beta are logged per epoch (train and
    validation), nothing is NaN, and the saved model loads back as a VAE with its beta."""
    from srlib.io import save_image
    from srlib.models.vae import VAE
    from srlib.training.experiment import Recipe, train

    rng = np.random.default_rng(0)
    for i in range(4):
        image = rng.random((40, 40, 3)) * 0.3 + np.linspace(0, 0.6, 40)[:, None, None]
        save_image(tmp_path / "img" / f"{i}.png", image)
    r = Recipe("vae", scale=2, args={"latent": 2, "width": 8, "beta": 1e-2, "warmup": 4}, patch=8, batch=4,
               steps=2, epochs=3, precision="fp32")
    _, log = train(r, tmp_path / "run", sources=[tmp_path / "img"], val_source=tmp_path / "img", verbose=0)
    for key in ("recon", "kl", "beta", "val_recon", "val_kl", "val_psnr"):
        assert key in log and np.isfinite(log[key]).all()
    assert list(log["beta"]) == pytest.approx([5e-3, 1e-2, 1e-2])  # ramps over 4 steps, 2 per epoch
    loaded = keras.models.load_model(tmp_path / "run" / "best.keras", compile=False)
    assert isinstance(loaded, VAE) and loaded.beta == 1e-2 and loaded.warmup == 4
    # A fresh process that never imported srlib.models.vae loads it through the zoo (as `srlib upscale` does).
    code = "import sys; from srlib.inference import zoo; print(type(zoo.load_file(sys.argv[1])).__name__)"
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "run" / "best.keras")], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.stdout.strip() == "VAE", done.stderr[-1000:]


def test_vae_starts_at_the_bicubic_upscale():
    """Untrained (tail weights of std 1e-3), the VAE outputs about the bicubic upscale it adds to."""
    from srlib.models.vae import vae

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(1).random((1, 8, 9, 1)).astype(np.float32)
    diff = np.abs(vae(2, latent=2, width=16)(x).numpy() - tf.image.resize(x, (16, 18), method="bicubic").numpy())
    assert diff.mean() < 0.02 and diff.max() < 0.1
