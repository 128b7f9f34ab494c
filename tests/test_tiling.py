"""srlib.inference.tiling: the receptive radius and stride read from the graph bound what the networks really do, tiles
partition the image on the network's block grid, and tiled equals one untiled pass for every photo model."""

import keras
import numpy as np
import pytest
from skimage import data

from srlib.app.upscaling import upscale, upscaler
from srlib.inference import tiling, zoo
from srlib.inference.infer import ModelUpscaler
from srlib.layers import SubPixelUpscale


def _photo_models():
    return [n for n, c in zoo.cards().items() if c.task == "photo"]


def test_hand_counted_reach():
    """A 5x5 convolution, 2x2 pooling, two 3x3 convolutions and sub-pixel x2, each reach counted in its input's
    pixels and scaled to LR pixels: 2 + 1 (pooling window) + (1 + 1) * 2 (the 3x3s at half resolution)
    + 1 * 2 (sub-pixel rounding at half resolution) = 9 LR pixels; stride 2."""
    x = inp = keras.Input((None, None, 1))
    x = keras.layers.Conv2D(4, 5, padding="same")(x)
    x = keras.layers.MaxPooling2D(2, padding="same")(x)
    x = keras.layers.Conv2D(4, 3, padding="same")(x)
    x = keras.layers.Conv2D(16, 3, padding="same")(x)
    x = SubPixelUpscale(2)(x)
    r = tiling.reach(keras.Model(inp, x))
    assert (r.radius, r.stride) == (9, 2)


def test_global_layers_cannot_be_tiled():
    inp = keras.Input((8, 8, 1))
    x = keras.layers.Dense(4)(keras.layers.Flatten()(inp))
    with pytest.raises(ValueError, match="sees the whole image"):
        tiling.reach(keras.Model(inp, x))


@pytest.mark.parametrize("name", [n for n, c in zoo.cards().items() if c.task == "photo" and not c.arbitrary_scale])
def test_graph_radius_bounds_the_measured_one(name):
    """Flipping LR pixels of a random texture changes no output pixel farther away than the graph's radius (the
    radius is a bound, not a guess: a bump on flat grey is not what the test measures)."""
    model = zoo.load(name)
    scale = zoo.card(name).scale
    x = np.random.default_rng(0).random((1, 80, 80, model.input_shape[-1]), dtype=np.float32)
    base = model(x).numpy()
    radius = tiling.reach(model).radius
    for cy, cx in [(40, 40), (41, 39), (42, 43)]:
        y = x.copy()
        y[0, cy, cx] = 1 - y[0, cy, cx]
        rows, cols = np.nonzero(np.abs(model(y).numpy() - base)[0].max(axis=-1) > 1e-7)
        far = max(np.abs((rows + 0.5) / scale - cy - 0.5).max(), np.abs((cols + 0.5) / scale - cx - 0.5).max())
        assert 1 <= far <= radius


def test_plan_partitions_the_image_on_the_block_grid():
    h, w, tile, overlap, align = 101, 77, 23, 10, 4
    tiles = tiling.plan(h, w, tile, overlap, align)
    covered = np.zeros((h, w), int)
    for t in tiles:
        y0, y1, x0, x1 = t.keep
        covered[y0:y1, x0:x1] += 1
        ya, yb, xa, xb = t.src
        assert ya % align == 0 and xa % align == 0 and y0 % 24 == 0 and x0 % 24 == 0  # 23 rounded up to 24
        assert ya <= y0 - min(y0, 12) and yb >= min(y1 + 12, h)  # overlap rounded up to 12
    assert (covered == 1).all() and len(tiles) == 5 * 4


def test_auto_tile_is_the_whole_image_when_it_fits():
    assert tiling.auto_tile(300, 500, 768, 1 << 30) == 500
    side = tiling.auto_tile(8000, 8000, 768, 256 << 20)
    assert 64 <= side < 8000 and side * side * 768 <= 256 << 20


@pytest.fixture(scope="module")
def texture():
    """A textured photo (hair, fabric, edges): 130 x 127 LR pixels, 4 x 4 tiles of 37 and 6 x 6 of 23."""
    return data.astronaut()[100:230, 150:277]


@pytest.mark.parametrize("name", _photo_models())
@pytest.mark.parametrize("tile", [23, 37])
def test_tiled_equals_one_untiled_pass(texture, name, tile):
    """srlib.upscale with small tiles (sides not multiples of the pooling stride) equals the model's one pass over
    the whole image (what evaluate() scores) within 1/255; cppn-any at x2.5."""
    scale = 2.5 if zoo.card(name).arbitrary_scale else None
    up = upscaler(name, scale)
    whole = np.round(np.clip(up(texture / np.float32(255)), 0, 1) * 255).astype(int)
    tiled = upscale(texture, name, scale, tile=tile).astype(int)
    assert tiled.shape == whole.shape
    assert np.abs(tiled - whole).max() <= 1


def test_model_upscaler_runs_batches_like_single_images(texture):
    up = ModelUpscaler(zoo.load("espcn-x2"), 2)
    x = texture[:40, :48] / np.float32(255)
    batch = up(np.stack([x, x[::-1]]))
    np.testing.assert_allclose(batch[0], up(x), atol=1e-6)
    np.testing.assert_allclose(batch[1], up(x[::-1]), atol=1e-6)
