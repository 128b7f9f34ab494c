"""Streaming ``tf.data`` pipeline of aligned (LR, HR) patch pairs.

Flow: source -> [shard] -> decode (parallel) -> [cache] -> repeat -> K random HR crops per
image -> dihedral augmentation -> shuffle -> batch (:func:`hr_batches`, the host half: uint8 crops)
-> degrade the whole batch (LR = degradation(HR crop), so pairs are aligned by construction) ->
[Y channel] (:func:`pair_fn`, the device half) -> prefetch. :func:`make_dataset` runs both halves in
``tf.data``; a training step can run the second itself (:mod:`srlib.training.distributed`), so the host ships
uint8 HR crops only.

A degradation that cannot run in ``tf.data`` (``in_graph=False``: a codec through ffmpeg) degrades whole
images instead, once, and its pairs are cropped from the cached LR (:mod:`srlib.codec_data`).

Sources are a folder (recursive, mixed PNG/JPEG/BMP/TIFF), a list of folders
or files, an in-memory array (N, H, W, C) or any dataset of (H, W, 3) images
(e.g. :func:`frames_dataset`, the frames of a video).
Nothing holds more than the shuffle buffer and prefetch queue in memory unless
``cache=True``; ``cache=<file prefix>`` keeps the decoded images in TensorFlow's cache files
instead (written on the first pass, read after it), for sets larger than memory.
"""

import warnings

import numpy as np
import tensorflow as tf

from srlib import color, degrade
from srlib.codec_data import cached_pairs
from srlib.io import ImageError, image_files, list_images, load_image
from srlib.patches import dihedral, random_crops, seed_pair
from srlib.videoio import probe, read_frames

HOLDOUT_IMAGES = 10  # validation images carved from the training data (every k-th file)


class SkipLog:
    """Counts the images a pipeline skipped, and why (filled while iterating)."""

    def __init__(self):
        self.unreadable, self.too_small = [], []

    def __repr__(self):
        return f"SkipLog(unreadable={len(self.unreadable)}, too_small={len(self.too_small)})"


def _file_images(files, min_side, skipped):
    """Dataset of uint8 (H, W, 3) images decoded in parallel; bad or small files yield nothing.

    Pixels stay uint8 until after cropping: a quarter of the memory per image in
    flight or in the cache, and no float conversion of pixels never used.
    """

    def read(path):
        path = path.decode()
        try:
            x = load_image(path, dtype=np.uint8)
        except ImageError as e:
            if path not in skipped.unreadable:
                skipped.unreadable.append(path)
                warnings.warn(f"skipping {e}", stacklevel=2)
            return np.zeros((0, 0, 3), np.uint8)
        if min(x.shape[:2]) < min_side:
            if path not in skipped.too_small:
                skipped.too_small.append(path)
            return np.zeros((0, 0, 3), np.uint8)
        return x

    ds = tf.data.Dataset.from_tensor_slices(files)
    ds = ds.map(
        lambda p: tf.ensure_shape(tf.numpy_function(read, [p], tf.uint8, stateful=False), [None, None, 3]),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    return ds.filter(lambda x: tf.shape(x)[0] > 0)


def frames_dataset(path, max_frames=None):
    """``tf.data.Dataset`` of a video's frames, float32 (H, W, 3) in [0, 1], decoded lazily.

    A source for :func:`make_dataset` (a folder of frames works too).
    """
    w, h = probe(path).size
    frames = lambda: (f.astype(np.float32) / 255.0 for f in read_frames(path, max_frames))
    return tf.data.Dataset.from_generator(frames, output_signature=tf.TensorSpec((h, w, 3), tf.float32))


def image_source(source, min_side=1, skipped=None, shard=None):
    """Dataset of (H, W, 3) images from a folder, file list, array or ``tf.data.Dataset``.

    Files give uint8; arrays keep uint8 or become float32 in [0,1]; 1-channel
    arrays are tiled to 3. (Crops are converted to float32 by the pipeline.)
    ``shard``: (index, count): only every count-th file (array row, element) from ``index``, so
    each of ``count`` workers reads its own part of the files.
    """
    index, count = shard or (0, 1)
    if isinstance(source, tf.data.Dataset):
        return source.shard(count, index) if count > 1 else source
    if isinstance(source, np.ndarray):
        x = source[index::count] if source.dtype == np.uint8 else source[index::count].astype(np.float32)
        if x.ndim == 3:
            x = x[..., None]
        if x.shape[-1] == 1:
            x = np.repeat(x, 3, axis=-1)
        return tf.data.Dataset.from_tensor_slices(x)
    files = image_files(source)[index::count]
    return _file_images(files, min_side, skipped if skipped is not None else SkipLog())


def large_images(source, min_side, skipped, cache, repeat, shard=None):
    """:func:`image_source` without images smaller than ``min_side``, optionally cached (True: in memory; a
    file prefix: in TensorFlow's cache files) and repeated."""
    ds = image_source(source, min_side, skipped, shard)
    ds = ds.filter(lambda x: tf.reduce_min(tf.shape(x)[:2]) >= min_side)
    if cache:
        ds = ds.cache("" if cache is True else str(cache))
    return ds.repeat() if repeat else ds

def hr_batches(source, hr_size, batch_size=64, patches_per_image=16, augment=True, shuffle_buffer=4096, seed=0,
               cache=False, repeat=True, skipped=None, shard=None):
    """The host half of :func:`make_dataset`: numbered batches of HR crops in the source's own pixels.

    Arguments as :func:`make_dataset` (``hr_size``: the HR crop side). Returns a ``tf.data.Dataset`` of
    (i, hr): the batch number () int64 and (B, hr_size, hr_size, 3), uint8 from files and uint8 arrays
    (a quarter of float32's bytes in the shuffle buffer and on the way to a device), float32 otherwise.
    """
    ds = large_images(source, hr_size, skipped, cache, repeat, shard).enumerate()

    def crops(i, image):
        s = seed_pair(seed, i)
        p = random_crops(image, hr_size, patches_per_image, s)
        p = dihedral(p, s + [1, 0]) if augment else p
        return p if p.dtype == tf.uint8 else tf.cast(p, tf.float32)

    ds = ds.map(crops, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).unbatch()
    if shuffle_buffer:
        ds = ds.shuffle(shuffle_buffer, seed=seed)
    return ds.batch(batch_size, drop_remainder=True).enumerate()

def _to_pair(lr, hr, y_only, space):
    """Float32 (LR, HR) in [0, 1] (from uint8 or float) -> their Y channel, or both in ``space``."""
    lr, hr = ((tf.cast(t, tf.float32) / 255.0 if t.dtype == tf.uint8 else tf.cast(t, tf.float32)) for t in (lr, hr))
    if y_only:
        return color.rgb_to_y(lr), color.rgb_to_y(hr)
    to_space = {"rgb": tf.identity, "ycbcr": color.rgb_to_ycbcr, "yuv": color.rgb_to_yuv}[space]
    return to_space(lr), to_space(hr)


def pair_fn(scale, degradation="bicubic", y_only=True, space="rgb", seed=0):
    """The device half of :func:`make_dataset`: a TF function (i, hr) -> (lr, hr) of a batch of
    :func:`hr_batches`: (B, S, S, 3) uint8 or float32 -> (B, S/scale, S/scale, C) and (B, S, S, C) float32,
    LR = the degradation of the HR batch under the seed of batch ``i``. Arguments as :func:`make_dataset`."""
    entry = degrade.get(degradation)
    if not entry.in_graph:
        raise ValueError(f"degradation {entry.name!r} cannot run inside tf.data: its LR is made once and cached "
                         "(make_dataset, cached_pairs)")

    def pair(i, hr):
        hr = tf.cast(hr, tf.float32) / 255.0 if hr.dtype == tf.uint8 else tf.cast(hr, tf.float32)
        return _to_pair(entry.fn(hr, scale, seed_pair(seed + 1, i)), hr, y_only, space)

    return pair


def make_dataset(
    source,
    scale,
    patch_size=17,
    degradation="bicubic",
    batch_size=64,
    patches_per_image=16,
    y_only=True,
    space="rgb",
    augment=True,
    shuffle_buffer=4096,
    seed=0,
    cache=False,
    repeat=True,
    skipped=None,
    device="auto",
    shard=None,
    bank=4,
):
    """Batches of aligned (LR, HR) patch pairs: :func:`hr_batches` mapped by :func:`pair_fn`; for an out-of-graph
    degradation (a codec), :func:`cached_pairs`.

    Args:
      source: folder, list of files, array (N, H, W, C) or dataset of (H, W, 3) images.
      scale: integer SR factor; the HR crop is ``patch_size * scale``.
      patch_size: LR patch side.
      degradation: a name of :data:`srlib.degrade.REGISTRY` (or a :class:`srlib.degrade.Degradation`), run
        on each batch with a fresh seed; one that cannot run in the graph (``in_graph=False``) is run once per
        training file and bank seed and cached (:func:`srlib.codec_data.codec_bank`; file sources only).
      patches_per_image: crops taken from each decoded image per pass.
      y_only: keep the Y channel of MATLAB rgb2ycbcr (C = 1) instead of 3 channels.
      space: colour space of 3-channel pairs: 'rgb', 'ycbcr' or 'yuv' (with y_only=False).
      augment: random flips and 90-degree rotations, identical for LR and HR.
      seed: makes crops, augmentation, order and noise repeatable.
      cache: keep decoded images after the first pass: True in memory, a file prefix in cache files.
      repeat: loop forever (use ``steps_per_epoch``) instead of one pass.
      skipped: optional :class:`SkipLog` that records unreadable and too-small files.
      device: where the last batches wait: 'auto' prefetches to the first GPU when
        TensorFlow sees one (host RAM otherwise), None keeps them on the host, or a
        device name such as '/GPU:0'.
      shard: (index, count): read only this worker's part of the files (:func:`image_source`).
      bank: LR images per training file of an out-of-graph degradation, each under its own seed.

    Returns:
      ``tf.data.Dataset`` of (lr, hr): (B, p, p, C) and (B, p*scale, p*scale, C), float32.
    """
    if degrade.get(degradation).in_graph:
        ds = hr_batches(source, patch_size * scale, batch_size, patches_per_image, augment, shuffle_buffer, seed,
                        cache, repeat, skipped, shard)
        ds = ds.map(pair_fn(scale, degradation, y_only, space, seed), num_parallel_calls=tf.data.AUTOTUNE,
                    deterministic=True)
    else:
        ds = cached_pairs(source, scale, patch_size, degradation, batch_size, patches_per_image, augment,
                          shuffle_buffer, seed, cache, repeat, skipped, shard, bank)
        ds = ds.map(lambda lr, hr: _to_pair(lr, hr, y_only, space), num_parallel_calls=tf.data.AUTOTUNE,
                    deterministic=True)
    if device == "auto":
        gpus = tf.config.list_logical_devices("GPU")
        device = gpus[0].name if gpus else None
    if device:
        return ds.apply(tf.data.experimental.prefetch_to_device(device, buffer_size=2))
    return ds.prefetch(tf.data.AUTOTUNE)


def benchmark_pairs(source, scale, y_only=True, degradation="bicubic"):
    """Full-image (LR, HR) pairs for validation, batch size 1: the benchmark pair of each image
    (:func:`srlib.degrade.benchmark_lr`: the LR a model is tested on). Returns a dataset of
    ((1, h, w, C), (1, h*scale, w*scale, C)).
    """
    ds = None
    for f in image_files(source):
        hr, lr = degrade.benchmark_lr(load_image(f), scale, degradation)
        if y_only:
            lr, hr = color.rgb_to_y(lr), color.rgb_to_y(hr)
        one = tf.data.Dataset.from_tensors((lr[None], hr[None]))
        # Concatenation keeps a known length: Keras mis-averages metrics over
        # generator datasets of unknown cardinality.
        ds = one if ds is None else ds.concatenate(one)
    return ds


def split_holdout(folders, n=HOLDOUT_IMAGES):
    """(training files, validation files) of the images in ``folders``: every k-th file, ``n`` in all, is held out."""
    files = [f for folder in folders for f in list_images(folder)]
    step = max(1, len(files) // n)
    val = files[::step][:n]
    held = set(val)
    return [f for f in files if f not in held], val
