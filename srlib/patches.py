"""Patches of images as graph ops: random square crops, aligned crops of an image and its LR images, dihedral
augmentation, and the stateless seed pair of a numbered element (crop, batch) of a pipeline.
"""

import tensorflow as tf


def random_crops(image, size, count, seed):
    """``count`` random size x size crops of an (H, W, C) image -> (count, size, size, C).

    ``seed`` is a stateless seed pair; offsets are uniform over valid positions.
    One gather of the crop pixels from the flattened image (gathering whole rows
    first would copy ``count`` full-width strips).
    """
    shape = tf.shape(image)
    oy = tf.random.stateless_uniform([count], seed, 0, shape[0] - size + 1, dtype=tf.int32)
    ox = tf.random.stateless_uniform([count], seed + [0, 1], 0, shape[1] - size + 1, dtype=tf.int32)
    return _crops_at(image, oy, ox, size)


def _crops_at(image, oy, ox, size):
    """The size x size crops of an (H, W, C) image at rows ``oy`` and columns ``ox`` (count,) -> (count, size,
    size, C), one gather."""
    shape = tf.shape(image)
    r = tf.range(size)
    idx = (oy[:, None, None] + r[None, :, None]) * shape[1] + ox[:, None, None] + r[None, None, :]
    return tf.gather(tf.reshape(image, [-1, shape[2]]), idx)


def aligned_crops(hr, lrs, size, scale, count, seed):
    """``count`` random aligned crops of one image: LR size x size from one of its bank of LR images ``lrs``
    (K, h, w, C), drawn per crop, and the HR (H, W, C) = (h * scale, w * scale, C) crop at exactly ``scale`` times
    its place -> (count, size, size, C), (count, size * scale, size * scale, C)."""
    shape = tf.shape(lrs)
    k, h, w = shape[0], shape[1], shape[2]
    oy = tf.random.stateless_uniform([count], seed, 0, h - size + 1, dtype=tf.int32)
    ox = tf.random.stateless_uniform([count], seed + [0, 1], 0, w - size + 1, dtype=tf.int32)
    which = tf.random.stateless_uniform([count], seed + [0, 2], 0, k, dtype=tf.int32)
    lr = _crops_at(tf.reshape(lrs, [k * h, w, shape[3]]), which * h + oy, ox, size)  # the bank stacked as rows
    return lr, _crops_at(hr, oy * scale, ox * scale, size * scale)


def dihedral(patches, seed):
    """Random flip / 90-degree rotation, independently per square patch (N, P, P, C).

    Each patch is transposed, then flipped up-down, then left-right, each with
    probability 1/2; the three choices become one pixel gather per patch.
    """
    shape = tf.shape(patches)
    n, p = shape[0], shape[1]
    transpose, flip_rows, flip_cols = tf.unstack(
        tf.random.stateless_uniform([3, n, 1, 1], seed, 0, 2, dtype=tf.int32) > 0
    )
    r = tf.range(p)
    i = tf.where(flip_rows, p - 1 - r[:, None], r[:, None])  # (n, p, 1): source row before transposing
    j = tf.where(flip_cols, p - 1 - r[None, :], r[None, :])  # (n, 1, p): source column
    src = tf.where(transpose, j * p + i, i * p + j)  # (n, p, p) flat source index
    flat = tf.reshape(patches, [n, p * p, shape[3]])
    return tf.reshape(tf.gather(flat, tf.reshape(src, [n, -1]), batch_dims=1), shape)


def seed_pair(seed, i):
    """A stateless seed pair from an integer seed and an int64 counter."""
    return tf.cast(tf.math.floormod(tf.stack([tf.constant(seed, tf.int64), i]), 2**31 - 1), tf.int32)
