"""srlib.training.train: resume after a kill, extra callbacks, tf.distribute on one machine, mixed precision (several
workers: test_distributed.py)."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from srlib.models.espcn import espcn
from srlib.precision import set_precision
from srlib.training.train import completed_epochs, fit, get_strategy

SCRIPT = textwrap.dedent(
    """
    import os, sys
    import keras, numpy as np
    from srlib.data import make_dataset
    from srlib.models.espcn import espcn
    from srlib.models.vae import vae
    from srlib.training.train import fit

    run_dir, kill_at, family = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    build = {"espcn": lambda: espcn(2, 1, "relu", filters=(8, 8)),
             "vae": lambda: vae(2, latent=2, width=8, beta=1e-3, warmup=15)}.get(family)
    rng = np.random.default_rng(0)
    images = (rng.random((6, 48, 48, 3)) * 0.5 + np.linspace(0, 0.5, 48)[None, :, None, None]).astype("float32")
    train = make_dataset(images, 2, 8, batch_size=8, patches_per_image=4, seed=3)
    val = make_dataset(images, 2, 16, batch_size=6, patches_per_image=1, augment=False, repeat=False,
                       shuffle_buffer=0, seed=4)
    if family == "cppn_gan":  # the GAN: generator and discriminator, one optimizer, sampling noise
        import tensorflow as tf
        from srlib.sources.digits import digit_inputs, digit_lr
        from srlib.models.cppn_gan import cppn_gan
        build = lambda: cppn_gan(4, form="global", latent=4, width=16, depth=2, beta=1e-3, warmup=15, adversarial=0.05)
        hr = np.clip(images[:, 10:38, 10:38, :1] + rng.random((6, 28, 28, 1)) * 0.2, 0, 1).astype("float32")
        pairs = tf.data.Dataset.from_tensor_slices((digit_inputs(digit_lr(hr, 7), 28), hr.reshape(6, -1, 1)))
        train, val = pairs.shuffle(6, seed=3).repeat().batch(4), pairs.batch(3)

    class Kill(keras.callbacks.Callback):
        step = 0
        def on_train_batch_end(self, batch, logs=None):
            Kill.step += 1
            if Kill.step == kill_at:
                os._exit(9)  # dies mid-epoch, like a killed process

    fit(build, train, val, run_dir, epochs=4, steps_per_epoch=10,
        batch_size=8, learning_rate=3e-3, seed=0, verbose=0, callbacks=[Kill()])
    """
)


def _run(script, run_dir, kill_at, family):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TF_DETERMINISTIC_OPS": "1"}
    return subprocess.run(
        [sys.executable, str(script), str(run_dir), str(kill_at), family], env=env, capture_output=True, text=True,
        timeout=300,
    )


@pytest.mark.slow
@pytest.mark.parametrize("family", ["espcn", "vae", "cppn_gan"])
def test_resume_after_kill_matches_uninterrupted(tmp_path, family):
    """Kill a run mid-epoch 3 (os._exit in a subprocess), re-run the same command: it resumes and ends
    with the same validation PSNR as a run that was never interrupted (the VAE and the CPPN-GAN too: their custom
    train steps, KL warm-up, sampling noise and the discriminator's state continue)."""
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    full = _run(script, tmp_path / "a", 0, family)
    assert full.returncode == 0, full.stderr[-2000:]
    killed = _run(script, tmp_path / "b", 25, family)  # epoch 3 of 4, batch 5 of 10
    assert killed.returncode == 9
    assert completed_epochs(tmp_path / "b") == 2
    resumed = _run(script, tmp_path / "b", 0, family)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    a, b = pd.read_csv(tmp_path / "a" / "log.csv"), pd.read_csv(tmp_path / "b" / "log.csv")
    assert list(b["epoch"]) == [0, 1, 2, 3]  # no epoch lost or repeated
    assert abs(a["val_psnr"].iloc[-1] - b["val_psnr"].iloc[-1]) < 0.05
    assert not (tmp_path / "b" / "backup").exists()
    assert (tmp_path / "b" / "best.keras").exists() and (tmp_path / "b" / "last.keras").exists()


@pytest.mark.slow
def test_mirrored_strategy_two_logical_cpus():
    """One training step under MirroredStrategy over two logical CPU devices, in a fresh process
    (logical devices must be configured before TF initialises)."""
    code = textwrap.dedent(
        """
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import numpy as np, keras
        from srlib.models.espcn import espcn
        from srlib.training.train import get_strategy
        strategy = get_strategy("mirrored")
        assert strategy.num_replicas_in_sync == 2, strategy.num_replicas_in_sync
        with strategy.scope():
            m = espcn(2, 1, filters=(4, 4))
            m.compile(keras.optimizers.Adam(1e-3), "mse")
        x = np.random.rand(4, 8, 8, 1).astype("float32")
        y = np.random.rand(4, 16, 16, 1).astype("float32")
        before = [w.numpy().copy() for w in m.weights]
        h = m.fit(x, y, batch_size=4, epochs=1, verbose=0)
        assert np.isfinite(h.history["loss"][0])
        assert any(not np.allclose(a, b.numpy()) for a, b in zip(before, m.weights))
        print("ok", strategy.num_replicas_in_sync)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "ok 2" in out.stdout


@pytest.mark.slow
def test_fit_takes_extra_callbacks(tmp_path):
    """Callbacks given to fit() run with the standard ones: here one that stops training after the first epoch."""

    class StopAfterOne(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    rng = np.random.default_rng(2)
    lr = rng.random((8, 6, 6, 1)).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices((lr, np.repeat(np.repeat(lr, 2, 1), 2, 2))).batch(4)
    fit(lambda: espcn(2, 1, filters=(4, 4)), ds.repeat(), ds, tmp_path, epochs=3, steps_per_epoch=2, batch_size=4,
        verbose=0, callbacks=[StopAfterOne()])
    assert len(pd.read_csv(tmp_path / "log.csv")) == 1


def test_mixed_precision_output_is_float32():
    """Under mixed bf16 the hidden layers compute in bfloat16 but the output layer stays float32."""
    try:
        set_precision("bf16")
        m = espcn(3, 1, filters=(4, 4))
        assert m.layers[1].compute_dtype == "bfloat16"
        y = m(np.random.rand(1, 5, 5, 1).astype("float32"))
        assert y.dtype == tf.float32 and y.shape == (1, 15, 15, 1)
    finally:
        set_precision("fp32")
    assert keras.mixed_precision.global_policy().name == "float32"


def test_unknown_strategy_and_precision():
    with pytest.raises(ValueError):
        get_strategy("tpu-pod")
    with pytest.raises(KeyError):
        set_precision("int8")


def test_fit_writes_checkpoints_and_log(tmp_path):
    """A two-epoch run writes best/last checkpoints and one log row per epoch with speed and PSNR."""
    rng = np.random.default_rng(1)
    lr = rng.random((8, 6, 6, 1)).astype("float32")
    hr = np.repeat(np.repeat(lr, 2, 1), 2, 2)
    ds = tf.data.Dataset.from_tensor_slices((lr, hr)).batch(4).repeat()
    val = tf.data.Dataset.from_tensor_slices((lr, hr)).batch(4)
    fit(lambda: espcn(2, 1, filters=(4, 4)), ds, val, tmp_path, epochs=2, steps_per_epoch=2, batch_size=4, verbose=0)
    log = pd.read_csv(tmp_path / "log.csv")
    assert len(log) == 2 and {"val_psnr", "samples_per_s", "wall_s"} <= set(log.columns)
    assert log["wall_s"].is_monotonic_increasing
    loaded = keras.models.load_model(tmp_path / "last.keras")
    again = fit(lambda: espcn(2, 1, filters=(4, 4)), ds, val, tmp_path, epochs=2, steps_per_epoch=2, batch_size=4)
    assert len(pd.read_csv(tmp_path / "log.csv")) == 2  # a finished run is not trained again
    np.testing.assert_allclose(again(lr[:1]), loaded(lr[:1]))


@pytest.mark.slow
def test_finished_run_loads_in_a_fresh_process(tmp_path):
    """fit() on a finished run returns its model even in a process that imported no model builder
    (the custom sub-pixel layer must be registered by srlib.training.train itself)."""
    rng = np.random.default_rng(3)
    lr = rng.random((4, 6, 6, 1)).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices((lr, np.repeat(np.repeat(lr, 2, 1), 2, 2))).batch(4)
    fit(lambda: espcn(2, 1, filters=(4, 4)), ds.repeat(), ds, tmp_path, epochs=1, steps_per_epoch=1, batch_size=4,
        verbose=0)
    code = f"from srlib.training.train import fit; print(fit(None, None, None, {str(tmp_path)!r}, 1, 1, 1).name)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("espcn_x2")
