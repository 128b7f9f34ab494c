"""Data set registry: where each set lives on disk, how to download it, and an offline fallback.

Layout under the data directory (``$SRLIB_DATA_DIR``, default ``data/`` in the current directory)::

    train/T91  train/BSD200  train/BSDS500_test  train/Kodak  train/DIV2K_train_HR  train/DIV2K_valid_HR
    benchmark/Set5  benchmark/Set14  benchmark/BSD100  benchmark/Urban100  benchmark/Manga109
    video/vid4/<sequence>/0001.png ...
    video/train/<set>/<sequence>/0001.jpg ...   (training clips; Vimeo90K_sample: <set>/<group>/<septuplet>/)
    mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz

A set whose folder already holds files is used as is, with no network access (and no checksum:
files put there by hand are trusted). :func:`get` downloads a missing set with
``keras.utils.get_file`` into ``<data dir>/_downloads/`` (the archive cache, safe to delete),
moves the wanted files into a temporary folder beside the set's folder and renames it into place,
so a set's folder is either absent or complete. Any failure raises :class:`DatasetError`, whose
message is one line naming the folder to fill by hand. Nothing is downloaded at import.

:func:`sample_images` returns scikit-image's bundled pictures: a smoke-test fallback for a machine
with neither data nor network. They are NOT benchmark data; never report numbers on them as such.
"""

import gzip
import logging
import os
import shutil
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from srlib import paths, videoio
from srlib.io import ImageError, list_images, load_image, save_image

log = logging.getLogger(__name__)

DOWNLOADS = "_downloads"


class DatasetError(FileNotFoundError):
    """A data set that is not on disk and could not be obtained; ``str(e)`` is one line naming its folder."""


@dataclass(frozen=True)
class Source:
    """One downloadable file and where its contents go.

    url: the download, or None where there is no public one (the set is put in place by hand).
    folder: destination, relative to the data directory.
    sha256, md5: checksum of the downloaded file; None when unknown (md5 only where no sha256 is published).
    archive: ``"zip"``, ``"tar"`` (also .tar.gz / .tgz) or ``"file"`` (kept as downloaded, e.g. MNIST's .gz).
    member: name of the folder inside the archive that holds the wanted files, matched at any depth;
        ``""`` takes the shallowest folder holding files that match ``pattern``.
    pattern: glob, relative to ``member``, of the files to keep, e.g. ``"*_HR.png"``; folders in it are
        kept (``"*/*.png"`` keeps one subfolder per video sequence).
    renumber: rename the kept files of each folder 0001, 0002, ... in name order (video frames).
    """

    url: str | None
    folder: str
    sha256: str | None = None
    md5: str | None = None
    archive: str = "zip"
    member: str = ""
    pattern: str = "*.png"
    renumber: bool = False


@dataclass(frozen=True)
class DatasetSpec:
    """A registered data set: ``kind`` ("train", "benchmark", "video", "video_train" or "mnist"), sources, citation,
    home page.

    ``count`` is the number of files expected once present (images; MNIST: its 4 files), None when unknown.
    ``licence``: the terms the images are released under, as their home page states them ("" where not recorded).
    ``clips``: for a video set, its sequences (folders of numbered frames, relative to the set's folder).
    ``note``: how the frames are stored (codec, JPEG quality, size), where it matters for training.
    """

    name: str
    kind: str
    sources: tuple[Source, ...]
    citation: str
    home: str = ""
    count: int | None = None
    licence: str = ""
    clips: tuple[str, ...] = ()
    note: str = ""

    @property
    def folders(self):
        """Destination folders relative to the data directory, in source order, without repeats."""
        return tuple(dict.fromkeys(s.folder for s in self.sources))


_HF = "https://huggingface.co/datasets/eugenesiow/{0}/resolve/main/data/{0}_HR.tar.gz"
_GDRIVE = "https://drive.google.com/uc?export=download&id={}"
_DIV2K = "http://data.vision.ee.ethz.ch/cvl/DIV2K/{}.zip"
_MNIST = "https://storage.googleapis.com/cvdf-datasets/mnist/{}-ubyte.gz"
_MNIST_SHA256 = {
    "train-images-idx3": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
_BSDS = (
    "D. Martin, C. Fowlkes, D. Tal, J. Malik. A Database of Human Segmented Natural Images and its Application "
    "to Evaluating Segmentation Algorithms and Measuring Ecological Statistics. ICCV 2001."
)
_BSR = "https://www2.eecs.berkeley.edu/Research/Projects/CS/vision/grouping/BSR/BSR_bsds500.tgz"
_KODAK = "https://r0k.us/graphics/kodak/kodak/kodim{:02d}.png"
_GH = "https://github.com/{}/archive/{}.tar.gz"  # a GitHub repository's files at one commit


def _github(repo, commit, folder, member, pattern="*/*.jpg"):
    """A training clip set from a public GitHub repository pinned to ``commit``: the numbered frames of each
    sequence folder under ``member``, renumbered 0001... in name order."""
    return (Source(_GH.format(repo, commit), folder, archive="tar", member=member, pattern=pattern, renumber=True),)


_DAVIS16 = (
    "blackswan bmx-trees breakdance camel car-roundabout car-shadow cows dance-twirl dog drift-chicane "
    "drift-straight goat horsejump-high kite-surf libby motocross-jump paragliding-launch parkour scooter-black soapbox"
).split()
_DAVIS_CITE = (
    "F. Perazzi, J. Pont-Tuset, B. McWilliams, L. Van Gool, M. Gross, A. Sorkine-Hornung. A Benchmark Dataset and "
    "Evaluation Methodology for Video Object Segmentation. CVPR 2016."
)

REGISTRY = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "T91",
            "train",
            (Source(_GDRIVE.format("1VSG1e5nvdV9UCUSYuaKecNFuk3OPUat4"), "train/T91"),),
            "J. Yang, J. Wright, T. Huang, Y. Ma. Image Super-Resolution via Sparse Representation. "
            "IEEE TIP 19(11), 2010.",
            "http://www.ifp.illinois.edu/~jyang29/codes/ScSR.rar",
            91,
        ),
        DatasetSpec(
            "BSD200",
            "train",
            (Source(_GDRIVE.format("1N9cK1OScGrACUgCms0f2rFlUOHhgkW0l"), "train/BSD200"),),
            _BSDS + " (BSDS300 training split)",
            "https://www2.eecs.berkeley.edu/Research/Projects/CS/vision/bsds/",
            200,
        ),
        DatasetSpec(  # the BSDS300 images that BSD200 and BSD100 are not: none of Set5, Set14, BSD100
            "BSDS500_test",
            "train",
            (Source(_BSR, "train/BSDS500_test", archive="tar", member="images/test", pattern="*.jpg"),),
            _BSDS + " P. Arbelaez, M. Maire, C. Fowlkes, J. Malik. Contour Detection and Hierarchical Image "
            "Segmentation. IEEE TPAMI 33(5), 2011 (BSDS500 test split).",
            "https://www2.eecs.berkeley.edu/Research/Projects/CS/vision/grouping/resources.html",
            200,
            "Berkeley Segmentation Dataset: for research use (non-commercial); photos from the Corel collection",
        ),
        DatasetSpec(
            "Kodak",
            "train",
            tuple(Source(_KODAK.format(i), "train/Kodak", archive="file") for i in range(1, 25)),
            "Eastman Kodak Company. Kodak Lossless True Color Image Suite (PhotoCD PCD0992): 24 photos, 768 x 512 "
            "(some portrait).",
            "https://r0k.us/graphics/kodak/",
            24,
            "released by the Eastman Kodak Company for unrestricted usage",
        ),
        DatasetSpec(
            "DIV2K",
            "train",
            (
                Source(_DIV2K.format("DIV2K_train_HR"), "train/DIV2K_train_HR", md5="bdc2d9338d4e574fe81bf7d158758658"),
                Source(_DIV2K.format("DIV2K_valid_HR"), "train/DIV2K_valid_HR", md5="9fcdda83005c5e5997799b69f955ff88"),
            ),
            "E. Agustsson, R. Timofte. NTIRE 2017 Challenge on Single Image Super-Resolution: Dataset and Study. "
            "CVPR Workshops 2017.",
            "https://data.vision.ee.ethz.ch/cvl/DIV2K/",
            900,
        ),
        DatasetSpec(
            "Set5",
            "benchmark",
            (Source(_HF.format("Set5"), "benchmark/Set5", archive="tar"),),
            "M. Bevilacqua, A. Roumy, C. Guillemot, M.-L. Alberi-Morel. Low-Complexity Single-Image "
            "Super-Resolution based on Nonnegative Neighbor Embedding. BMVC 2012.",
            "https://huggingface.co/datasets/eugenesiow/Set5",
            5,
        ),
        DatasetSpec(
            "Set14",
            "benchmark",
            (Source(_HF.format("Set14"), "benchmark/Set14", archive="tar"),),
            "R. Zeyde, M. Elad, M. Protter. On Single Image Scale-Up Using Sparse-Representations. "
            "Curves and Surfaces 2010, LNCS 6920.",
            "https://huggingface.co/datasets/eugenesiow/Set14",
            14,
        ),
        DatasetSpec(
            "BSD100",
            "benchmark",
            (Source(_HF.format("BSD100"), "benchmark/BSD100", archive="tar"),),
            _BSDS + " (BSDS300 test split)",
            "https://huggingface.co/datasets/eugenesiow/BSD100",
            100,
        ),
        DatasetSpec(
            "Urban100",
            "benchmark",
            (
                Source(
                    _HF.format("Urban100"), "benchmark/Urban100", md5="65d9d84a34b72c6f7ca1e26a12df1e4c", archive="tar"
                ),
            ),
            "J.-B. Huang, A. Singh, N. Ahuja. Single Image Super-Resolution from Transformed Self-Exemplars. "
            "CVPR 2015.",
            "https://huggingface.co/datasets/eugenesiow/Urban100",
            100,
        ),
        DatasetSpec(
            "Manga109",
            "benchmark",
            (Source(None, "benchmark/Manga109"),),
            "Y. Matsui, K. Ito, Y. Aramaki, A. Fujimoto, T. Ogawa, T. Yamasaki, K. Aizawa. Sketch-based Manga "
            "Retrieval using Manga109 Dataset. Multimedia Tools and Applications 76(20), 2017.",
            "http://www.manga109.org/",
            109,
        ),
        DatasetSpec(
            "Vid4",
            "video",
            (
                Source(
                    "https://paddlegan.bj.bcebos.com/datasets/Vid4.zip",
                    "video/vid4",
                    member="GT",
                    pattern="*/*.png",
                    renumber=True,
                ),
            ),
            "C. Liu, D. Sun. On Bayesian Adaptive Video Super Resolution. IEEE TPAMI 36(2), 2014.",
            "https://people.csail.mit.edu/celiu/CVPR2011/",
            171,
        ),
        DatasetSpec(  # DAVIS 2016's 20 validation scenes (1376 frames) as mirrored by EOR-VOS
            "DAVIS2016_480p",
            "video_train",
            _github("MathLee/EOR-VOS", "1bde4d5f936304c5ad69e301956e9d65082dfbc8", "video/train/davis2016_480p",
                    "DAVIS/JPEGImages/480p"),
            _DAVIS_CITE,
            "https://davischallenge.org/davis2016/code.html",
            1376,
            "DAVIS: for research, under the BSD licence its authors state (fperazzi/davis-2017); the mirror "
            "repository states no licence",
            tuple(_DAVIS16),
            "854 x 480 JPEG quality 75: downscale 2x before using as HR (JPEG artefacts)",
        ),
        DatasetSpec(
            "DAVIS_tennis",
            "video_train",
            _github("foolwood/SiamMask", "a2b3ce3dca23b3a911d96b791e007eec6d39a625", "video/train/davis_tennis",
                    "data", "tennis/*.jpg"),
            _DAVIS_CITE + " J. Pont-Tuset, F. Perazzi, S. Caelles, P. Arbelaez, A. Sorkine-Hornung, L. Van Gool. The "
            "2017 DAVIS Challenge on Video Object Segmentation. arXiv:1704.00675, 2017 (sequence 'tennis').",
            "https://davischallenge.org/davis2017/code.html",
            70,
            "DAVIS 2017: CC BY 4.0 for the sequences its authors own, else the terms of the video's online source; "
            "for research; the mirror repository (SiamMask) is MIT",
            ("tennis",),
            "854 x 480 JPEG quality 92",
        ),
        DatasetSpec(  # two VSPW scenes in aot-benchmark's demo
            "VSPW_demo_1080p",
            "video_train",
            _github("yoxu515/aot-benchmark", "601c138435a1764eb01404f3495b914e6e2e8eca", "video/train/vspw_demo_1080p",
                    "Demo/images"),
            "J. Miao, Y. Wei, Y. Wu, C. Liang, G. Li, Y. Yang. VSPW: A Large-scale Dataset for Video Scene Parsing in "
            "the Wild. CVPR 2021 (scenes 1001_3iEIq5HBY1s, 1007_YCTBBdbKSSg).",
            "https://www.vspwdataset.com/home",
            89,
            "VSPW: YouTube videos, for non-commercial research use; the mirror repository (aot-benchmark) is "
            "BSD-3-Clause",
            ("1001_3iEIq5HBY1s", "1007_YCTBBdbKSSg"),
            "1920 x 1080 JPEG quality 87",
        ),
        DatasetSpec(  # six 30-frame Cityscapes snippets (aachen) shipped with vid2vid's first commit, gone since
            "Cityscapes_vid2vid",
            "video_train",
            _github("NVIDIA/vid2vid", "4501f4b75d561f1c1db2cf39584404f9eb579fa6", "video/train/cityscapes_vid2vid",
                    "Cityscapes/train_B"),
            "M. Cordts, M. Omran, S. Ramos, T. Rehfeld, M. Enzweiler, R. Benenson, U. Franke, S. Roth, B. Schiele. "
            "The Cityscapes Dataset for Semantic Urban Scene Understanding. CVPR 2016 (leftImg8bit sequences).",
            "https://www.cityscapes-dataset.com/license/",
            180,
            "Cityscapes' own licence: non-commercial use only (research, teaching, publications), no redistribution; "
            "NOT an open licence; the mirror repository (vid2vid) is CC BY-NC-SA 4.0",
            tuple(f"seq{i:04d}" for i in range(6)),
            "2048 x 1024 JPEG quality 92 (re-encoded by vid2vid from Cityscapes' PNGs)",
        ),
        DatasetSpec(  # 16 septuplets of Vimeo-90K, as sampled by Video-Compression-Net
            "Vimeo90K_sample",
            "video_train",
            _github("tukilabs/Video-Compression-Net", "daaf0251864e425359eff29b00d40eaa22ec994b",
                    "video/train/vimeo90k_sample", "vimeo_septuplet/sequences", "*/*/*.png"),
            "T. Xue, B. Chen, J. Wu, D. Wei, W. T. Freeman. Video Enhancement with Task-Oriented Flow. IJCV 127(8), "
            "2019 (Vimeo-90K septuplets).",
            "http://toflow.csail.mit.edu/",
            112,
            "Vimeo-90K: videos from vimeo.com, for research use; the mirror repository states no licence",
            tuple(f"{g:05d}/{s:04d}" for g in (1, 2) for s in range(1, 9)),
            "448 x 256 PNG (lossless files; the Vimeo sources were themselves compressed), 7 frames a sequence",
        ),
        DatasetSpec(
            "MNIST",
            "mnist",
            tuple(Source(_MNIST.format(f), "mnist", sha256=h, archive="file") for f, h in _MNIST_SHA256.items()),
            "Y. LeCun, L. Bottou, Y. Bengio, P. Haffner. Gradient-Based Learning Applied to Document Recognition. "
            "Proc. IEEE 86(11), 1998.",
            "https://github.com/cvdfoundation/mnist",
            4,
        ),
    )
}


def data_dir():
    """The data directory: ``$SRLIB_DATA_DIR`` if set, else ``data/`` in the current directory (absolute)."""
    return paths.data_dir()


def _spec(name):
    if name not in REGISTRY:
        raise ValueError(f"unknown data set {name!r} (known: {', '.join(REGISTRY)})")
    return REGISTRY[name]


def path(name):
    """The set's folder (DIV2K: its 800 training images; see :func:`hr_folders` for both halves)."""
    return data_dir() / _spec(name).folders[0]


def _count(folder, kind):
    """Files in ``folder``: images (recursive) for image sets, regular files for MNIST; 0 if none or absent."""
    if kind == "mnist":
        return sum(1 for p in folder.glob("*") if p.is_file()) if folder.is_dir() else 0
    try:
        return len(list_images(folder))
    except ImageError:
        return 0


def is_present(name):
    """True if every folder of the set exists and holds files."""
    spec = _spec(name)
    return all(_count(data_dir() / f, spec.kind) for f in spec.folders)


def status():
    """``[(name, present, count, path), ...]`` for every registered set, without touching the network."""
    rows = []
    for name, spec in REGISTRY.items():
        counts = [_count(data_dir() / f, spec.kind) for f in spec.folders]
        rows.append((name, all(counts), sum(counts), path(name)))
    return rows


def get(name, force=False):
    """The set's folder, downloading and arranging the set first if it is missing (or always, if ``force``).

    Only the folders that are missing are fetched. Raises DatasetError if a download, checksum or
    extraction fails, or the set has no public download.
    """
    spec = _spec(name)
    root = data_dir()
    where = " and ".join(str(root / f) for f in spec.folders)
    todo = [s for s in spec.sources if force or not _count(root / s.folder, spec.kind)]
    if any(s.url is None for s in todo):
        raise DatasetError(
            f"{name} could not be downloaded (no public download; get it from {spec.home}); "
            f"put its files by hand in {where}"
        )
    staged = {}
    try:
        for source in todo:
            dest = root / source.folder
            if dest not in staged:
                staged[dest] = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.part")
                staged[dest].mkdir(parents=True)
            _fetch(spec, source, staged[dest], force)
    except BaseException as e:
        for tmp in staged.values():
            shutil.rmtree(tmp, ignore_errors=True)
        if not isinstance(e, Exception):
            raise
        reason = " ".join(str(e).split())[:300] or type(e).__name__
        raise DatasetError(f"{name} could not be downloaded ({reason}); put its files by hand in {where}") from e
    for dest, tmp in staged.items():
        _replace_dir(tmp, dest)
    count = sum(_count(root / f, spec.kind) for f in spec.folders)
    if spec.count is not None and count != spec.count:
        warnings.warn(f"{name}: {count} files in {where}, expected {spec.count}", stacklevel=2)
    return path(name)


def require(name):
    """The set's folder if present, else :func:`get` it; for a registered clip (:data:`srlib.paths.CLIPS`), the
    folder of its frames (:func:`clip_frames`)."""
    if name in paths.CLIPS:
        return clip_frames(name)
    return path(name) if is_present(name) else get(name)


def sequences(name):
    """{sequence: frame files in name order} of the video set ``name`` (its ``clips``, folders under :func:`path`),
    obtained first with :func:`require`; e.g. ``sequences("DAVIS_tennis")["tennis"]``: 70 (480, 854, 3) JPEGs."""
    folder = require(name)
    return {clip: list_images(folder / clip, recursive=False) for clip in _spec(name).clips}


def clip_frames(name):
    """The folder of registered clip ``name``'s frames as PNG files (00001.png ...), a training source: decoded once
    into ``runs_dir()/frames/<name>/``, made beside it and renamed into place (complete or absent). Raises
    DatasetError naming the file when the clip is missing."""
    folder = paths.runs_dir() / "frames" / name
    if folder.is_dir():
        return folder
    clip = paths.clip(name)
    if not clip.is_file():
        raise DatasetError(f"{name}: no clip at {clip}; put the file there")
    tmp = folder.with_name(f".{name}.{uuid.uuid4().hex[:8]}.part")
    tmp.mkdir(parents=True)
    try:
        for i, frame in enumerate(videoio.read_frames(clip), 1):
            save_image(tmp / f"{i:05d}.png", frame.astype(np.float32) / 255.0)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _replace_dir(tmp, folder)
    return folder


def hr_folders(names):
    """All folders of the named sets (each obtained with :func:`require`), e.g. to train on T91 + DIV2K."""
    folders = []
    for name in names:
        require(name)
        folders += [data_dir() / f for f in _spec(name).folders]
    return folders


def _fname(source):
    """Cache file name: the URL's, or the folder's name plus the archive suffix when the URL has none."""
    name = Path(urlsplit(source.url).path).name
    return name if "." in name else f"{Path(source.folder).name}.{source.archive}"


def _fetch(spec, source, tmp, force):
    """Download ``source`` (cached under the data dir) and put its wanted files in ``tmp``."""
    import keras

    cache = data_dir() / DOWNLOADS
    cache.mkdir(parents=True, exist_ok=True)  # get_file falls back to /tmp when its cache_dir does not exist
    extract = source.archive != "file"
    got = Path(
        keras.utils.get_file(
            fname=_fname(source),
            origin=source.url,
            file_hash=source.sha256 or source.md5,
            cache_dir=str(cache),
            cache_subdir=spec.name,
            extract=extract,
            archive_format=source.archive if extract else "auto",
            force_download=force,
        )
    )
    if not extract:
        shutil.copy2(got, tmp / got.name)
        return
    try:
        _arrange(got, source, tmp)
    finally:
        shutil.rmtree(got, ignore_errors=True)


def _hidden(rel):
    return any(part.startswith((".", "__MACOSX")) for part in rel.parts)


def _arrange(extracted, source, tmp):
    """Move the files of ``source.member`` matching ``source.pattern`` from ``extracted`` into ``tmp``."""
    dirs = [extracted] + sorted(d for d in extracted.rglob("*") if d.is_dir() and not _hidden(d.relative_to(extracted)))
    if source.member:
        dirs = [d for d in dirs if d != extracted and d.as_posix().endswith("/" + source.member)]
    for base in sorted(dirs, key=lambda d: len(d.parts)):
        files = sorted(f for f in base.glob(source.pattern) if f.is_file() and not _hidden(f.relative_to(base)))
        if files:
            break
    else:
        raise DatasetError(f"{source.url} holds no files matching {source.member or '*'}/{source.pattern}")
    counters = {}
    for f in files:
        rel = f.relative_to(base)
        if source.renumber:
            counters[rel.parent] = counters.get(rel.parent, 0) + 1
            rel = rel.parent / f"{counters[rel.parent]:04d}{f.suffix.lower()}"
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(f, tmp / rel)


def _replace_dir(tmp, dest):
    """Rename the finished folder ``tmp`` onto ``dest``; an existing ``dest`` is moved aside, then deleted."""
    if dest.exists():
        old = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.old")
        os.replace(dest, old)
        os.replace(tmp, dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, dest)


PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "retina")


def _rgb_float(image):
    x = np.asarray(image)
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else np.clip(x.astype(np.float32), 0.0, 1.0)
    if x.ndim == 2:
        x = np.repeat(x[..., None], 3, axis=-1)
    return np.ascontiguousarray(x[..., :3])


def sample_images(kind="photos"):
    """Images bundled with scikit-image, as float32 (H, W, 3) arrays in [0, 1]; no network, no data dir.

    ``"photos"``: 7 colour pictures (:data:`PHOTOS`, 300 to 1411 px). ``"faces"``: the 100 25x25
    grey LFW faces of ``skimage.data.lfw_subset()``, repeated to 3 channels. A fallback for smoke
    tests and demos on a machine with no data set: NOT benchmark data.
    """
    from skimage import data as skdata

    if kind == "photos":
        images = [getattr(skdata, n)() for n in PHOTOS]
    elif kind == "faces":
        images = list(skdata.lfw_subset()[:100])
    else:
        raise ValueError(f"sample_images: unknown kind {kind!r} (use 'photos' or 'faces')")
    return [_rgb_float(x) for x in images]


def sample_folder(prefix="srlib_photos_"):
    """:func:`sample_images`' photos written as PNGs into a new temporary folder (for tools that read folders when
    no training set is present); returns its path. The caller removes it."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix=prefix))
    for i, image in enumerate(sample_images("photos")):
        save_image(folder / f"photo{i}.png", image)
    return folder


def mnist_file(split):
    """The IDX images file of an MNIST split ('train' or 't10k'), or None when it is not in the data directory."""
    f = path("MNIST") / f"{split}-images-idx3-ubyte.gz"
    return f if f.is_file() else None


def mnist(split="t10k"):
    """MNIST digits of ``split`` ('train': 60,000, 't10k': 10,000) as float32 (N, 28, 28, 1) in [0, 1].

    Read from the IDX file in the data directory; a missing file is downloaded with the rest of the set
    (:func:`get`); DatasetError if it cannot be.
    """
    f = mnist_file(split) or (get("MNIST", force=True) and mnist_file(split))
    with gzip.open(f) as fh:
        raw = fh.read()
    magic, n, rows, cols = np.frombuffer(raw[:16], ">i4")
    if magic != 2051 or len(raw) != 16 + n * rows * cols:
        raise DatasetError(f"{f}: not an MNIST IDX images file (magic {magic}, {len(raw)} bytes)")
    return (np.frombuffer(raw[16:], np.uint8).reshape(n, rows, cols, 1) / np.float32(255)).astype(np.float32)


@dataclass
class NotebookData:
    """What a notebook trains and tests on: ``train`` folders, ``test`` {name: folder}, and whether
    they are the benchmark sets (``benchmark``; False: scikit-image photos, NOT benchmark numbers)."""

    train: list
    test: dict
    benchmark: bool


QUICK_TESTS = ("Set5", "Set14")  # the test sets of the quick profile's notebooks


def notebook_data(profile, train=("T91", "BSD200"), test=("Set5", "Set14", "BSD100")):
    """The training and test folders of a notebook under ``profile``.

    Quick profile: the small test sets only (:data:`QUICK_TESTS`; BSD100's 100 images, Urban100 and Manga109 are the
    full profile's), so the chapters' evaluations take minutes. Missing training sets: scikit-image's photos stand in
    for both (a warning says so).
    Smoke profile: two 72x72 crops of the first test set are both (train = test: seconds per
    cell, numbers meaningless). Scratch images go under :func:`srlib.paths.runs_dir`.
    """
    scratch = paths.runs_dir(profile) / "notebook_data"
    present = [name for name in test if is_present(name) and (profile != "quick" or name in QUICK_TESTS)]
    if all(is_present(name) for name in train) and present:
        data = NotebookData([path(n) for n in train], {n: path(n) for n in present}, True)
    else:
        log.warning("%s not found under %s: training and testing on scikit-image photos, NOT benchmark numbers",
                    " / ".join(train), paths.data_dir())
        for i, image in enumerate(sample_images("photos")):
            save_image(scratch / "samples" / f"sample_{i}.png", image)
        data = NotebookData([scratch / "samples"], {"samples": scratch / "samples"}, False)
    if profile == "smoke":
        for f in list_images(next(iter(data.test.values())))[:2]:
            save_image(scratch / "smoke" / f.name, load_image(f)[:72, :72])
        data = NotebookData([scratch / "smoke"], {"smoke": scratch / "smoke"}, False)
    return data
