"""srlib.sources.implicit_data: the arbitrary-scale training batches and validation pairs (which are the test's LR)."""

import numpy as np

from srlib import color
from srlib.degrade import benchmark_lr
from srlib.io import load_image, save_image
from srlib.sources.implicit_data import implicit_dataset, implicit_pairs


def test_implicit_dataset_shapes_and_grid(tmp_path, rng):
    """LR patches, queries on the pixel-centre grid of the HR crop (side = round(patch * scale)), cell 2 / side."""
    images = (rng.random((3, 64, 64, 3)) * 255).astype(np.uint8)
    x, y = next(iter(implicit_dataset(images, patch_size=8, scales=(2.0, 3.0), batch_size=5, crops_per_image=4,
                                      cache=False)))
    assert x["lr"].shape == (5, 8, 8, 1) and x["coord"].shape == (5, 64, 2) and y.shape == (5, 64, 1)
    side = 2.0 / x["cell"].numpy()[:, 0, 0]
    assert np.all((side >= 16 - 1e-3) & (side <= 24 + 1e-3))
    centres = (x["coord"].numpy() + 1) * side[:, None, None] / 2 - 0.5  # integer pixel indices
    np.testing.assert_allclose(centres, np.round(centres), atol=1e-3)
    assert len({tuple(c) for c in x["coord"].numpy()[0]}) == 64  # no pixel queried twice


def test_implicit_pairs_cover_whole_images(tmp_path, rng):
    save_image(tmp_path / "a.png", rng.random((25, 30, 3)).astype("float32"))
    pairs = list(implicit_pairs(tmp_path, scales=(2, 3)))
    assert len(pairs) == 2
    (x, y), (x3, _) = pairs
    assert x["lr"].shape == (1, 12, 15, 1) and x["coord"].shape == (1, 24 * 30, 2) and y.shape == (1, 720, 1)
    assert x3["lr"].shape == (1, 8, 10, 1)


def test_implicit_validation_lr_is_the_test_lr(tmp_path, rng):
    """The validation LR is the Y channel of the RGB benchmark LR (rounded in RGB, as evaluate gives it to the
    model), not the LR of the Y channel rounded in Y; HR queries are the Y of the mod-cropped image, row-major."""
    save_image(tmp_path / "a.png", rng.random((25, 30, 3)).astype("float32"))
    image = load_image(tmp_path / "a.png")
    for (x, y), scale in zip(implicit_pairs(tmp_path, scales=(2, 3)), (2, 3), strict=True):
        hr, lr = benchmark_lr(image, scale)
        np.testing.assert_array_equal(x["lr"].numpy()[0], color.rgb_to_y(lr).numpy())
        np.testing.assert_array_equal(y.numpy()[0, :, 0], color.rgb_to_y(hr).numpy().ravel())
        y_first = benchmark_lr(color.rgb_to_y(image).numpy(), scale)[1]
        assert np.abs(x["lr"].numpy()[0] - y_first).max() > 0  # the old, rounded-in-Y LR differs
