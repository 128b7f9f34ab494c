"""srlib.layers: SubPixelUpscale against a hand-built depth-to-space and a .keras save/load; Sampling."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from srlib.layers import Sampling, SubPixelUpscale


def depth_to_space_loops(x, s):
    """TF's documented depth_to_space (DCR order), by loops:

    out[n, h*s + i, w*s + j, c] = in[n, h, w, (i*s + j) * C_out + c].
    """
    n, h, w, cin = x.shape
    cout = cin // (s * s)
    out = np.zeros((n, h * s, w * s, cout), x.dtype)
    for b in range(n):
        for y in range(h):
            for xx in range(w):
                for i in range(s):
                    for j in range(s):
                        for c in range(cout):
                            out[b, y * s + i, xx * s + j, c] = x[b, y, xx, (i * s + j) * cout + c]
    return out


def test_loop_reference_matches_tf_docs_example():
    """The reference reproduces tf.nn.depth_to_space's documented example: [1..12] -> 2x2 tile of RGB triples."""
    x = np.arange(1, 13, dtype=np.float32).reshape(1, 1, 1, 12)
    expected = np.array([[[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]]], np.float32)
    np.testing.assert_array_equal(depth_to_space_loops(x, 2), expected)


@pytest.mark.parametrize("s", [2, 3])
def test_subpixel_equals_numpy_depth_to_space(rng, s):
    """SubPixelUpscale(s) equals the loop depth-to-space for s = 2, 3 with 3 output channels."""
    x = rng.random((2, 3, 4, 3 * s * s)).astype(np.float32)
    y = np.asarray(SubPixelUpscale(s)(x))
    assert y.shape == (2, 3 * s, 4 * s, 3)
    np.testing.assert_array_equal(y, depth_to_space_loops(x, s))


def test_compute_output_shape():
    """Static shapes: (N, H, W, C s^2) -> (N, sH, sW, C), unknown dims stay unknown, bad C is an error."""
    layer = SubPixelUpscale(3)
    assert layer.compute_output_shape((None, 5, None, 27)) == (None, 15, None, 3)
    assert layer.compute_output_shape((2, None, 4, None)) == (2, None, 12, None)
    with pytest.raises(ValueError, match="divisible"):
        layer.compute_output_shape((None, 5, 5, 8))
    out = SubPixelUpscale(2)(keras.Input((None, None, 12)))
    assert tuple(out.shape) == (None, None, None, 3)


def test_get_config_round_trip():
    """get_config -> from_config and keras serialize -> deserialize rebuild the same layer."""
    layer = SubPixelUpscale(3, name="up3")
    config = layer.get_config()
    assert config["scale"] == 3 and config["name"] == "up3"
    clone = SubPixelUpscale.from_config(config)
    assert (clone.scale, clone.name) == (3, "up3")
    clone2 = keras.layers.deserialize(keras.layers.serialize(layer))
    assert isinstance(clone2, SubPixelUpscale) and clone2.scale == 3


def test_saved_model_loads_without_custom_objects(rng, tmp_path):
    """A small model with SubPixelUpscale saved to .keras reloads with plain load_model and gives identical outputs."""
    keras.utils.set_random_seed(1)
    inp = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(12, 3, padding="same")(inp)
    out = SubPixelUpscale(2)(x)
    model = keras.Model(inp, out)
    x = rng.random((2, 5, 6, 3)).astype(np.float32)
    before = np.asarray(model(x))
    assert before.shape == (2, 10, 12, 3)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert any(isinstance(layer, SubPixelUpscale) and layer.scale == 2 for layer in loaded.layers)
    np.testing.assert_array_equal(np.asarray(loaded(x)), before)


def test_sampling_is_seeded_passes_the_mean_at_inference_and_serializes(tmp_path):
    """Same seed: same draws; inference: the mean; KL by hand: mean 1, log-variance 0 on 2 channels gives
    2 * 0.5 = 1 nat; the layer round-trips through get_config and a .keras file."""
    mean = np.ones((2, 3, 3, 2), np.float32)
    log_var = np.zeros_like(mean)
    a, b, c = Sampling(seed=3), Sampling(seed=3), Sampling(seed=4)
    za, zb, zc = (layer([mean, log_var], training=True).numpy() for layer in (a, b, c))
    np.testing.assert_array_equal(za, zb)
    assert np.abs(za - zc).max() > 0.1 and 0.5 < np.std(za - mean) < 1.5
    np.testing.assert_array_equal(a([mean, log_var]).numpy(), mean)
    assert float(a.losses[0]) == pytest.approx(1.0)
    again = Sampling.from_config(Sampling(seed=3).get_config())
    np.testing.assert_array_equal(again([mean, log_var], training=True).numpy(), za)
    m_in, v_in = keras.Input((None, None, 2)), keras.Input((None, None, 2))
    model = keras.Model([m_in, v_in], Sampling(seed=3)([m_in, v_in]))
    model.save(tmp_path / "s.keras")
    loaded = keras.models.load_model(tmp_path / "s.keras")
    np.testing.assert_array_equal(loaded([mean, log_var]).numpy(), mean)


@pytest.mark.slow
def test_sampling_draws_other_noise_on_each_replica():
    """Two replicas (MirroredStrategy over two logical CPUs, in a fresh process: logical devices must be configured
    before TF starts) sampling the same mean and variance draw different noise, and replica 0 draws what a single
    process draws with the same seed."""
    code = textwrap.dedent(
        """
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import numpy as np
        from srlib.layers import Sampling
        mean, log_var = np.zeros((1, 4, 4, 2), np.float32), np.zeros((1, 4, 4, 2), np.float32)
        single = Sampling(seed=5)([mean, log_var], training=True).numpy()
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        with strategy.scope():
            layer = Sampling(seed=5)
        out = strategy.run(tf.function(lambda: layer([mean, log_var], training=True)))
        z0, z1 = (t.numpy() for t in strategy.experimental_local_results(out))
        assert np.array_equal(z0, single), "replica 0 differs from one process"
        assert np.abs(z0 - z1).max() > 0.1, "both replicas drew the same noise"
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert "ok" in out.stdout
