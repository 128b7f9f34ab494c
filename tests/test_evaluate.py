"""srlib.evaluate and srlib.inference.infer: the benchmark harness reproduces the published bicubic rows."""


import numpy as np
import pytest

from srlib import paths
from srlib.evaluate import evaluate, evaluate_image, format_table, published
from srlib.inference import zoo
from srlib.inference.infer import Bicubic, ModelUpscaler, load_upscaler
from srlib.io import ImageError, save_image
from srlib.models.espcn import espcn
from srlib.resize import imresize

DATA = paths.data_dir()
REFERENCE = published()


@pytest.mark.skipif(not REFERENCE or not (DATA / "benchmark" / "Set5").is_dir(),
                    reason="benchmark data or published_results.csv absent")
@pytest.mark.parametrize("dataset", ["Set5", *(pytest.param(d, marks=pytest.mark.slow) for d in ("Set14", "BSD100"))])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bicubic_reproduces_published_rows(dataset, scale):
    """MATLAB-bicubic LR + bicubic upscale, Y channel, border = scale: within 0.05 dB and 0.003 SSIM
    of the published bicubic row (shared/reference/published_results.csv)."""
    folder = DATA / "benchmark" / dataset
    if not folder.is_dir():
        pytest.skip(f"{folder} absent")
    result = evaluate(Bicubic(scale), folder, scale, progress=False)
    ref_psnr, ref_ssim = REFERENCE[("bicubic", scale, dataset)]
    assert abs(result["mean"]["psnr"] - ref_psnr) <= 0.05
    assert abs(result["mean"]["ssim"] - ref_ssim) <= 0.003


def _folder(tmp_path, gray=False):
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:48, 0:60] / 60.0
    for i in range(3):
        im = np.clip(np.stack([yy, xx, 0.5 + 0 * xx], -1) * (0.5 + 0.2 * i) + rng.normal(0, 0.02, (48, 60, 3)), 0, 1)
        save_image(tmp_path / f"img{i}.png", im[..., :1] if gray else im)
    return tmp_path


def test_harness_takes_any_callable_and_matches_per_image(tmp_path):
    """A plain function is an upscaler; the mean is the mean of per-image values; rows name the files."""
    folder = _folder(tmp_path)
    res = evaluate(lambda lr: np.clip(imresize(lr, scale=2).numpy(), 0, 1), folder, 2, progress=False)
    assert [r["image"] for r in res["rows"]] == ["img0.png", "img1.png", "img2.png"]
    assert res["mean"]["psnr"] == pytest.approx(np.mean([r["psnr"] for r in res["rows"]]))
    ref = evaluate(Bicubic(2), folder, 2, progress=False)
    assert res["mean"]["psnr"] == pytest.approx(ref["mean"]["psnr"], abs=1e-9)
    assert "| **mean** |" in format_table(res, "t")


def test_perfect_upscaler_and_gray_images(tmp_path):
    """Gray files are scored on their single channel; an oracle upscaler scores infinite PSNR / SSIM 1."""
    folder = _folder(tmp_path, gray=True)
    from srlib.io import load_image

    hr = load_image(folder / "img0.png", channels=None)
    assert hr.shape[-1] == 1
    p, s, sr = evaluate_image(lambda lr: np.repeat(hr[:48, :60], 3, -1), hr, 2)
    assert np.isinf(p) and s == pytest.approx(1.0)
    assert sr.shape == (48, 60, 1)


def test_bad_file_is_skipped_and_reported(tmp_path):
    """A non-image among the images: the batch goes on and the file is reported in one line."""
    folder = _folder(tmp_path)
    (folder / "broken.png").write_text("not a png")
    res = evaluate(Bicubic(2), folder, 2, progress=False)
    assert len(res["rows"]) == 3
    assert len(res["skipped"]) == 1 and "broken.png" in res["skipped"][0] and "\n" not in res["skipped"][0]


def test_model_upscaler_luma(tmp_path):
    """A Y model leaves chroma to MATLAB bicubic: on a photo, the SR image's Cb and Cr are the bicubic upscale's
    (up to where clipping RGB to [0, 1] moves them)."""
    from skimage import data

    from srlib import color
    from srlib.inference import zoo

    lr = data.astronaut()[100:140, 150:202] / np.float32(255)
    sr = ModelUpscaler(zoo.load("espcn-x2"), 2)(lr)
    assert sr.shape == (80, 104, 3)
    chroma = lambda rgb: color.rgb_to_ycbcr(rgb).numpy()[4:-4, 4:-4, 1:]  # noqa: E731
    assert np.abs(chroma(sr) - chroma(Bicubic(2)(lr))).mean() < 1 / 255
    model = espcn(2, 1, filters=(8, 8))
    path = tmp_path / "m.keras"
    model.save(path)
    up = load_upscaler(str(path))
    assert up.scale == 2
    with pytest.raises(ValueError, match="x2, not x3"):
        load_upscaler(str(path), 3)
    with pytest.raises(ValueError, match="no such model"):
        load_upscaler("espcn-x17")


@pytest.mark.skipif(not (DATA / "benchmark" / "Set5").is_dir(), reason="benchmark data absent")
@pytest.mark.parametrize("name", [pytest.param(n, marks=[] if n in ("espcn-x3", "cnn-x2-noisy") else pytest.mark.slow)
                                  for n in zoo.names()])  # the fast tier: one bicubic model, one on another LR
def test_shipped_models_reproduce_their_cards(name):
    """Each shipped model scores on Set5 what its model card (results/weights/<name>.json) says, within
    rounding, and beats the published bicubic row there."""
    card = zoo.card(name)
    if card.task != "photo":
        pytest.skip(f"{name} does not upscale photos (tests/test_cppn_gan.py scores it)")
    scale = card.scales[-1]  # an arbitrary-scale model: at the largest scale its card scores (the fastest)
    up = load_upscaler(name, scale if card.arbitrary_scale else None)
    row = card.row("Set5", scale)
    lr = card.degradation  # a model trained on another degradation is scored on it (its fixed-seed benchmark form)
    result = evaluate(up, DATA / "benchmark" / "Set5", up.scale, progress=False, degradation=lr)["mean"]
    assert result["psnr"] == pytest.approx(row["psnr"], abs=0.006)
    assert result["ssim"] == pytest.approx(row["ssim"], abs=0.00006)
    if lr == "bicubic" and REFERENCE:
        assert result["psnr"] > REFERENCE[("bicubic", up.scale, "Set5")][0] + 0.5
    else:  # bicubic interpolation of the same degraded LR
        bicubic = evaluate(Bicubic(up.scale), DATA / "benchmark" / "Set5", up.scale, progress=False, degradation=lr)
        assert result["psnr"] > bicubic["mean"]["psnr"] + 0.5


def test_evaluate_clip_degrades_the_frames_as_one_video(tmp_path):
    """A clip's frames go through the degradation together: with the clip form of H.264 (P and B frames) the LR
    of a frame depends on its neighbours, unlike each frame encoded alone; with bicubic every row is the one
    evaluate() gives that frame."""
    from srlib.degrade import benchmark_lr
    from srlib.evaluate import evaluate_clip
    from srlib.io import load_image

    folder = _folder(tmp_path)
    clean = evaluate_clip(Bicubic(3), folder, 3, degradation="bicubic", progress=False)
    alone = evaluate(Bicubic(3), folder, 3, progress=False)
    assert [r["image"] for r in clean["rows"]] == ["img0.png", "img1.png", "img2.png"]
    np.testing.assert_allclose([r["psnr"] for r in clean["rows"]], [r["psnr"] for r in alone["rows"]], rtol=1e-12)
    frames = np.stack([load_image(folder / f"img{i}.png", channels=3) for i in range(3)])
    seen = []
    evaluate_clip(lambda lr: seen.append(lr) or np.repeat(np.repeat(lr, 3, 0), 3, 1), folder, 3, progress=False)
    np.testing.assert_array_equal(np.stack(seen), benchmark_lr(frames, 3, "bicubic_h264_clip")[1])
    one = [benchmark_lr(f, 3, "bicubic_h264")[1] for f in frames]
    assert any(not np.array_equal(a, b) for a, b in zip(seen, one, strict=True))
    (folder / "img3.png").write_bytes(b"junk")
    with pytest.raises(ImageError, match="img3.png"):
        evaluate_clip(Bicubic(3), folder, 3, progress=False)
