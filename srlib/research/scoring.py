"""A study's per-image scores: the benchmark convention on every image, extra metrics, and the caches in run folders.

:func:`score_images` scores several upscalers on the same files, each image's LR made once
(:func:`srlib.evaluate.evaluate_many`); :func:`extra_metrics` adds colour and sharpness metrics; :func:`cached_scores`
keeps each run's per-image scores in its folder (``scores_<test>.csv``) and scores only what is missing or stale;
:func:`clip_scores` does the same for a Vid4 clip degraded as one stream (``scores_vid4_<clip>.csv``).
"""

from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from srlib import paths
from srlib.color import rgb_to_ycbcr
from srlib.evaluate import evaluate_clip, evaluate_many
from srlib.io import atomic_write, load_image, quantize
from srlib.metrics import psnr, sharpness
from srlib.research.stats import KEYS

CLIP_DEGRADATION = "bicubic_h264_clip"  # the Vid4 clips of a matrix: MATLAB bicubic, then one H.264 stream (CRF 28)


def extra_metrics(scale, *names):
    """{name: f(sr, hr) -> float} of ``names``: 'psnr_rgb', 'psnr_cb', 'psnr_cr' (PSNR on RGB and on the Cb, Cr of
    MATLAB rgb2ycbcr; dB, higher is better), 'ciede2000' (mean CIEDE2000 colour difference on CIELAB,
    :func:`skimage.color.deltaE_ciede2000`; lower is better), 'sharpness' (:func:`srlib.metrics.sharpness` on Y;
    1 = as much detail as HR). ``scale`` pixels shaved, SR rounded to uint8; the colour ones need RGB images."""
    from skimage.color import deltaE_ciede2000, rgb2lab

    def chroma(c):
        return lambda sr, hr: float(psnr(*(rgb_to_ycbcr(quantize(x))[..., c : c + 1] for x in (sr, hr)),
                                         y_channel=False, crop_border=scale, round_sr=False))

    crop = (slice(scale, -scale),) * 2
    known = {"psnr_rgb": lambda sr, hr: float(psnr(sr, hr, y_channel=False, crop_border=scale)),
             "psnr_cb": chroma(1), "psnr_cr": chroma(2),
             "ciede2000": lambda sr, hr: float(deltaE_ciede2000(rgb2lab(quantize(sr)[crop]),
                                                                rgb2lab(quantize(hr)[crop])).mean()),
             "sharpness": lambda sr, hr: float(sharpness(sr, hr, crop_border=scale))}
    if set(names) - set(known):
        raise ValueError(f"unknown metrics {sorted(set(names) - set(known))}; known: {', '.join(known)}")
    return {name: known[name] for name in names}


def score_images(upscalers, files, scale, metrics=None, degradation="bicubic"):
    """{key: [{image, psnr, ssim, <metric>...}]} of each of ``upscalers`` ({key: upscaler}) on ``files`` under the
    benchmark convention (:func:`srlib.evaluate.evaluate_many`: each image's LR made once for all of them);
    ``image`` is 'folder/file' (stable across machines); each extra ``metrics[name](sr, hr)`` sees SR (H, W, C)
    and the HR it is compared with, cropped alike."""
    rows = {key: [] for key in upscalers}
    for f in tqdm(files, desc=f"{degradation} x{scale}", unit="image", leave=False):
        hr = load_image(f, channels=None)
        for key, (p, s, sr) in zip(upscalers, evaluate_many(list(upscalers.values()), hr, scale, degradation),
                                   strict=True):
            crop = hr[: sr.shape[0], : sr.shape[1]]
            rows[key].append({"image": image_name(f), "psnr": p, "ssim": s,
                              **{name: float(fn(sr, crop)) for name, fn in (metrics or {}).items()}})
    return rows


def image_name(f):
    """'folder/file' of an image path: its name in score tables, stable across machines."""
    return f"{Path(f).parent.name}/{Path(f).name}"


def cached_scores(upscalers, files, cache, scale, metrics, degradation):
    """{folder: per-image scores (DataFrame: split, image, psnr, ssim, extras)} of each ``upscalers`` item
    ({folder: () -> upscaler}) on ``files`` = (validation files, test files) at ``scale`` on the LR of
    ``degradation``, read from ``cache(folder)`` (a CSV path); those missing or stale are scored together (each
    image's LR made once) and cached."""
    val, test = files
    want, names = ["split", "image", "psnr", "ssim", *metrics], [image_name(f) for f in val + test]

    def read(folder):
        path = cache(folder)
        df = pd.read_csv(path, float_precision="round_trip") if path.exists() else None
        return df[want] if df is not None and set(want) <= set(df.columns) and list(df["image"]) == names else None

    out = {folder: read(folder) for folder in upscalers}
    todo = {folder: upscalers[folder]() for folder, df in out.items() if df is None}
    if todo:
        scored = {split: score_images(todo, fs, scale, metrics, degradation) for split, fs in (("val", val),
                                                                                               ("test", test))}
        for folder in todo:
            df = pd.DataFrame([{"split": split, **row} for split, rows in scored.items() for row in rows[folder]])
            atomic_write(cache(folder), lambda tmp, df=df: df.to_csv(tmp, index=False))
            out[folder] = read(folder)  # the very values a rerun reads (full precision)
    return out


def clip_scores(folders, clip, scale, degradation):
    """Long DataFrame (:data:`srlib.research.stats.KEYS` + psnr, ssim; split 'test', image '<clip>/<frame>') of each
    of ``folders`` ({folder: (variant, seed, () -> upscaler)}) on the frames of Vid4 sequence ``clip``, the clip
    degraded by ``degradation`` as one stream (:func:`srlib.evaluate.evaluate_clip`); cached per folder in
    ``scores_vid4_<clip>.csv``."""
    parts = []
    for folder, (v, k, upscaler) in folders.items():
        path = Path(folder) / f"scores_vid4_{clip}.csv"
        if not path.exists():
            frames = evaluate_clip(upscaler(), paths.vid4()[clip], scale, degradation, progress=False)
            df = pd.DataFrame([{"split": "test", "image": f"{clip}/{r['image']}", "psnr": r["psnr"],
                                "ssim": r["ssim"]} for r in frames["rows"]])
            atomic_write(path, lambda tmp, df=df: df.to_csv(tmp, index=False))
        parts.append(pd.read_csv(path, float_precision="round_trip").assign(variant=v, seed=k))
    return pd.concat(parts, ignore_index=True)[[*KEYS, "psnr", "ssim"]]
