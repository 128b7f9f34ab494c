"""srlib.training.distributed and srlib.launch: multi-worker training (two processes on localhost), the host / device
split of the patch pipeline, the learning-rate rule. The worker processes run tests/distributed_worker.py."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from srlib import launch
from srlib.data import hr_batches, image_source, make_dataset, pair_fn
from srlib.training import distributed

WORKER = Path(__file__).with_name("distributed_worker.py")
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": str(WORKER.parents[1])}


def _workers(args, kill_rest_after_one_died=False, timeout=420):
    """Run the worker script with ``args`` as two workers on free localhost ports; [(returncode, stderr)] each.
    ``kill_rest_after_one_died``: once a worker has exited, kill the other (it would wait for it forever)."""
    procs = [subprocess.Popen([sys.executable, str(WORKER), *args], env={**ENV, "TF_CONFIG": config},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for config in launch.local_configs(2)]
    start = time.monotonic()
    while any(p.poll() is None for p in procs):
        if kill_rest_after_one_died and any(p.poll() is not None for p in procs):
            for p in procs:
                p.kill()
        if time.monotonic() - start > timeout:
            for p in procs:
                p.kill()
            raise TimeoutError(f"workers still running after {timeout} s")
        time.sleep(0.5)
    return [(p.returncode, p.stderr.read()) for p in procs]


def _weights(path):
    with np.load(path) as w:
        return [w[k] for k in sorted(w, key=lambda k: int(k.split("_")[1]))]


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    """20 steps of ESPCN x2 on two workers (op determinism, 4 pairs each), and the reference: the same 20 global
    batches of 8 through the model's own train step in one process (run beside them)."""
    root = tmp_path_factory.mktemp("two_workers")
    reference = subprocess.Popen([sys.executable, str(WORKER), "reference", str(root / "reference.json")], env=ENV,
                                 stderr=subprocess.PIPE, text=True)
    results = _workers(["steps", str(root / "run")])
    _, err = reference.communicate(timeout=300)
    assert reference.returncode == 0, err[-2000:]
    for code, err in results:
        assert code == 0, err[-3000:]
    return root


@pytest.mark.slow
def test_two_workers_match_one_process(two_workers):
    """Both workers end with identical weights, and every step's loss (over the global batch) is within 1e-4
    (relative) of one process training on the concatenation of the two workers' batches."""
    run = two_workers / "run"
    steps = [json.loads((run / f"steps_{i}.json").read_text()) for i in range(2)]
    reference = json.loads((two_workers / "reference.json").read_text())
    assert len(steps[0]) == len(reference) == 20
    assert steps[0] == steps[1]
    np.testing.assert_allclose(steps[0], reference, rtol=1e-4)
    assert reference[-1] < 0.5 * reference[0]  # it learned: a comparison of two runs that did nothing proves little
    for a, b in zip(_weights(run / "weights_0.npz"), _weights(run / "weights_1.npz"), strict=True):
        np.testing.assert_array_equal(a, b)
    log = pd.read_csv(run / "log.csv")  # chief-only outputs: the run's files; the other worker's log beside them
    assert list(log["epoch"]) == [0, 1] and {"val_loss", "val_psnr", "samples_per_s"} <= set(log.columns)
    assert (run / "best.keras").exists() and (run / "last.keras").exists() and not (run / "ckpt").exists()
    assert "val_loss" not in pd.read_csv(run / "workers" / "worker_1" / "log.csv").columns


@pytest.mark.slow
def test_killed_worker_resumes_from_the_last_checkpoint(two_workers, tmp_path):
    """Worker 1 dies after step 13 of 20 (checkpoints every 5 steps); worker 0, left waiting for it, is killed too.
    Both started again resume at step 10, and end with the weights of the run that was never interrupted."""
    run = tmp_path / "run"
    killed = _workers(["steps", str(run), "13"], kill_rest_after_one_died=True)
    assert sorted(code for code, _ in killed) == [-9, 9]
    assert tf.train.latest_checkpoint(str(run / "ckpt")).endswith("ckpt-10")
    resumed = _workers(["steps", str(run)])
    for code, err in resumed:
        assert code == 0, err[-3000:]
        assert "resuming at step 10 of 20" in err
    uninterrupted = two_workers / "run"
    after = json.loads((uninterrupted / "steps_0.json").read_text())[10:]
    assert json.loads((run / "steps_0.json").read_text()) == after
    for a, b in zip(_weights(run / "weights_0.npz"), _weights(uninterrupted / "weights_0.npz"), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert list(pd.read_csv(run / "log.csv")["epoch"]) == [0, 1]


@pytest.mark.slow
def test_every_family_trains_on_two_workers(tmp_path, monkeypatch):
    """cnn, autoencoder, VAE and the local CPPN through experiment.train (TF_CONFIG: each worker its shard, uint8
    crops degraded in the step), the CPPN-GAN with its discriminator through fit; started by srlib.launch's
    start_workers: every family ends with the same weights on both workers and a chief's log."""
    from srlib.io import save_image

    rng = np.random.default_rng(5)
    images = tmp_path / "images"
    for i in range(6):
        save_image(images / f"p{i}.png", (rng.random((40, 40, 3)) * 0.5 + np.linspace(0, 0.5, 40)[None, :, None])
                   .astype("float32"))
    command = [sys.executable, str(WORKER), "families", str(tmp_path / "runs"), str(images)]
    for key in ("TF_CPP_MIN_LOG_LEVEL", "CUDA_VISIBLE_DEVICES", "PYTHONPATH"):
        monkeypatch.setenv(key, ENV[key])
    assert launch.start_workers(command, 2, threads=1) == [0, 0]
    for family in ("cnn", "autoencoder", "vae", "cppn_local", "gan"):
        run = tmp_path / "runs" / family
        for a, b in zip(_weights(run / "weights_0.npz"), _weights(run / "weights_1.npz"), strict=True):
            np.testing.assert_array_equal(a, b)
        log = pd.read_csv(run / "log.csv")
        assert len(log) == 1 and np.isfinite(log["loss"]).all() and np.isfinite(log["val_loss"]).all(), family
        assert (run / "last.keras").exists() and (run / "workers" / "worker_1" / "log.csv").exists()
    assert json.loads((tmp_path / "runs" / "vae" / "run.json").read_text())["recipe"]["model"] == "vae"


def test_device_half_gives_the_pipeline_pairs(rng):
    """hr_batches ships uint8 crops (a quarter of the bytes) and pair_fn, run where the step runs, makes exactly
    the (LR, HR) pairs of make_dataset, for a noisy degradation too."""
    images = (rng.random((3, 30, 30, 3)) * 255).astype(np.uint8)
    for degradation in ("bicubic", "pixelate_noise"):
        host = make_dataset(images, 3, 5, degradation, batch_size=4, patches_per_image=4, seed=7, device=None)
        crops = hr_batches(images, 15, 4, 4, seed=7)
        pair = pair_fn(3, degradation, seed=7)
        for (lr, hr), (i, u8) in zip(host.take(3), crops.take(3), strict=True):
            assert u8.dtype == tf.uint8 and u8.shape == (4, 15, 15, 3)
            lr2, hr2 = pair(i, u8)
            np.testing.assert_array_equal(lr.numpy(), lr2.numpy())
            np.testing.assert_array_equal(hr.numpy(), hr2.numpy())


def test_cache_files_for_sets_larger_than_memory(tmp_path, rng):
    """cache=<file prefix> keeps the decoded images in TensorFlow's cache files: the same crops as the in-memory
    cache, and the files are there after the first pass."""
    images = (rng.random((3, 20, 20, 3)) * 255).astype(np.uint8)
    on_disk = hr_batches(images, 10, 4, 2, seed=3, cache=tmp_path / "decoded", shuffle_buffer=0)
    in_memory = hr_batches(images, 10, 4, 2, seed=3, cache=True, shuffle_buffer=0)
    for (_, a), (_, b) in zip(on_disk.take(4), in_memory.take(4), strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert list(tmp_path.glob("decoded*.index"))


def test_shards_split_the_files(tmp_path):
    """Each of three workers decodes only its own files; together they read each file once."""
    from srlib.io import save_image

    for i in range(7):
        save_image(tmp_path / f"f{i}.png", np.full((8, 8 + i, 3), i * 30, np.uint8))
    widths = [sorted(x.shape[1] for x in image_source(tmp_path, shard=(k, 3))) for k in range(3)]
    assert widths == [[8, 11, 14], [9, 12], [10, 13]]
    assert [len(list(image_source(np.zeros((7, 4, 4, 3)), shard=(k, 3)))) for k in range(3)] == [3, 2, 2]


def test_cluster_and_learning_rate_rule(monkeypatch, tmp_path):
    """TF_CONFIG -> (index, workers) and where each writes; the square-root rule; a 'chief' task is refused."""
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert distributed.cluster() == (0, 1) and distributed.output_dir(tmp_path) == tmp_path
    config = json.loads(launch.local_configs(3)[2])
    assert len({a.split(":")[1] for a in config["cluster"]["worker"]}) == 3
    monkeypatch.setenv("TF_CONFIG", json.dumps(config))
    assert distributed.cluster() == (2, 3)
    assert distributed.output_dir(tmp_path) == tmp_path / "workers" / "worker_2"
    assert distributed.scaled_learning_rate(1e-3, 4) == pytest.approx(2e-3)
    assert distributed.scaled_learning_rate(1e-3, 1) == 1e-3
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"chief": ["a:1"], "worker": ["b:1"]}}))
    with pytest.raises(ValueError, match="chief"):
        distributed.cluster()


def test_launch_reads_recipes_cards_and_run_files(tmp_path):
    """A recipe, a run.json or a card (their 'recipe') gives the Recipe; an unreadable file is one line."""
    from srlib.training.experiment import Recipe

    r = Recipe("vae", scale=2, batch=4)
    (tmp_path / "recipe.json").write_text(json.dumps(r.to_dict()))
    (tmp_path / "run.json").write_text(json.dumps({"recipe": r.to_dict(), "sessions": []}))
    assert launch.recipe_of(tmp_path / "recipe.json") == launch.recipe_of(tmp_path / "run.json") == r
    with pytest.raises(SystemExit, match="not a readable JSON"):
        launch.recipe_of(tmp_path / "missing.json")
