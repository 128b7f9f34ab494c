"""The arbitrary-scale pipeline (:mod:`srlib.models.cppn_gan`'s local form): LR patches with HR queries at random
scales for training, whole images at fixed scales for validation.

A query is an HR pixel: its centre ``coord`` in the :func:`srlib.layers.coord_grid` frame of the HR crop, the HR
pixel size ``cell`` (2 / side) in the same units, and its value; the model maps an LR image and queries to values.
"""

import tensorflow as tf

from srlib import color
from srlib.data import large_images, split_holdout
from srlib.degrade import benchmark_lr
from srlib.io import image_files, load_image, quantize
from srlib.layers import coord_grid
from srlib.patches import dihedral, random_crops
from srlib.resize import imresize
from srlib.sources import datasets


def implicit_dataset(source, patch_size=24, scales=(1.0, 4.0), queries=None, batch_size=16, crops_per_image=8,
                     seed=0, cache=True, repeat=True, skipped=None, shard=None):
    """Batches for arbitrary-scale models (:mod:`srlib.models.cppn_gan`): LR patches and HR queries at random scales.

    For each decoded image a scale s ~ U(``scales``) is drawn; ``crops_per_image`` HR crops of side
    round(``patch_size`` * s) are taken (with dihedral augmentation), their LR is MATLAB bicubic to
    ``patch_size`` x ``patch_size`` rounded to uint8 levels, and ``queries`` HR pixels of each crop are drawn
    without repetition (default: ``patch_size``^2). Y channel. Repeatable from ``seed``. ``shard`` (index, count):
    a worker's part of the images (:func:`srlib.data.image_source`).

    Returns:
      ``tf.data.Dataset`` of ({"lr": (B, p, p, 1), "coord": (B, Q, 2), "cell": (B, Q, 2)}, hr (B, Q, 1)):
      ``coord`` are the queried pixels' centres in :func:`srlib.layers.coord_grid`'s frame of the HR crop,
      ``cell`` its pixel size (2 / side), ``hr`` their values, float32.
    """
    queries = queries or patch_size * patch_size
    ds = large_images(source, int(round(patch_size * scales[1])), skipped, cache, repeat, shard)

    def crops(i, image):
        s = tf.cast(tf.math.floormod(tf.stack([tf.constant(seed, tf.int64), i]), 2**31 - 1), tf.int32)
        scale = tf.random.stateless_uniform([], s + [0, 2], scales[0], scales[1])
        side = tf.cast(tf.round(patch_size * scale), tf.int32)
        hr = tf.cast(dihedral(random_crops(image, side, crops_per_image, s), s + [1, 0]), tf.float32) / 255.0
        lr = quantize(imresize(hr, size=(patch_size, patch_size)))
        lr = tf.ensure_shape(color.rgb_to_y(lr), [crops_per_image, patch_size, patch_size, 1])
        pick = tf.argsort(tf.random.stateless_uniform([crops_per_image, side * side], s + [0, 3]))[:, :queries]
        coord = tf.gather(coord_grid(side, side), pick)
        target = tf.gather(tf.reshape(color.rgb_to_y(hr), [crops_per_image, -1, 1]), pick, batch_dims=1)
        cell = tf.fill([crops_per_image, queries, 2], 2.0 / tf.cast(side, tf.float32))
        return {"lr": lr, "coord": coord, "cell": cell}, target

    ds = ds.enumerate().map(crops, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).unbatch()
    ds = ds.shuffle(64 * crops_per_image, seed=seed).batch(batch_size, drop_remainder=True)
    return ds.prefetch(tf.data.AUTOTUNE)


def implicit_pairs(source, scales=(2, 3, 4)):
    """Whole-image validation pairs for arbitrary-scale models: each image of ``source`` at each scale, the benchmark
    pair (:func:`srlib.degrade.benchmark_lr`: RGB LR rounded, then its Y channel, as the test sees it), batch size 1:
    ({"lr" (1, h, w, 1), "coord" (1, H * W, 2), "cell" (1, H * W, 2)}, hr (1, H * W, 1))."""
    ds = None
    for f in image_files(source):
        for scale in scales:
            hr, lr = benchmark_lr(load_image(f), scale)
            hr, lr = color.rgb_to_y(hr), color.rgb_to_y(lr)
            h, w = hr.shape[0], hr.shape[1]
            cell = tf.tile(tf.constant([[[2.0 / h, 2.0 / w]]]), [1, h * w, 1])
            x = {"lr": lr[None], "coord": coord_grid(h, w)[None], "cell": cell}
            one = tf.data.Dataset.from_tensors((x, tf.reshape(hr, [1, -1, 1])))
            ds = one if ds is None else ds.concatenate(one)
    return ds


def datasets_for(recipe, sources=None, val_source=None, shard=None):
    """(training, validation) datasets of an arbitrary-scale recipe: :func:`implicit_dataset` on ``recipe.data`` (or
    ``sources``) at scales U(1, ``recipe.scale``), validated on the held-out images (or ``val_source``) at x2, x3 and
    x4 up to ``recipe.scale`` (:func:`implicit_pairs`); ``shard``: a worker's part of the training images."""
    sources = list(sources) if sources is not None else [datasets.require(name) for name in recipe.data]
    if val_source is None:
        sources, val_source = split_holdout(sources)
    train = implicit_dataset(sources, recipe.patch, (1.0, float(recipe.scale)), batch_size=recipe.batch,
                             seed=recipe.seed, shard=shard)
    return train, implicit_pairs(val_source, [s for s in (2, 3, 4) if s <= recipe.scale] or [recipe.scale])
