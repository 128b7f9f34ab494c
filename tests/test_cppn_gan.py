"""The CPPN family: coordinate layers, rendering in tiles, the GAN's training step, saving, the upscaler."""

import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from srlib.cli import _scale
from srlib.evaluate import evaluate_image
from srlib.inference import zoo
from srlib.inference.infer import ImplicitUpscaler, load_upscaler
from srlib.layers import CoordGrid, LocalQuery, LRTaps, coord_grid
from srlib.models import cppn_gan as C
from srlib.resize import imresize
from srlib.sources.digits import digit_inputs, digit_lr


def test_coord_grid_pixel_centres():
    """Hand-computed: 2 x 4 pixels have centres y = -0.5, 0.5 and x = -0.75, -0.25, 0.25, 0.75, row-major."""
    g = coord_grid(2, 4).numpy()
    assert g.shape == (8, 2)
    np.testing.assert_allclose(g[:4], [[-0.5, -0.75], [-0.5, -0.25], [-0.5, 0.25], [-0.5, 0.75]])
    np.testing.assert_allclose(g[4:, 0], 0.5)


def test_coord_grid_layer_adds_radius_and_latent():
    coord = coord_grid(3, 3)[None]
    z = tf.constant([[7.0, -1.0]])
    x = CoordGrid()([coord, z]).numpy()[0]
    assert x.shape == (9, 5)
    np.testing.assert_allclose(x[:, 2], np.hypot(x[:, 0], x[:, 1]), rtol=1e-6)
    np.testing.assert_allclose(x[:, 3:], [[7.0, -1.0]] * 9)


def _query(h, w, scale, rng, latent=3):
    lr = rng.random((2, h, w, 1)).astype("float32")
    z = rng.random((2, h, w, latent)).astype("float32")
    H, W = h * scale, w * scale
    coord = tf.repeat(coord_grid(H, W)[None], 2, 0)
    cell = tf.tile(tf.constant([[[2.0 / H, 2.0 / W]]]), [2, H * W, 1])
    return lr, z, coord, cell, (H, W)


def test_local_query_at_lr_centres_is_identity(rng):
    """Queried at the LR pixel centres (scale 1): the base is the LR image, the offset 0, the latent that pixel's."""
    lr, z, coord, cell, _ = _query(5, 7, 1, rng)
    features, base = LocalQuery()([z, lr, coord, cell])
    np.testing.assert_allclose(base.numpy(), lr.reshape(2, -1, 1), atol=1e-6)
    np.testing.assert_allclose(features[..., :3].numpy(), z.reshape(2, -1, 3))
    np.testing.assert_allclose(features[..., 3:5].numpy(), 0.0, atol=1e-5)
    np.testing.assert_allclose(features[..., 5:].numpy(), 1.0, atol=1e-6)  # the cell is one LR pixel


@pytest.mark.parametrize("scale", [2, 3])
def test_local_query_base_is_bilinear(rng, scale):
    """At integer scales the base equals TensorFlow's bilinear resize (half-pixel centres, edges clamped);
    offsets stay within half an LR pixel and the cell is 1 / scale."""
    lr, z, coord, cell, (H, W) = _query(6, 5, scale, rng)
    features, base = LocalQuery()([z, lr, coord, cell])
    ref = tf.image.resize(lr, (H, W), "bilinear").numpy().reshape(2, -1, 1)
    np.testing.assert_allclose(base.numpy(), ref, atol=1e-5)
    assert np.abs(features[..., 3:5].numpy()).max() <= 0.5 + 1e-6
    np.testing.assert_allclose(features[..., 5:].numpy(), 1 / scale, rtol=1e-5)


@pytest.mark.parametrize("size", [26, 7])
def test_lr_taps_base_is_matlab_bicubic(rng, size):
    """At the pixel centres of a 28 x 28 output the bicubic base is MATLAB imresize (symmetric border), the bilinear
    one TensorFlow's; the taps are LR pixels; at the LR's own centres the base is the LR and the offset 0 (or 1 - eps,
    the neighbour's side)."""
    lr = rng.random((2, size, size, 1)).astype("float32")
    coord = tf.repeat(coord_grid(28, 28)[None], 2, 0)
    features, base = LRTaps()([lr, coord])
    assert features.shape == (2, 784, 18)
    np.testing.assert_allclose(base.numpy(), imresize(lr, size=(28, 28)).numpy().reshape(2, -1, 1), atol=1e-5)
    bilinear = tf.image.resize(lr, (28, 28), "bilinear").numpy().reshape(2, -1, 1)
    np.testing.assert_allclose(LRTaps("bilinear")([lr, coord])[1].numpy(), bilinear, atol=1e-5)
    assert np.isin(features[..., :16].numpy(), lr).all()
    features, base = LRTaps()([lr, tf.repeat(coord_grid(size, size)[None], 2, 0)])
    t = features[..., 16:].numpy()
    np.testing.assert_allclose(np.minimum(t, 1 - t), 0.0, atol=1e-5)
    np.testing.assert_allclose(base.numpy(), lr.reshape(2, -1, 1), atol=1e-5)


def test_digit_generator_with_a_base_starts_at_bicubic_and_round_trips(tmp_path, rng):
    """base='bicubic': an untrained 26 -> 28 model renders MATLAB bicubic within a few 1e-3; it saves and loads."""
    gen = C.digit_generator(26, latent=4, width=8, depth=2, base="bicubic")
    lr = rng.random((3, 26, 26, 1)).astype("float32")
    out = C.render(gen, lr, (28, 28))
    np.testing.assert_allclose(out, imresize(lr, size=(28, 28)).numpy(), atol=5e-3)
    gen.save(tmp_path / "digit.keras")
    np.testing.assert_allclose(C.render(zoo.load_file(tmp_path / "digit.keras"), lr, (28, 28)), out, atol=1e-6)


def test_render_in_tiles_equals_one_pass(rng):
    """Tiling the queries changes nothing, for both forms; the local form starts at the bilinear base."""
    photo = C.photo_generator(latent=4, filters=(8, 4, 8), width=8, depth=1)
    lr = rng.random((1, 9, 11, 1)).astype("float32")
    whole, tiled = C.render(photo, lr, (23, 27)), C.render(photo, lr, (23, 27), tile=50)
    assert whole.shape == (1, 23, 27, 1)
    np.testing.assert_allclose(tiled, whole, atol=1e-6)
    bilinear = tf.image.resize(lr, (27, 33), "bilinear").numpy()  # x3
    np.testing.assert_allclose(C.render(photo, lr, (27, 33)), bilinear, atol=0.02)
    digit = C.digit_generator(7, latent=4, width=8, depth=2)
    lr7 = rng.random((2, 7, 7, 1)).astype("float32")
    np.testing.assert_allclose(C.render(digit, lr7, (40, 40), tile=333), C.render(digit, lr7, (40, 40)), atol=1e-6)


def test_gan_step_logs_every_term_and_round_trips(tmp_path, rng):
    """One compiled fit on digits with the discriminator: every loss term logged and finite, both networks
    updated; the model saves, loads (fresh classes from the config) and predicts the same."""
    model = C.cppn_gan(4, form="global", latent=4, width=16, depth=2, adversarial=0.01, beta=1e-3, warmup=10)
    hr = rng.random((8, 28, 28, 1)).astype("float32")
    x, y = digit_inputs(digit_lr(hr, 7), 28), hr.reshape(8, -1, 1)
    model.compile(keras.optimizers.Adam(1e-3))
    first = lambda: (model.generator.trainable_weights[0], model.discriminator.trainable_weights[0])  # noqa: E731
    before = [w.numpy().copy() for w in first()]
    steps = []
    per_step = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: steps.append(dict(logs)))
    history = model.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(4), epochs=2, verbose=0,
                        callbacks=[per_step]).history
    assert len(steps) == 4  # every step reports every term
    for key in ("loss", "recon", "kl", "psnr", "adv", "d_loss", "d_real", "d_fake", "beta"):
        assert np.isfinite(history[key]).all() and all(np.isfinite(s[key]) for s in steps), key
    assert all(not np.allclose(b, a.numpy()) for b, a in zip(before, first(), strict=True))
    model.save(tmp_path / "gan.keras")
    loaded = zoo.load_file(tmp_path / "gan.keras")
    assert isinstance(loaded, C.CPPNGAN) and loaded.discriminator is not None and loaded.adversarial == 0.01
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), atol=1e-6)


def test_local_form_refuses_a_discriminator():
    with pytest.raises(ValueError, match="without a discriminator"):
        C.cppn_gan(4, form="local", adversarial=0.1)


def test_implicit_upscaler_any_scale(rng):
    """Output side ceil(side * scale) at non-integer scales; a benchmark score at x2.5 is scikit-image's PSNR / SSIM
    of the uint8 MATLAB Y with ceil(2.5) = 3 pixels shaved."""
    from test_metrics import sk_psnr, sk_ssim

    model = C.photo_generator(latent=4, filters=(8, 4), width=8, depth=1)
    up = ImplicitUpscaler(model, 2.5)
    assert up(rng.random((9, 10, 3)).astype("float32")).shape == (23, 25, 3)
    hr = np.round(rng.random((40, 35, 3)) * 255).astype("float32") / 255  # 40 x 35: multiples of 2.5, not cropped
    p, s, sr = evaluate_image(up, hr, 2.5)
    hr_u8, sr_u8 = np.round(hr * 255).astype(np.uint8), np.round(np.clip(sr, 0, 1) * 255).astype(np.uint8)
    assert sr.shape == (40, 35, 3)
    assert p == pytest.approx(sk_psnr(hr_u8, sr_u8, True, 3), abs=1e-6)
    assert s == pytest.approx(sk_ssim(hr_u8, sr_u8, True, 3), abs=1e-6)


def test_load_upscaler_explains_cppn_models(tmp_path):
    C.photo_generator(latent=4, filters=(8, 4), width=8, depth=1).save(tmp_path / "any.keras")
    C.digit_generator(7, latent=4, width=8, depth=1).save(tmp_path / "digit.keras")
    with pytest.raises(ValueError, match="give --scale"):
        load_upscaler(str(tmp_path / "any.keras"))
    assert load_upscaler(str(tmp_path / "any.keras"), 3.5).scale == 3.5
    with pytest.raises(ValueError, match="not photos"):
        load_upscaler(str(tmp_path / "digit.keras"), 4)


def test_scale_argument():
    assert _scale("3") == 3 and isinstance(_scale("3"), int) and _scale("2.5") == 2.5
    with pytest.raises(Exception, match="above 1"):
        _scale("-2")


@pytest.mark.slow
def test_shipped_cppn_any_loads_in_a_fresh_process():
    """The shipped arbitrary-scale model loads through the zoo and upscales x2.5 with `srlib upscale`'s loader."""
    if "cppn-any" not in zoo.names():
        pytest.skip("cppn-any not shipped")
    code = ("import numpy as np; from srlib.inference.infer import load_upscaler; up = load_upscaler('cppn-any', 2.5); "
            "print(up(np.full((8, 6, 3), 0.5, np.float32)).shape)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "(20, 15, 3)" in out.stdout
