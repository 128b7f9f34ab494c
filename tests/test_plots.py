"""srlib.plots: figures show the images and numbers they are given, and are saved as PNG files."""

import numpy as np
from PIL import Image

from srlib import plots


def test_comparison_shows_smaller_images_nearest_upscaled_with_an_inset(tmp_path):
    """An 8x8 checkerboard LR beside its 16x16 nearest upscale: both panels hold the same pixels; the inset row shows
    the box; the PNG is written."""
    lr = (np.indices((8, 8)).sum(0) % 2).astype(np.float32)[..., None]
    hr = np.repeat(np.repeat(lr, 2, 0), 2, 1)
    fig = plots.comparison([lr, hr], ["LR", "HR"], box=(0, 0, 4, 4), path=tmp_path / "c.png")
    axes = fig.axes
    assert len(axes) == 4 and [a.get_title() for a in axes[:2]] == ["LR", "HR"]
    shown = [np.asarray(a.images[0].get_array()) for a in axes]
    np.testing.assert_array_equal(shown[0], hr[..., 0])  # LR panel: nearest upscale to the largest
    np.testing.assert_array_equal(shown[1], hr[..., 0])
    np.testing.assert_array_equal(shown[2], hr[:4, :4, 0])  # the inset: rows 0..3, cols 0..3
    assert Image.open(tmp_path / "c.png").format == "PNG"


def test_curves_plot_each_run_and_use_a_log_axis_for_losses(tmp_path):
    logs = {"a": {"loss": [4.0, 2.0, 1.0], "val_psnr": [20.0, 25.0, 26.0]}, "b": {"loss": [3.0, 1.5]}}
    fig = plots.curves(logs, keys=("loss", "val_psnr"), path=tmp_path / "k.png")
    loss, psnr = fig.axes
    assert loss.get_yscale() == "log" and psnr.get_yscale() == "linear"
    assert [list(line.get_xdata()) for line in loss.lines] == [[1, 2, 3], [1, 2]]
    assert [list(line.get_ydata()) for line in psnr.lines] == [[20.0, 25.0, 26.0]]  # run b has no val_psnr
    assert (tmp_path / "k.png").stat().st_size > 1000


def test_bars_label_each_value_and_draw_the_baseline():
    fig = plots.bars(["slow", "fast"], [12.5, 1500.0], "fps", baseline=30.0)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.texts] == [" 12.50", " 1,500"]
    assert [p.get_width() for p in ax.patches] == [12.5, 1500.0]
    assert list(ax.lines[0].get_xdata()) == [30.0, 30.0]
