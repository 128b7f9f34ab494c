"""Training-data loader throughput: the seed-001 loop vs ``srlib.data.make_dataset`` vs what ESPCN consumes.

All in one process, same image folders (default ``$SRLIB_DATA_DIR/train/T91`` and ``.../BSD200``;
scikit-image's sample photos written to a temporary folder if those are absent), scale 3, LR patch
17x17 (HR 51x51), batch 64, Y channel:

1. seed loop -- a re-implementation of the seed-001 student ``DataLoader``: list the files, and per
   batch, one image at a time in Python, ``skimage.io.imread`` -> ``rgb2ycbcr`` ->
   ``skimage.filters.gaussian`` -> ``scipy.signal.decimate(x, 3)`` along axis 0 then 1 (default IIR
   filter), giving a whole-image (LR, HR) pair; then random aligned 17x17 LR / 51x51 HR patches of it.
   Timed at the pipeline's work per decoded image, 16 patches (**equal work**: the row every ratio
   uses), and at one patch per decoded image (the seed fed whole images one by one; labelled so, no
   ratio uses it). Two seed bugs that cost nothing are not copied: it discarded the blur
   (``dimg = copy.deepcopy(timg)`` after ``gaussian``) and shuffled X and Y independently, misaligning pairs.
2. pipeline -- ``make_dataset(..., scale=3, patch_size=17, batch_size=64)`` with ``cache=False``
   (streaming) and ``cache=True``, timed over N batches after a warm-up (a full first pass when
   caching). Three isolated stages show which one limits: decode, crop + augment + shuffle + batch on
   in-memory images, and the LR (MATLAB bicubic, rounded) + Y conversion on a constant batch.
3. ESPCN x3 consumption -- ``model.fit`` on one constant (64, 17, 17, 1) -> (64, 51, 51, 1) batch,
   fp32, and mixed bf16 where the CPU has native bfloat16 (``srlib.precision.auto_precision``; emulated
   bf16 trains ~10x slower and is skipped); the first epoch is the warm-up, the second is timed.

Ratios: pipeline / seed loop at 16 patches per decoded image (equal work; target >= 10 cached) and
pipeline / ESPCN consumption (target >= 3: training never waits for data). Every row also gives HR
pixels per second (51 x 51 per pair).

Usage:
  python benchmarks/loader.py [--quick] [--data DIR ...] [--out results/tables/loader_benchmark.csv]

Writes the CSV (columns what, pairs_per_s, hr_pixels_per_s; '#' header with date, machine, command
and ratios) atomically.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import scipy.signal
import skimage.color
import skimage.filters
import skimage.io
import tensorflow as tf

from srlib import color, data, degrade, paths, precision
from srlib.io import list_images
from srlib.metrics import mse_loss
from srlib.models.espcn import espcn
from srlib.outputs import Outputs, write_timing
from srlib.patches import dihedral, random_crops
from srlib.sources import datasets
from srlib.training import train

DEFAULT_FOLDERS = [datasets.path("T91"), datasets.path("BSD200")]
SCALE, PATCH, BATCH, PATCHES_PER_IMAGE = 3, 17, 64, 16
EQUAL = "seed-001 loop, 16 patches per decoded image (equal work)"


def log(msg):
    """Progress line on stdout, flushed at once."""
    print(msg, flush=True)


class SeedLoader:
    """The seed-001 loader: file names in memory, every batch decoded and degraded image by image in Python."""

    def __init__(self, folders, scale=SCALE, patch=PATCH, seed=0, crops_per_image=1):
        self.file_list = sorted(str(p) for folder in folders for p in list_images(folder, recursive=False))
        self.scale, self.patch, self.crops_per_image = scale, patch, crops_per_image
        self.rng = np.random.default_rng(seed)

    def degrade_image(self, img):
        """(LR, HR) whole images in YCbCr (MATLAB range, float64): blur, then IIR decimation along H and W."""
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=-1)
        timg = skimage.color.rgb2ycbcr(img[..., :3])
        dimg = skimage.filters.gaussian(timg, channel_axis=-1)
        dimg = scipy.signal.decimate(dimg, self.scale, axis=0)
        dimg = scipy.signal.decimate(dimg, self.scale, axis=1)
        return dimg, timg

    def crop(self, lr, hr):
        """One random aligned patch: LR (p, p, 1) and HR (p*s, p*s, 1), Y scaled to [0, 1]."""
        p, s = self.patch, self.scale
        i = self.rng.integers(0, min(lr.shape[0], hr.shape[0] // s) - p + 1)
        j = self.rng.integers(0, min(lr.shape[1], hr.shape[1] // s) - p + 1)
        x = lr[i : i + p, j : j + p, :1] / 255.0
        y = hr[i * s : (i + p) * s, j * s : (j + p) * s, :1] / 255.0
        return x.astype(np.float32), y.astype(np.float32)

    def get_batch(self, batch_size, n_batch):
        """Batch number ``n_batch`` as (X, Y) arrays: ``crops_per_image`` patches from each decoded and
        degraded file, files taken in order (wrapping around)."""
        xs, ys = [], []
        per = self.crops_per_image
        first = batch_size * n_batch // per
        for i in range(first, first + -(-batch_size // per)):
            lr, hr = self.degrade_image(skimage.io.imread(self.file_list[i % len(self.file_list)]))
            for _ in range(per):
                x, y = self.crop(lr, hr)
                xs.append(x)
                ys.append(y)
        return np.array(xs[:batch_size]), np.array(ys[:batch_size])


def rate(batches, pairs_per_batch, warmup, n):
    """Pairs per second of ``next(batches)`` over ``n`` calls, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        next(batches)
    t = time.perf_counter()
    for _ in range(n):
        next(batches)
    return n * pairs_per_batch / (time.perf_counter() - t)


def seed_loop(folders, n, crops_per_image):
    """Pairs/s of the seed loader over ``n`` batches of 64 (after one warm-up image)."""
    loader = SeedLoader(folders, crops_per_image=crops_per_image)
    loader.degrade_image(skimage.io.imread(loader.file_list[0]))
    return rate((loader.get_batch(BATCH, k) for k in range(n)), BATCH, 0, n)


def pipeline(folders, n, cache):
    """Pairs/s of ``make_dataset`` over ``n`` batches; the warm-up covers a whole first pass when caching."""
    ds = data.make_dataset([str(f) for f in folders], SCALE, PATCH, batch_size=BATCH, cache=cache, seed=0)
    n_images = sum(len(list_images(f)) for f in folders)
    warmup = -(-n_images * PATCHES_PER_IMAGE // BATCH) + 2 if cache else 5
    return rate(iter(ds), BATCH, warmup, n)


def stages(folders, n):
    """Isolated pipeline stages, in pairs/s (decode: one whole pass, each image counted as its 16 patches)."""
    out = {}
    images = data.image_source([str(f) for f in folders], SCALE * PATCH)
    n_images = sum(len(list_images(f)) for f in folders)
    out["stage: decode (16 pairs per image)"] = rate(iter(images.repeat().prefetch(8)), PATCHES_PER_IMAGE, 4, n_images)
    cached = images.take(16).cache().repeat().enumerate()

    def crops(i, image):
        s = tf.cast(tf.stack([i % 1000, 0]), tf.int32)
        return dihedral(random_crops(image, SCALE * PATCH, PATCHES_PER_IMAGE, s), s + [1, 0])

    patches = cached.map(crops, num_parallel_calls=tf.data.AUTOTUNE).unbatch().shuffle(4096).batch(BATCH)
    out["stage: crop+augment+shuffle+batch"] = rate(iter(patches), BATCH, 80, n)
    bicubic = degrade.get("bicubic")
    hr = tf.random.stateless_uniform([BATCH, SCALE * PATCH, SCALE * PATCH, 3], [0, 0])
    lr_y = (
        tf.data.Dataset.from_tensors(hr)
        .repeat()
        .map(lambda x: (color.rgb_to_y(bicubic(x, SCALE)), color.rgb_to_y(x)), num_parallel_calls=tf.data.AUTOTUNE)
    )
    out["stage: bicubic LR + Y on a batch"] = rate(iter(lr_y), BATCH, 5, n)
    return out


def espcn_consumption(steps, mode):
    """Training samples/s of ESPCN x3 (Y) under precision ``mode``, on one constant in-memory batch."""
    try:
        precision.set_precision(mode)
        model = espcn(SCALE)
        model.compile(optimizer="adam", loss=mse_loss)
        x = tf.random.stateless_uniform([BATCH, PATCH, PATCH, 1], [1, 0])
        y = tf.random.stateless_uniform([BATCH, PATCH * SCALE, PATCH * SCALE, 1], [2, 0])
        ds = tf.data.Dataset.from_tensors((x, y)).repeat()
        timing = train.Timing(BATCH, steps)
        history = model.fit(ds, epochs=2, steps_per_epoch=steps, callbacks=[timing], verbose=0)
        return history.history["samples_per_s"][-1]
    finally:
        precision.set_precision("fp32")


def main(argv=None):
    """Run the stages, print the table and ratios, write the CSV."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", nargs="+", type=Path, default=DEFAULT_FOLDERS, help="image folders")
    p.add_argument("--quick", action="store_true", help="fewer batches: a few seconds per stage")
    p.add_argument("--out", type=Path, help="CSV to write (default: results/tables/loader_benchmark.csv)")
    args = p.parse_args(argv)
    folders = [f for f in args.data if f.is_dir()]
    if not folders:
        folders = [datasets.sample_folder("srlib_loader_bench_")]
        log(f"no image folder among {[str(f) for f in args.data]}: using scikit-image photos in {folders[0]}")
    n_seed, n_pipe, n_steps = (1, 20, 20) if args.quick else (10, 300, 150)
    n_images = sum(len(list_images(f, recursive=False)) for f in folders)
    log(f"{n_images} images in {', '.join(map(str, folders))}; x{SCALE}, LR {PATCH}x{PATCH}, batch {BATCH}")

    rows = {}
    log(f"[1/4] seed loop, {n_seed} batches at 16 and at 1 patches per decoded image ...")
    rows[EQUAL] = seed_loop(folders, n_seed, PATCHES_PER_IMAGE)
    rows["seed-001 loop, 1 patch per decoded image (not equal work)"] = seed_loop(folders, max(1, n_seed // 4), 1)
    for cache in (False, True):
        log(f"[2/4] make_dataset cache={cache}, {n_pipe} batches ...")
        rows[f"make_dataset cache={cache}"] = pipeline(folders, n_pipe, cache)
    log("[3/4] pipeline stages ...")
    rows.update(stages(folders, n_pipe // 3))
    modes = ("fp32", "bf16") if precision.auto_precision() == "bf16" else ("fp32",)
    for mode in modes:
        log(f"[4/4] ESPCN x3 fit {mode}, 2 x {n_steps} steps ...")
        rows[f"ESPCN x3 training consumption {mode}"] = espcn_consumption(n_steps, mode)

    stream, cached = rows["make_dataset cache=False"], rows["make_dataset cache=True"]
    seed = rows[EQUAL]
    ratios = {
        "pipeline (stream) / seed loop, both 16 patches per decoded image": stream / seed,
        "pipeline (cache) / seed loop, both 16 patches per decoded image": cached / seed,
    }
    for mode in modes:
        consume = rows[f"ESPCN x3 training consumption {mode}"]
        ratios[f"pipeline (stream) / ESPCN {mode}"] = stream / consume
        ratios[f"pipeline (cache) / ESPCN {mode}"] = cached / consume

    width = max(map(len, rows | ratios))
    log("")
    for what, value in rows.items():
        log(f"{what:{width}s} {value:10.1f} pairs/s")
    for what, value in ratios.items():
        log(f"{what:{width}s} {value:10.1f} x")

    out = args.out or Outputs("quick" if args.quick else "full")("tables/loader_benchmark.csv")
    notes = {"data": f"{n_images} images in {', '.join(paths.display(f) for f in folders)}",
             "ratios": "; ".join(f"{k} = {v:.1f}" for k, v in ratios.items())}
    hr_pixels = (SCALE * PATCH) ** 2
    write_timing(out, [{"what": what, "pairs_per_s": f"{value:.1f}", "hr_pixels_per_s": f"{value * hr_pixels:.0f}"}
                    for what, value in rows.items()], notes=notes)
    log(f"wrote {paths.display(out)}")


if __name__ == "__main__":
    main()
