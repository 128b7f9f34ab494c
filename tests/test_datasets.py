"""Offline tests of the data set registry: downloads come from a local HTTP server on 127.0.0.1."""

import functools
import gzip
import hashlib
import http.server
import io
import os
import re
import socket
import tarfile
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srlib.sources import datasets
from srlib.sources.datasets import DatasetError, DatasetSpec, Source

SHARED = Path("/work/shared/datasets")


def _png(seed, size=(12, 10)):
    pixels = np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue(), pixels


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server:
    """A static file server on 127.0.0.1 in a daemon thread; ``stop()`` may be called more than once."""

    def __init__(self, root):
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root))
        )
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self):
        if self.thread.is_alive():
            self.httpd.shutdown()
            self.thread.join(timeout=5)
        self.httpd.server_close()


@pytest.fixture
def www(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    return root


@pytest.fixture
def server(www):
    s = _Server(www)
    yield s
    s.stop()


@pytest.fixture
def data(tmp_path, monkeypatch):
    """An empty data directory in SRLIB_DATA_DIR, and a registry holding only the sets a test adds."""
    root = tmp_path / "data"
    monkeypatch.setenv("SRLIB_DATA_DIR", str(root))
    monkeypatch.setattr(datasets, "REGISTRY", {})
    return root


def _register(spec):
    datasets.REGISTRY[spec.name] = spec
    return spec


def _closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/x.zip"


@pytest.fixture
def hr_zip(www):
    """``tiny.zip``: pack/inner/HR/{a,b,c}_HR.png, an LR twin of each, a README; returns (sha256, HR pixels)."""
    hr = {}
    with zipfile.ZipFile(www / "tiny.zip", "w") as z:
        for i, stem in enumerate("abc"):
            png, pixels = _png(i)
            z.writestr(f"pack/inner/HR/{stem}_HR.png", png)
            z.writestr(f"pack/inner/LR/{stem}_LR.png", _png(10 + i, (6, 5))[0])
            hr[f"{stem}_HR.png"] = pixels
        z.writestr("pack/README.txt", "not an image")
    return hashlib.sha256((www / "tiny.zip").read_bytes()).hexdigest(), hr


def test_get_downloads_verifies_and_arranges(data, server, hr_zip):
    sha, hr = hr_zip
    _register(
        DatasetSpec(
            "Tiny",
            "benchmark",
            (Source(f"{server.url}/tiny.zip", "benchmark/Tiny", sha256=sha, member="HR", pattern="*_HR.png"),),
            "cite",
            count=3,
        )
    )
    assert not datasets.is_present("Tiny")
    folder = datasets.get("Tiny")
    assert folder == data / "benchmark" / "Tiny" == datasets.path("Tiny")
    assert sorted(p.name for p in folder.iterdir()) == sorted(hr)
    for name, pixels in hr.items():
        np.testing.assert_array_equal(np.asarray(Image.open(folder / name)), pixels)
    assert (data / "_downloads" / "Tiny" / "tiny.zip").is_file()
    assert [p.name for p in (data / "benchmark").iterdir()] == ["Tiny"]  # no temporary folder left
    assert datasets.is_present("Tiny")

    (folder / "stray.png").write_bytes((folder / "a_HR.png").read_bytes())
    assert datasets.get("Tiny", force=True) == folder
    assert sorted(p.name for p in folder.iterdir()) == sorted(hr)

    server.stop()
    assert datasets.get("Tiny") == folder
    assert datasets.require("Tiny") == folder
    assert datasets.hr_folders(["Tiny"]) == [folder]


def test_wrong_checksum_is_an_error(data, server, hr_zip):
    _register(
        DatasetSpec("Tiny", "benchmark", (Source(f"{server.url}/tiny.zip", "benchmark/Tiny", sha256="0" * 64),), "cite")
    )
    with pytest.raises(DatasetError, match="Tiny could not be downloaded"):
        datasets.get("Tiny")
    assert not (data / "benchmark" / "Tiny").exists()
    assert list((data / "benchmark").iterdir()) == []


def test_a_page_instead_of_an_archive_is_an_error(data, server, www):
    (www / "page.zip").write_text("<html>quota exceeded</html>")
    _register(DatasetSpec("Page", "train", (Source(f"{server.url}/page.zip", "train/Page"),), "cite"))
    with pytest.warns(UserWarning, match="Could not extract"), pytest.raises(DatasetError, match="no files matching"):
        datasets.get("Page")
    assert list((data / "train").iterdir()) == []


def test_unreachable_url_gives_one_line_naming_the_folder(data):
    _register(DatasetSpec("Gone", "train", (Source(_closed_port_url(), "train/Gone"),), "cite"))
    with pytest.raises(DatasetError) as info:
        datasets.get("Gone")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("Gone could not be downloaded")
    assert message.endswith(f"put its files by hand in {data / 'train' / 'Gone'}")
    assert not datasets.is_present("Gone")


def test_no_public_download_names_the_folder(data):
    _register(DatasetSpec("Private", "benchmark", (Source(None, "benchmark/Private"),), "cite", home="example.org"))
    with pytest.raises(DatasetError, match="example.org.*" + re.escape(str(data / "benchmark" / "Private")) + "$"):
        datasets.require("Private")


def test_tar_video_frames_are_renumbered_and_files_kept_as_is(data, server, www):
    with tarfile.open(www / "clips.tar.gz", "w:gz") as t:
        for seq, frames in (("walk", 3), ("city", 2)):
            for i in range(frames):
                png = _png(i)[0]
                for kind in ("GT", "BDx4"):
                    info = tarfile.TarInfo(f"Clips/{kind}/{seq}/{i:08d}.png")
                    info.size = len(png)
                    t.addfile(info, io.BytesIO(png))
    for stem in ("one", "two"):
        (www / f"{stem}.gz").write_bytes(gzip.compress(stem.encode()))
    _register(
        DatasetSpec(
            "Clips",
            "video",
            (
                Source(
                    f"{server.url}/clips.tar.gz",
                    "video/clips4",
                    archive="tar",
                    member="GT",
                    pattern="*/*.png",
                    renumber=True,
                ),
            ),
            "cite",
            count=5,
        )
    )
    _register(
        DatasetSpec(
            "Files",
            "mnist",
            tuple(Source(f"{server.url}/{s}.gz", "files", archive="file") for s in ("one", "two")),
            "cite",
            count=99,
        )
    )
    clips = datasets.get("Clips")
    assert sorted(p.relative_to(clips).as_posix() for p in clips.rglob("*.png")) == [
        "city/0001.png",
        "city/0002.png",
        "walk/0001.png",
        "walk/0002.png",
        "walk/0003.png",
    ]
    with pytest.warns(UserWarning, match="expected 99"):
        files = datasets.get("Files")
    assert gzip.decompress((files / "two.gz").read_bytes()) == b"two"
    assert datasets.status() == [("Clips", True, 5, clips), ("Files", True, 2, files)]


def test_status_lists_present_and_absent_sets(data):
    _register(DatasetSpec("Here", "train", (Source(None, "train/Here"),), "cite"))
    _register(DatasetSpec("Split", "train", (Source(None, "train/Split_a"), Source(None, "train/Split_b")), "cite"))
    _register(DatasetSpec("Absent", "benchmark", (Source(None, "benchmark/Absent"),), "cite"))
    for folder, n in (("train/Here", 2), ("train/Split_a", 1)):
        (data / folder).mkdir(parents=True)
        for i in range(n):
            (data / folder / f"{i}.png").write_bytes(_png(i)[0])
    (data / "benchmark" / "Absent").mkdir(parents=True)
    (data / "benchmark" / "Absent" / "notes.txt").write_text("no images")
    assert datasets.status() == [
        ("Here", True, 2, data / "train" / "Here"),
        ("Split", False, 1, data / "train" / "Split_a"),
        ("Absent", False, 0, data / "benchmark" / "Absent"),
    ]
    assert datasets.require("Here") == data / "train" / "Here"


def test_data_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SRLIB_DATA_DIR", str(tmp_path / "elsewhere"))
    assert datasets.data_dir() == tmp_path / "elsewhere"
    assert datasets.path("Set5") == tmp_path / "elsewhere" / "benchmark" / "Set5"
    monkeypatch.delenv("SRLIB_DATA_DIR")
    monkeypatch.chdir(tmp_path)
    assert datasets.data_dir() == tmp_path / "data"
    with pytest.raises(ValueError, match="unknown data set 'Nope'"):
        datasets.path("Nope")


def test_registry_covers_the_layout():
    folders = {name: spec.folders for name, spec in datasets.REGISTRY.items()}
    assert folders["DIV2K"] == ("train/DIV2K_train_HR", "train/DIV2K_valid_HR")
    assert folders["Vid4"] == ("video/vid4",) and folders["MNIST"] == ("mnist",)
    assert {n for n, s in datasets.REGISTRY.items() if s.kind == "benchmark"} == {
        "Set5",
        "Set14",
        "BSD100",
        "Urban100",
        "Manga109",
    }
    for spec in datasets.REGISTRY.values():
        assert spec.citation and spec.kind in ("train", "benchmark", "video", "video_train", "mnist")
        for s in spec.sources:
            assert s.sha256 is None or len(s.sha256) == 64
            assert s.archive in ("zip", "tar", "file")


@pytest.mark.parametrize("kind, count", [("photos", len(datasets.PHOTOS)), ("faces", 100)])
def test_sample_images_are_float_rgb(kind, count):
    images = datasets.sample_images(kind)
    assert len(images) == count
    for x in images:
        assert x.dtype == np.float32 and x.ndim == 3 and x.shape[-1] == 3
        assert 0.0 <= x.min() and x.max() <= 1.0
    assert max(float(x.max()) for x in images) > 0.5
    with pytest.raises(ValueError):
        datasets.sample_images("benchmark")


def test_shared_copy_is_found(monkeypatch):
    root = Path(os.environ.get("SRLIB_DATA_DIR") or SHARED)
    if not ((root / "benchmark" / "Set5").is_dir() and (root / "train" / "T91").is_dir()):
        pytest.skip(f"no shared data set copy at {root}")
    monkeypatch.setenv("SRLIB_DATA_DIR", str(root))
    counts = {name: (present, count) for name, present, count, _ in datasets.status()}
    assert datasets.is_present("Set5") and datasets.is_present("T91")
    assert counts["Set5"] == (True, 5) and counts["T91"] == (True, 91)
    assert datasets.get("Set5") == root / "benchmark" / "Set5"  # present: used as is, no network


def test_notebook_data_falls_back_to_photos_and_smoke_crops(tmp_path, monkeypatch):
    """No training sets: scikit-image's photos are both train and test, flagged as not benchmark data; the smoke
    profile trains and tests on two 72 x 72 crops of the first test folder."""
    from srlib.io import list_images, load_image

    monkeypatch.setenv("SRLIB_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("SRLIB_RUNS", str(tmp_path / "runs"))
    quick = datasets.notebook_data("quick")
    assert not quick.benchmark and list(quick.test) == ["samples"] and quick.train == [quick.test["samples"]]
    assert len(list_images(quick.test["samples"])) == len(datasets.PHOTOS)
    smoke = datasets.notebook_data("smoke")
    crops = list_images(smoke.test["smoke"])
    assert not smoke.benchmark and len(crops) == 2 and load_image(crops[0]).shape == (72, 72, 3)


def test_sample_folder_holds_the_sample_photos():
    import shutil

    from srlib.io import list_images, load_image
    from srlib.sources.datasets import sample_folder, sample_images

    folder = sample_folder("srlib_test_")
    try:
        files = list_images(folder)
        assert len(files) == len(sample_images("photos")) == 7
        assert load_image(files[0]).shape == sample_images("photos")[0].shape
    finally:
        shutil.rmtree(folder)


def test_a_registered_clip_is_a_training_source_of_its_frames(tmp_path, monkeypatch):
    """``require`` of a clip name gives the folder of its frames, decoded once (lossless clip: the very pixels); a
    missing clip is a one-line error naming the file."""
    from srlib import paths, videoio
    from srlib.io import load_image

    monkeypatch.setenv("SRLIB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SRLIB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setitem(paths.CLIPS, "tiny", "video/clips/tiny.mp4")
    with pytest.raises(DatasetError, match=r"tiny: no clip at .*tiny\.mp4"):
        datasets.require("tiny")
    frames = [np.full((16, 24, 3), 40 * k, np.uint8) for k in range(3)]
    with videoio.VideoWriter(paths.clip("tiny"), fps=10, crf=0) as w:
        for f in frames:
            w.write(f)
    folder = datasets.require("tiny")
    assert folder == tmp_path / "runs" / "frames" / "tiny"
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == ["00001.png", "00002.png", "00003.png"]
    for f, want in zip(files, frames, strict=True):
        assert np.abs(load_image(f, dtype=np.uint8).astype(int) - want).max() <= 2  # lossless H.264, via yuv420p
    assert datasets.require("tiny") == folder and len(list(folder.iterdir())) == 3  # decoded once


def _thumb(image):
    """A 16 x 16 grey thumbnail (area average) as float levels: a resized or re-encoded copy lands within a level."""
    return np.asarray(image.convert("L").resize((16, 16), Image.Resampling.BOX), np.float32)


def test_new_training_sets_hold_no_test_image(monkeypatch):
    """BSDS500_test and Kodak share no image with Set5, Set14 or BSD100: no equal file (SHA-256) and no near-equal
    16 x 16 grey thumbnail (mean difference under 4 levels; the closest pair is 14.5 apart). A BSD100 image resized to
    90 % and saved as JPEG quality 75 is caught (under a level from its original)."""
    from srlib.io import list_images

    root = Path(os.environ.get("SRLIB_DATA_DIR") or SHARED)
    monkeypatch.setenv("SRLIB_DATA_DIR", str(root))
    train, test = ("BSDS500_test", "Kodak"), ("Set5", "Set14", "BSD100")
    absent = [n for n in train + test if not datasets.is_present(n)]
    if absent:
        pytest.skip(f"{', '.join(absent)} not in {root}")

    def files(names):
        return [f for n in names for f in list_images(datasets.path(n))]

    train_files, test_files = files(train), files(test)
    assert len(train_files) == 224 and len(test_files) == 119
    digest = {hashlib.sha256(f.read_bytes()).hexdigest(): f for f in test_files}
    assert not [f for f in train_files if hashlib.sha256(f.read_bytes()).hexdigest() in digest]
    thumbs = np.stack([_thumb(Image.open(f)) for f in test_files])

    def nearest(image):
        return float(np.abs(thumbs - _thumb(image)).mean(axis=(1, 2)).min())

    assert min(nearest(Image.open(f)) for f in train_files) > 4.0
    copy = Image.open(test_files[-1])
    buf = io.BytesIO()
    copy.resize((copy.width * 9 // 10, copy.height * 9 // 10), Image.Resampling.BICUBIC).save(buf, "JPEG", quality=75)
    assert nearest(Image.open(buf)) < 1.0
