"""Tests for srlib.patches: crops are exact windows of their image, aligned crops sit at ``scale`` times their LR
place, the dihedral augmentation gives each patch one of its 8 flips / rotations."""

import numpy as np
import tensorflow as tf

from srlib.patches import aligned_crops, dihedral, random_crops, seed_pair


def test_random_crops_are_windows_of_the_image(rng):
    """Every crop equals the image at some (y, x) within the valid range; the seed fixes them."""
    image = rng.integers(0, 256, (9, 11, 3), np.uint8)
    crops = random_crops(tf.constant(image), 4, 20, tf.constant([3, 4])).numpy()
    assert crops.shape == (20, 4, 4, 3)
    for c in crops:
        assert any(np.array_equal(image[y : y + 4, x : x + 4], c) for y in range(6) for x in range(8))
    np.testing.assert_array_equal(crops, random_crops(tf.constant(image), 4, 20, tf.constant([3, 4])).numpy())


def test_aligned_crops_take_hr_at_scale_times_the_lr_place(rng):
    """Each LR crop is a window of one image of the bank at (y, x), its HR crop the window at (3 y, 3 x); crops come
    from both images of the bank."""
    lrs = rng.integers(0, 256, (2, 5, 6, 3), np.uint8)
    hr = rng.integers(0, 256, (15, 18, 3), np.uint8)
    lr, hr_crops = (t.numpy() for t in aligned_crops(tf.constant(hr), tf.constant(lrs), 2, 3, 30, tf.constant([1, 2])))
    assert lr.shape == (30, 2, 2, 3) and hr_crops.shape == (30, 6, 6, 3)
    used = set()
    for a, b in zip(lr, hr_crops, strict=True):
        places = [(k, y, x) for k in range(2) for y in range(4) for x in range(5)
                  if np.array_equal(lrs[k, y : y + 2, x : x + 2], a) and np.array_equal(hr[3 * y : 3 * y + 6,
                                                                                           3 * x : 3 * x + 6], b)]
        assert places, "LR and HR crops not at aligned places"
        used.add(places[0][0])
    assert used == {0, 1}


def test_dihedral_gives_each_patch_one_of_its_eight_variants(rng):
    """Each output patch is one of the 8 flips / 90-degree rotations of its input, and 64 patches meet all 8."""
    patches = np.repeat(rng.random((1, 3, 3, 2)).astype(np.float32), 64, axis=0)
    out = dihedral(tf.constant(patches), tf.constant([5, 6])).numpy()
    rots = [np.rot90(patches[0], k) for k in range(4)]
    variants = rots + [r[:, ::-1] for r in rots]
    seen = {next(k for k, v in enumerate(variants) if np.array_equal(v, p)) for p in out}
    assert seen == set(range(8))


def test_seed_pair_wraps_into_int32():
    """The seed pair of (seed, counter) is both reduced mod 2^31 - 1, as int32."""
    s = seed_pair(7, tf.constant(2**40, tf.int64)).numpy()
    assert s.dtype == np.int32 and list(s) == [7, 2**40 % (2**31 - 1)]
