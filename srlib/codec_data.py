"""Training pairs of an out-of-graph degradation (a codec through ffmpeg), which cannot run inside ``tf.data``: it
degrades whole images instead, once. :func:`codec_bank` makes the LR of each training image under a bank of seeds and
caches it as PNG under ``runs/degraded/``; :func:`cached_pairs` crops each LR patch from one of them and the HR patch
at exactly ``scale`` times its place (:func:`srlib.patches.aligned_crops`), so pairs are aligned as the benchmark pair
is. :func:`srlib.data.make_dataset` calls it for such a degradation.
"""

import hashlib
import logging
import warnings
from pathlib import Path

import numpy as np
import tensorflow as tf

from srlib import degrade
from srlib.io import ImageError, image_files, load_image, quantize, save_image
from srlib.patches import aligned_crops, dihedral, seed_pair
from srlib.paths import runs_dir

log = logging.getLogger(__name__)


def _mod_crop(hr, step):
    """:func:`srlib.degrade.mod_crop` of a numpy (H, W, C) array, in numpy (it also runs inside
    ``tf.numpy_function``, where TF ops do not belong)."""
    return hr[: hr.shape[0] - hr.shape[0] % step, : hr.shape[1] - hr.shape[1] % step]


def _codec_seed(digest, k):
    """The seed pair of LR ``k`` of the bank of an image (its digest): the same in every run and study."""
    return k, int(digest[:7], 16)


def codec_bank(files, scale, degradation, bank=4, min_side=1, skipped=None, cache_dir=None):
    """[(HR file, [its ``bank`` LR files])]: each image's LR under an out-of-graph ``degradation`` (a codec), made
    once per image and bank seed and cached.

    The LR of image x under bank seed k is ``degradation.fn(mod_crop(x), scale, (k, digest))``, its training form
    (random parameters drawn by the seed), rounded to uint8 and written as PNG to ``cache_dir`` (default
    ``runs_dir()/degraded``)``/<name>_x<scale>/<digest>_<k>.png``, the digest that of the cropped HR pixels: the
    same bank for every run, seed and study, and a file found there is used as it is (delete the folder after
    changing an entry's defaults). Unreadable files and images smaller than ``min_side`` are skipped (and logged in
    ``skipped``, a :class:`srlib.data.SkipLog`, when given).
    """
    entry = degrade.get(degradation)
    folder = Path(cache_dir or runs_dir() / "degraded") / f"{entry.name}_x{scale:g}"
    step, pairs, made = degrade.crop_step(scale), [], 0
    for f in files:
        try:
            hr = load_image(f, dtype=np.uint8)
        except ImageError as e:
            if skipped is not None:
                skipped.unreadable.append(str(f))
            warnings.warn(f"skipping {e}", stacklevel=2)
            continue
        if min(hr.shape[:2]) < min_side:
            if skipped is not None:
                skipped.too_small.append(str(f))
            continue
        hr = _mod_crop(hr, step)
        digest = hashlib.sha1(hr.tobytes() + str(hr.shape).encode()).hexdigest()[:16]
        lrs = [folder / f"{digest}_{k}.png" for k in range(bank)]
        for k, path in enumerate(lrs):
            if not path.exists():
                save_image(path, quantize(entry.fn(hr.astype(np.float32) / 255.0, scale, _codec_seed(digest, k))))
                made += 1
        pairs.append((str(f), [str(p) for p in lrs]))
    log.info("%s x%g: %d LR images made, %d cached, under %s", entry.name, scale, made,
             bank * len(pairs) - made, folder)
    return pairs


def cached_pairs(source, scale, patch_size, degradation, batch_size=64, patches_per_image=16, augment=True,
                 shuffle_buffer=4096, seed=0, cache=False, repeat=True, skipped=None, shard=None, bank=4):
    """Batches of uint8 (LR, HR) patch pairs, (B, p, p, 3) and (B, p * scale, p * scale, 3), of an out-of-graph
    degradation: its LR made once per training image and bank seed (:func:`codec_bank`), the patches cropped from
    the cached pairs (:func:`aligned_crops`: each crop from one of the ``bank`` LR images), flipped and rotated alike.

    ``source``: image files or folders (the cache is per file); other arguments as :func:`srlib.data.make_dataset`.
    """
    if isinstance(source, (np.ndarray, tf.data.Dataset)):
        raise ValueError(f"degradation {degrade.get(degradation).name!r} runs outside tf.data: its LR is made once "
                         "per image file and cached, so train it on files or folders, not an array or a dataset")
    index, count = shard or (0, 1)
    pairs = codec_bank(image_files(source)[index::count], scale, degradation, bank, patch_size * scale, skipped)
    if not pairs:
        raise ValueError(f"{source}: no readable training image of at least {patch_size * scale} pixels a side")
    step = degrade.crop_step(scale)

    def read(hr_path, lr_paths):
        hr = load_image(hr_path.decode(), dtype=np.uint8)
        hr = _mod_crop(hr, step)
        lrs = np.stack([load_image(p.decode(), dtype=np.uint8) for p in lr_paths])
        if lrs.shape[1] * scale != hr.shape[0] or lrs.shape[2] * scale != hr.shape[1]:
            raise ValueError(f"{lr_paths[0].decode()}: LR {lrs.shape[2]}x{lrs.shape[1]} is not HR "
                             f"{hr.shape[1]}x{hr.shape[0]} / {scale}; delete the cached LR")
        return hr, lrs

    ds = tf.data.Dataset.from_tensor_slices(([p for p, _ in pairs], [lrs for _, lrs in pairs]))

    def decode(hr_path, lr_paths):
        hr, lrs = tf.numpy_function(read, [hr_path, lr_paths], [tf.uint8, tf.uint8], stateful=False)
        return tf.ensure_shape(hr, [None, None, 3]), tf.ensure_shape(lrs, [bank, None, None, 3])

    ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if cache:
        ds = ds.cache("" if cache is True else str(cache))
    ds = (ds.repeat() if repeat else ds).enumerate()

    def crops(i, images):
        hr, lrs = images
        s = seed_pair(seed, i)
        lr, hr = aligned_crops(hr, lrs, patch_size, int(scale), patches_per_image, s)
        return (dihedral(lr, s + [1, 0]), dihedral(hr, s + [1, 0])) if augment else (lr, hr)

    ds = ds.map(crops, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).unbatch()
    if shuffle_buffer:
        ds = ds.shuffle(shuffle_buffer, seed=seed)
    return ds.batch(batch_size, drop_remainder=True)
