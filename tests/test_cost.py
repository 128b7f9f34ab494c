"""srlib.models.cost: multiply-adds per output pixel against hand counts, for plain and arbitrary-scale models."""

import pytest

from srlib.models.cost import macs_per_output_pixel
from srlib.models.cppn_gan import cppn_gan, photo_generator
from srlib.models.espcn import espcn


def test_plain_model_matches_hand_count():
    """ESPCN x3, 64/32 filters, Y: (5*5*1*64 + 3*3*64*32 + 3*3*32*9) = 22,624 MACs per LR pixel, / 9 per HR pixel."""
    assert macs_per_output_pixel(espcn(3)) == pytest.approx((25 * 64 + 9 * 64 * 32 + 9 * 32 * 9) / 9)
    assert macs_per_output_pixel(espcn(2, filters=(16, 16))) == pytest.approx((25 * 16 + 9 * 16 * 16 + 9 * 16 * 4) / 4)


@pytest.mark.parametrize("scale", [2, 3.5])
def test_arbitrary_scale_model_matches_hand_count(scale):
    """Local CPPN, Y, latent 4, one 4-filter encoder conv, one hidden layer of 4: encoder 5*5*1*4 + two 3x3 heads
    2*9*4*4 = 388 MACs per LR pixel, shared by scale^2 output pixels; decoder per query: (latent 4 + offset 2 +
    cell 2) * 4 + 4 * 1 = 36. The training wrapper costs what its generator costs."""
    gen = photo_generator(1, latent=4, filters=(4,), width=4, depth=1)
    assert macs_per_output_pixel(gen, scale) == pytest.approx(388 / scale**2 + 36)
    wrapped = cppn_gan(4, latent=4, filters=(4,), width=4, depth=1)
    assert macs_per_output_pixel(wrapped, scale) == pytest.approx(388 / scale**2 + 36)
    with pytest.raises(ValueError, match="scale"):
        macs_per_output_pixel(gen)
