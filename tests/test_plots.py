"""srlib.research.plots: figures show the pixels and numbers they are given, keep their rules (integer zoom, scores on
every SR panel, colour bars, units, validation set named, legends and labels off the data), and are saved as PNG
files."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from srlib.research import chart_plots, curve_plots, image_plots


def _grid(shape, seed=0):
    """Random pixels on the uint8 grid, so a drawn pixel's RGB is exactly the array's."""
    return np.random.default_rng(seed).integers(0, 256, shape).astype(np.float32) / 255


def _drawn(fig, ax):
    """The RGB pixels ``ax`` occupies on the rendered canvas."""
    fig.canvas.draw()
    buf = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    e = ax.get_window_extent()
    top = buf.shape[0] - int(round(e.y1))
    return buf[top : top + int(round(e.height)), int(round(e.x0)) : int(round(e.x0)) + int(round(e.width))]


def test_comparison_draws_pixel_for_pixel_an_lr_at_integer_nearest_zoom_and_the_crops(tmp_path):
    """A 12x12 LR beside a 24x24 image: the image is drawn at its native size, the LR enlarged x2 by nearest
    neighbour (said in its title); the box is cropped from both and enlarged x3 (x6 for the LR); the PNG is written."""
    lr, big = _grid((12, 12, 3), 1), _grid((24, 24, 3), 2)
    fig = image_plots.comparison([lr, big], ["LR", "SR"])
    lr_ax, big_ax = fig.axes
    assert lr_ax.get_title() == "LR\nshown nearest ×2" and big_ax.get_title() == "SR"
    np.testing.assert_array_equal(_drawn(fig, big_ax), np.round(big * 255))
    np.testing.assert_array_equal(_drawn(fig, lr_ax), np.round(image_plots._zoom(lr, 2) * 255))
    fig = image_plots.comparison([big], ["SR"], zoom=2)  # no box: the whole image enlarged
    np.testing.assert_array_equal(_drawn(fig, fig.axes[0]), np.round(image_plots._zoom(big, 2) * 255))
    fig = image_plots.comparison([lr, big], ["LR", "SR"], box=(4, 6, 8, 8), zoom=3, path=tmp_path / "c.png")
    _, _, lr_crop, big_crop = fig.axes  # row by row: the whole images (the box drawn on them), then the crops
    np.testing.assert_array_equal(_drawn(fig, big_crop), np.round(image_plots._zoom(big[4:12, 6:14], 3) * 255))
    np.testing.assert_array_equal(_drawn(fig, lr_crop), np.round(image_plots._zoom(lr[2:6, 3:7], 6) * 255))
    assert "enlarged ×3 by nearest neighbour" in fig.texts[0].get_text()
    assert Image.open(tmp_path / "c.png").format == "PNG"


@pytest.mark.parametrize("zoom", [2.5, 0, 0.5, True])
def test_comparison_refuses_a_zoom_that_is_not_a_positive_integer(zoom):
    with pytest.raises(ValueError, match="positive integer"):
        image_plots.comparison([_grid((16, 16, 3))], ["SR"], box=(0, 0, 8, 8), zoom=zoom)
    with pytest.raises(ValueError, match="positive integer"):
        image_plots.comparison([_grid((16, 16, 3))], ["SR"], zoom=zoom)  # the whole image


def test_comparison_scores_every_sr_panel_against_hr_and_maps_its_error():
    """SR = HR + 10 grey levels everywhere (grey images, no clipping): PSNR 20 log10(255 / 10) = 28.13 dB in the SR
    title, none in the HR's or the LR's; the error row is 10 grey levels everywhere, with one colour bar."""
    hr = np.round(_grid((20, 20, 1)) * 100 + 60)[..., :] / 255
    sr, lr = hr + 10 / 255, hr[::2, ::2]
    fig = image_plots.comparison([lr, sr, hr], ["LR", "SR", "HR"], hr=hr.astype(np.float64), scale=2, error=True,
                                 heat_max=16)
    titles = [a.get_title() for a in fig.axes]
    assert titles[0] == "LR\nshown nearest ×2" and titles[1].startswith("SR\n28.13 dB / ")
    assert "dB" not in titles[0] + titles[2]  # LR and HR are not scored
    assert all("dB" in t for t, a in zip(titles, fig.axes, strict=True) if a.get_title().startswith("SR"))
    error, bar = fig.axes[3], fig.axes[4]
    assert error.get_title() == "|SR − HR| (Y)" and np.allclose(error.images[0].get_array(), 10)
    assert bar.get_ylabel() == "grey levels (of 255)" and bar.get_ylim() == (0, 16)
    with pytest.raises(ValueError, match="scale"):
        image_plots.comparison([sr, hr], ["SR", "HR"], hr=hr)
    with pytest.raises(ValueError, match="heat_max"):
        image_plots.comparison([sr, hr], ["SR", "HR"], hr=hr, scale=2, error=True)


def test_comparison_wraps_items_into_rows_and_shows_crops_after_an_overview():
    """Five images, crops only, three per row: the overview (whole HR with its box) then five crops, two rows."""
    images = [_grid((32, 32, 3), s) for s in range(5)]
    fig = image_plots.comparison(images, list("abcde"), box=(0, 0, 8, 8), zoom=4, full=False, cols=3)
    titles = [a.get_title().replace("\n", " ") for a in fig.axes]  # titles wrap to the panels' width
    assert titles == ["whole image (box: the crops)", *"abcde"]
    tops = sorted({round(a.get_position().y1, 3) for a in fig.axes})
    assert len(tops) == 2 and all(a.images[0].get_array().shape[:2] == (32, 32) for a in fig.axes)


def test_comparison_shows_a_map_like_an_image_whole_and_cropped_on_the_fixed_scale():
    values = (np.arange(32 * 32).reshape(32, 32) % 7).astype(np.float32)
    fig = image_plots.comparison([_grid((32, 32, 3))], ["SR"], box=(8, 4, 8, 8), zoom=2, maps={"spread": values},
                                 heat_max=4)
    _, whole, _, crop, bar = fig.axes  # row by row, then the colour bar
    assert whole.get_title() == "spread" and len(whole.patches) == 1  # the box drawn on the whole map
    np.testing.assert_array_equal(crop.images[0].get_array(), image_plots._zoom(values[8:16, 4:12, None], 2)[..., 0])
    assert crop.images[0].get_clim() == (0, 4) and bar.get_ylim() == (0, 4)


def test_heatmap_always_has_a_colour_bar_on_the_given_scale():
    fig, ax = plt.subplots()
    bar = chart_plots.heatmap(ax, np.full((4, 4), 2.0), vmax=8, label="std (grey levels)")
    assert len(fig.axes) == 2 and bar.ax.get_ylabel() == "std (grey levels)" and bar.ax.get_ylim() == (0, 8)


def test_curves_label_units_name_the_validation_set_and_keep_the_legend_off_the_data(tmp_path):
    logs = {"a": {"loss": [4.0, 2.0, 1.0], "val_psnr": [20.0, 25.0, 26.0]}, "b": {"loss": [3.0, 1.5]}}
    panels = {"loss": ("training loss", "loss (MSE)"), "val_psnr": ("validation PSNR", "PSNR-Y (dB)")}
    fig = curve_plots.curves(logs, panels, val="Set5 (a test set)", path=tmp_path / "k.png")
    loss, psnr = fig.axes
    assert loss.get_yscale() == "log" and psnr.get_yscale() == "linear"
    assert [loss.get_ylabel(), psnr.get_ylabel()] == ["loss (MSE)", "PSNR-Y (dB)"]
    assert psnr.get_title() == "validation PSNR\non Set5 (a test set)"
    assert [list(line.get_xdata()) for line in loss.lines] == [[1, 2, 3], [1, 2]]
    assert [list(line.get_ydata()) for line in psnr.lines] == [[20.0, 25.0, 26.0]]  # run b has no val_psnr
    (legend,) = fig.legends
    assert not loss.get_legend() and not psnr.get_legend()
    fig.canvas.draw()
    box = legend.get_window_extent()
    assert not any(box.overlaps(ax.get_window_extent()) for ax in fig.axes)
    assert (tmp_path / "k.png").stat().st_size > 1000


def test_curves_name_each_runs_validation_set_in_the_legend_and_refuse_a_panel_without_units():
    logs = {"a": {"val_psnr": [20.0]}, "b": {"val_psnr": [21.0]}}
    fig = curve_plots.curves(logs, {"val_psnr": ("validation PSNR", "PSNR-Y (dB)")}, val={"a": "Set5", "b": "holdout"},
                       styles={"b": {"color": "k", "label": "run b"}})
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["a (validation: Set5)", "run b (validation: holdout)"]
    assert fig.axes[0].get_title() == "validation PSNR\non the validation set of each run (legend)"
    with pytest.raises(ValueError, match="val"):
        curve_plots.curves(logs, {"val_psnr": ("validation PSNR", "PSNR-Y (dB)")})
    with pytest.raises(ValueError, match="y label"):
        curve_plots.curves(logs, {"val_psnr": ("validation PSNR", "")}, val="Set5")


def test_validation_set_names_what_the_val_columns_measured():
    assert curve_plots.validation_set({"val": "Set5", "data": ["T91", "BSD200"]}) == "Set5 (a test set)"
    held_out = curve_plots.validation_set({"val": "holdout", "data": ["T91", "BSD200"]})
    assert held_out == "10 images held out of T91 + BSD200"
    assert curve_plots.validation_set({"val": "holdout", "data": ["MNIST-test-a"]}) == (
        "the last 500 digits of MNIST-test-a, held out")


def test_label_points_places_crowded_labels_without_overlaps():
    """Three points almost on top of each other and two apart (the 07 quality-vs-speed cluster): no label box
    overlaps another label, a point, or leaves the axes."""
    fig, ax = plt.subplots(figsize=(6, 4))
    xs, ys = [226, 230, 250, 20, 2000], [2.84, 2.80, 2.84, 1.5, 3.4]
    ax.scatter(xs, ys)
    ax.set_xscale("log")
    texts = chart_plots.label_points(ax, xs, ys, ["vae-res-x2", "vae-x2", "ae-skip-x3", "espcn-x3-fast", "cppn-any"])
    fig.canvas.draw()
    boxes = [t.get_window_extent() for t in texts]
    pts = ax.transData.transform(np.column_stack([xs, ys]))
    frame = ax.get_window_extent()
    for i, b in enumerate(boxes):
        assert frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1
        assert not any(b.overlaps(o) for o in boxes[i + 1 :])
        assert not any(b.x0 < x < b.x1 and b.y0 < y < b.y1 for x, y in pts)


def test_bars_label_each_value_and_draw_the_baseline():
    fig = chart_plots.bars(["slow", "fast"], [12.5, 1500.0], "fps", baseline=30.0)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.texts] == ["12.5", "1\u2009500"]  # a point for decimals, thin-space thousands
    assert [p.get_width() for p in ax.patches] == [12.5, 1500.0]
    assert list(ax.lines[0].get_xdata()) == [30.0, 30.0]
