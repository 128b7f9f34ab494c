"""srlib.sources.digits: the MNIST reader, the test halves, the digit LR, and the shipped digit model against its
card."""

import gzip

import numpy as np
import pytest

from srlib.degrade import benchmark_lr
from srlib.inference import zoo
from srlib.models.cppn_gan import render
from srlib.resize import imresize
from srlib.sources import datasets, digits


def _idx(path, images, magic=2051):
    n, h, w = images.shape
    header = np.array([magic, n, h, w], ">i4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + images.astype(np.uint8).tobytes())


def test_mnist_reader(tmp_path, monkeypatch, rng):
    monkeypatch.setenv("SRLIB_DATA_DIR", str(tmp_path))
    (tmp_path / "mnist").mkdir()
    digits = rng.integers(0, 256, (3, 28, 28))
    _idx(tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz", digits)
    x = datasets.mnist("t10k")
    assert x.shape == (3, 28, 28, 1) and x.dtype == np.float32
    np.testing.assert_allclose(x[..., 0] * 255, digits, atol=1e-4)
    _idx(tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz", digits, magic=2049)
    with pytest.raises(datasets.DatasetError, match="not an MNIST IDX images file"):
        datasets.mnist("t10k")


def test_test_digits_never_overlap_training_half(monkeypatch, tmp_path, rng):
    monkeypatch.setenv("SRLIB_DATA_DIR", str(tmp_path))
    (tmp_path / "mnist").mkdir()
    images = np.arange(10000)[:, None, None] % 256 * np.ones((1, 28, 28))
    images[:, 0, 0] = np.arange(10000) // 256  # every digit unique
    _idx(tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz", images)
    key = lambda a: {tuple(d[:1, :2, 0].ravel()) for d in a}  # noqa: E731
    for half in digits.MNIST_HALVES:
        assert not key(digits.digits(half)) & key(digits.test_digits(half))
        assert len(digits.digits(half)) == len(digits.test_digits(half)) == 5000


def test_digit_labels_reader(tmp_path, monkeypatch):
    """Labels of the halves from the IDX labels file; a wrong magic number is a one-line error naming the file."""
    monkeypatch.setenv("SRLIB_DATA_DIR", str(tmp_path))
    (tmp_path / "mnist").mkdir()
    labels = np.arange(10000) % 10
    f = tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz"
    for magic in (2049, 2051):
        with gzip.open(f, "wb") as fh:
            fh.write(np.array([magic, 10000], ">i4").tobytes() + labels.astype(np.uint8).tobytes())
        if magic == 2049:
            np.testing.assert_array_equal(digits.digit_labels("MNIST-test-b"), labels[5000:])
            assert digits.digit_labels("MNIST-test-a").dtype == np.int64
    with pytest.raises(datasets.DatasetError, match="t10k-labels-idx1-ubyte.gz: not an MNIST IDX labels file"):
        digits.digit_labels("MNIST-test-a")


def test_digit_lr_is_the_benchmark_lr(rng):
    """7 x 7 LR of 28 x 28 digits: MATLAB bicubic by 1/4 rounded to uint8 levels (the benchmark LR); 26 x 26 too."""
    hr = rng.random((3, 28, 28, 1)).astype(np.float32)
    lr = digits.digit_lr(hr, 7)
    assert lr.shape == (3, 7, 7, 1) and lr.dtype == np.float32
    ref = np.round(np.clip(imresize(hr, size=(7, 7)).numpy(), 0, 1) * 255) / np.float32(255)
    np.testing.assert_array_equal(lr, ref)
    np.testing.assert_array_equal(lr, benchmark_lr(hr, 4)[1])
    assert digits.digit_lr(hr, 26).shape == (3, 26, 26, 1)


def test_digit_scores_hand_values():
    """Identical digits: PSNR capped by the epsilon, SSIM 1, sharpness 1; a vertical step against a flat image
    half as bright has a quarter of its gradient energy."""
    hr = np.zeros((2, 28, 28, 1), np.float32)
    hr[:, :, 14:] = 1.0
    same = digits.digit_scores(hr, hr)
    assert same["ssim"] == pytest.approx(1.0) and same["sharpness"] == pytest.approx(1.0)
    assert digits.digit_scores(hr / 2, hr)["sharpness"] == pytest.approx(0.25)


@pytest.mark.slow
def test_shipped_digit_model_reproduces_its_card():
    """cppn-gan-mnist scores on the test digits it never trained on what its card says, far above bicubic."""
    if "cppn-gan-mnist" not in zoo.names() or not datasets.mnist_file("t10k"):
        pytest.skip("cppn-gan-mnist or MNIST's test digits absent")
    card = zoo.card("cppn-gan-mnist")
    hr = digits.test_digits(card.recipe["data"][0])
    lr = digits.digit_lr(hr, 7)
    scores = digits.digit_scores(render(zoo.load("cppn-gan-mnist"), lr, (28, 28)), hr)
    (row,) = card.benchmark
    assert row["dataset"] == "MNIST-test-b" != card.recipe["data"][0]
    assert scores["psnr"] == pytest.approx(row["psnr"], abs=0.006)
    assert scores["ssim"] == pytest.approx(row["ssim"], abs=0.00006)
    assert scores["sharpness"] == pytest.approx(card.raw["extra"]["sharpness_sr_over_hr"], abs=0.0006)
    bicubic = digits.digit_scores(np.clip(imresize(lr, size=(28, 28)).numpy(), 0, 1), hr)
    assert scores["psnr"] > bicubic["psnr"] + 2
