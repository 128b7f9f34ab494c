"""The registered training clips (kind "video_train"): registry entries checked without data, their arrangement from a
GitHub-like archive, and, where the frames are on disk, that none is a Vid4 frame or a frame of the 720p test clip."""

import io
import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srlib import paths, videoio
from srlib.io import list_images
from srlib.sources import datasets
from srlib.sources.datasets import Source

SHARED = Path("/work/shared/datasets")
TEST_CLIPS = ("calendar", "city", "foliage", "walk", "cockatoo")  # Vid4's four sequences and the 720p test clip
TRAIN = {name: spec for name, spec in datasets.REGISTRY.items() if spec.kind == "video_train"}


def test_training_clips_are_registered_with_sources_and_licences():
    """At least two sets, each from a GitHub repository pinned to a commit, with its licence, citation, frame count,
    sequences and storage note; no sequence is named like a Vid4 sequence or the 720p clip."""
    assert len(TRAIN) >= 2 and {"DAVIS2016_480p", "Cityscapes_vid2vid"} <= set(TRAIN)
    for name, spec in TRAIN.items():
        assert spec.licence and spec.citation and spec.home and spec.note, name
        assert spec.count and spec.clips and len(set(spec.clips)) == len(spec.clips), name
        assert spec.folders == (f"video/train/{name.lower()}",), name
        for s in spec.sources:
            assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+/archive/[0-9a-f]{40}\.tar\.gz", s.url), s.url
            assert s.archive == "tar" and s.renumber and s.member, name
        for clip in spec.clips:
            assert not any(t in part.lower() for part in clip.split("/") for t in TEST_CLIPS), (name, clip)
    assert "non-commercial" in TRAIN["Cityscapes_vid2vid"].licence and "JPEG quality 75" in TRAIN["DAVIS2016_480p"].note
    assert sum(s.count for s in TRAIN.values()) == 1376 + 70 + 89 + 180 + 112


def test_a_github_archive_is_arranged_into_numbered_sequences(tmp_path, monkeypatch):
    """A repository snapshot ``<repo>-<commit>/...`` gives one folder per sequence (two levels for Vimeo's
    group/septuplet), frames renumbered 0001... in name order; :func:`sequences` lists them."""
    monkeypatch.setenv("SRLIB_DATA_DIR", str(tmp_path / "data"))
    snap = tmp_path / "x" / "repo-0123abc" / "vimeo_septuplet" / "sequences"
    for seq in ("00001/0001", "00001/0002", "00002/0001"):
        for k in (3, 1, 2):
            (snap / seq).mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (8, 4), (10 * k, 0, 0)).save(snap / seq / f"im{k}.png")
    (snap.parent / "readme.txt").write_text("not a frame")
    spec = datasets.REGISTRY["Vimeo90K_sample"]
    source = Source(
        "local",
        spec.folders[0],
        archive="tar",
        member=spec.sources[0].member,
        pattern=spec.sources[0].pattern,
        renumber=True,
    )
    dest = datasets.data_dir() / spec.folders[0]
    dest.mkdir(parents=True)
    datasets._arrange(tmp_path / "x", source, dest)
    monkeypatch.setitem(
        datasets.REGISTRY,
        "Vimeo90K_sample",
        datasets.DatasetSpec(
            spec.name, spec.kind, (source,), spec.citation, clips=("00001/0001", "00001/0002", "00002/0001")
        ),
    )
    seqs = datasets.sequences("Vimeo90K_sample")
    assert [f.name for f in seqs["00002/0001"]] == ["0001.png", "0002.png", "0003.png"]
    assert [np.asarray(Image.open(f))[0, 0, 0] for f in seqs["00001/0001"]] == [10, 20, 30]  # im1, im2, im3


def _thumb(image):
    """A 16 x 16 grey thumbnail of a PIL image as float levels (16, 16); a JPEG is decoded at 1/2 to 1/8 size first."""
    image.draft("L", (256, 256))
    return np.asarray(image.convert("L").resize((16, 16), Image.Resampling.BOX), np.float32)


def test_no_training_frame_is_a_test_frame(monkeypatch):
    """Every training frame on disk is far from every Vid4 frame and every frame of the 720p clip: the mean difference
    of 16 x 16 grey thumbnails is over 4 levels (the closest, DAVIS2016_480p against the Vid4 and cockatoo frames
    of the shared copy, is 22.7 apart), while a Vid4 frame resized to 90 % and saved as JPEG quality 75 is
    under 1 level from its original."""
    root = Path(os.environ.get("SRLIB_DATA_DIR") or SHARED)
    monkeypatch.setenv("SRLIB_DATA_DIR", str(root))
    present = [n for n in TRAIN if datasets.is_present(n)]
    vid4 = sorted((root / "video" / "vid4").glob("*/*.png"))
    clip = paths.clip("cockatoo-720p")
    if not present:
        pytest.skip(f"no training clip set ({', '.join(TRAIN)}) under {root}")
    if not vid4 or not clip.is_file():
        pytest.skip(f"no Vid4 frames or no {clip.name} under {root / 'video'}")
    test = np.stack(
        [_thumb(Image.open(f)) for f in vid4] + [_thumb(Image.fromarray(x)) for x in videoio.read_frames(clip)]
    )

    def nearest(image):
        return float(np.abs(test - _thumb(image)).mean(axis=(1, 2)).min())

    for name in present:
        files = list_images(datasets.path(name))
        assert len(files) == TRAIN[name].count, name
        closest = min(nearest(Image.open(f)) for f in files)
        assert closest > 4.0, (name, closest)
    copy = Image.open(vid4[-1])
    buf = io.BytesIO()
    copy.resize((copy.width * 9 // 10, copy.height * 9 // 10), Image.Resampling.BICUBIC).save(buf, "JPEG", quality=75)
    assert nearest(Image.open(buf)) < 1.0
