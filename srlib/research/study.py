"""A study: a grid of variants x seeds trained at one stated budget, scored per image, compared to a baseline.

    study = Study("study_02_activation", baseline="tanh", variants={"tanh": ESPCN,
                  "relu": ESPCN.replace(args={"activation": "relu"})}, seeds=(1, 2, 3), budget=20_000, epochs=10)
    rows = study.run(Outputs(profile))      # trains what is missing, writes results/tables/study_02_activation.csv

Each (variant, seed) is a :func:`srlib.training.experiment.train` run in
``paths.runs_dir(profile)/studies/<study>/<variant>/ seed<k>``, so a study is resumable and grows across sessions: a
finished run is reused (zero training steps). Its checkpoint chosen on the validation images
(:func:`srlib.training.experiment.best`) is scored per image, benchmark convention, on the validation split (the holdout
training validates on) and the test set (BSD100 by default; Set5 never decides), with any extra metrics ``{name: f(sr,
hr) -> float}`` (:func:`extra_metrics`), cached in the run folder (``scores_<test>.csv``). Bicubic, scored alike, is the
floor.

:func:`srlib.research.stats.table` makes the rows: means and stds over the runs that learned, "k of n" learned; against
the baseline, the mean difference with its interval over seeds and images at the Holm-adjusted level over every
comparison of the table, each run's difference and a verdict. Every run's per-image scores and the study's
definition are committed (:mod:`srlib.research.evidence`) and the tables are made from them, so they can be rebuilt
without training. The table holds no times, dates or machines (they go to ``<study>_timing.csv``): the same
scores give the same bytes on any machine.
"""

import dataclasses
import functools
import json
import logging
import re
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from srlib import degrade, paths
from srlib.color import rgb_to_ycbcr
from srlib.data import split_holdout
from srlib.evaluate import CONVENTION, evaluate_clip, evaluate_many
from srlib.inference.infer import Bicubic, ModelUpscaler, load_upscaler
from srlib.io import atomic_write, list_images, load_image, quantize, write_json
from srlib.metrics import psnr, sharpness
from srlib.outputs import write_timing
from srlib.precision import machine, set_precision
from srlib.research import evidence
from srlib.research.stats import KEYS, MIN_SEEDS
from srlib.sources import datasets
from srlib.training import experiment
from srlib.training.train import finished

log = logging.getLogger(__name__)

RATES = "step_rates.json"  # in a study's folder: the step rates its equal-time budget was converted with
CLIP_DEGRADATION = "bicubic_h264_clip"  # the Vid4 clips of a matrix: MATLAB bicubic, then one H.264 stream (CRF 28)


def study_dir(name, profile="full"):
    """The folder of study ``name``'s runs: ``paths.runs_dir(profile)/studies/<name>``."""
    return paths.runs_dir(profile) / "studies" / name


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
            rows[key].append({"image": _image_name(f), "psnr": p, "ssim": s,
                              **{name: float(fn(sr, crop)) for name, fn in (metrics or {}).items()}})
    return rows


def _image_name(f):
    return f"{Path(f).parent.name}/{Path(f).name}"


@dataclasses.dataclass
class Study:
    """A grid of ``variants`` x ``seeds`` at ``budget`` training steps (module docstring).

    Attributes:
      name: ``study_<notebook>_<question>``, e.g. 'study_02_activation' (the table's file name).
      baseline: the variant every other one is compared with.
      variants: {name: :class:`srlib.training.experiment.Recipe`}; names are folder names (letters, digits, ``_.+-``).
        All share scale, degradation, training data and validation split (paired comparisons); with
        ``test_degradations`` the degradation and the training data may differ (the train axis of a matrix; the
        validation split scored is the first variant's, each run still choosing its checkpoint on its own).
      seeds: one run per seed and variant (at least 3 for a claim).
      budget: training steps per run, one int, or {variant: steps} for an equal-time question
        (:func:`steps_for_equal_time`); each is a multiple of ``epochs``.
      epochs: epochs per run (the learning curve's points); steps per epoch = budget / epochs.
      test: test set name (:data:`srlib.sources.datasets.REGISTRY`) or a folder.
      sources: training images instead of the recipes' ``data`` (passed to :func:`srlib.training.experiment.train`).
      metrics: extra per-image metrics {name: f(sr, hr) -> float} (:func:`extra_metrics`).
      profile: where runs go (:func:`srlib.paths.runs_dir`).
      test_degradations: names of :data:`srlib.degrade.REGISTRY`: every run is scored on the validation and test
        LR of each (a train x test matrix, :meth:`matrix_rows`); empty: the recipes' own degradation.
      clips: Vid4 sequences (:func:`srlib.paths.vid4`) the matrix also scores every run on, frame by frame, under
        :data:`CLIP_DEGRADATION` (one H.264 stream per clip: P and B frames; :meth:`clip_scores`).
    """

    name: str
    baseline: str
    variants: dict
    seeds: tuple = (1, 2, 3)
    budget: int | dict = 20_000
    epochs: int = 10
    test: str | Path = "BSD100"
    sources: list | None = None
    metrics: dict = dataclasses.field(default_factory=dict)
    profile: str = "full"
    test_degradations: tuple = ()
    clips: tuple = ()

    def __post_init__(self):
        if not re.fullmatch(r"study_\d\d_[a-z0-9_]+", self.name):
            raise ValueError(f"study name {self.name!r}: want study_<notebook>_<question>, e.g. study_02_activation")
        bad = [v for v in self.variants if not re.fullmatch(r"[A-Za-z0-9_.+-]+", v) or v == "bicubic"]
        if bad or self.baseline not in self.variants:
            raise ValueError(f"{self.name}: variant names {bad} not usable as folders, or baseline "
                             f"{self.baseline!r} not among {list(self.variants)}")
        b = self.budget
        self.budgets = {v: int(b[v] if isinstance(b, dict) else b) for v in self.variants}  # {variant: steps}
        if any(b % self.epochs or b <= 0 for b in self.budgets.values()):
            raise ValueError(f"{self.name}: budgets {self.budgets} must be positive multiples of epochs={self.epochs}")
        for d in self.test_degradations:
            degrade.get(d)  # a one-line error naming an unknown one
        matrix = bool(self.test_degradations)
        shared = {(r.scale, None if matrix else r.degradation, None if matrix else tuple(r.data), r.val)
                  for r in self.variants.values()}
        if len(shared) > 1:
            raise ValueError(f"{self.name}: variants differ in scale / degradation / data / val: {sorted(shared)}")
        self.root = study_dir(self.name, self.profile)
        self.trained_steps = 0  # training steps this process ran (0 on the rerun of a finished study)
        self.committed = None  # (meta, scores) of the committed evidence, when this profile tabulates it (quick)

    def recipe(self, variant, seed):
        """The variant's recipe at the study's budget and ``seed``."""
        steps = self.budgets[variant] // self.epochs
        return self.variants[variant].replace(seed=seed, steps=steps, epochs=self.epochs)

    def grid(self):
        """[(variant, seed)] of every run."""
        return [(v, k) for v in self.variants for k in self.seeds]

    def run_dir(self, variant, seed):
        return self.root / variant / f"seed{seed}"

    @functools.cached_property
    def files(self):
        """(validation files: the holdout training validates on, test files)."""
        r = next(iter(self.variants.values()))
        folders = self.sources if self.sources is not None else [datasets.require(n) for n in r.data]
        val = split_holdout(folders)[1] if r.val == "holdout" else list_images(datasets.require(r.val))
        test = Path(self.test) if Path(self.test).is_dir() else datasets.require(str(self.test))
        return val, list_images(test)

    def _cache(self, folder, degradation=None):
        """``folder/scores_<test>[_<degradation>].csv``: per-image scores on the LR of ``degradation`` (default: the
        recipes' own)."""
        return folder / f"scores_{Path(self.test).name}{'_' + degradation if degradation else ''}.csv"

    def _cached(self, upscalers, degradation=None):
        """{folder: per-image scores} of each ``upscalers`` item ({folder: () -> upscaler}) from its :meth:`_cache`;
        those missing or stale are scored together (each image's LR made once) and cached."""
        val, test = self.files
        want, names = ["split", "image", "psnr", "ssim", *self.metrics], [_image_name(f) for f in val + test]

        def read(folder):
            path = self._cache(folder, degradation)
            df = pd.read_csv(path, float_precision="round_trip") if path.exists() else None
            return df[want] if df is not None and set(want) <= set(df.columns) and list(df["image"]) == names else None

        out = {folder: read(folder) for folder in upscalers}
        todo = {folder: upscalers[folder]() for folder, df in out.items() if df is None}
        if todo:
            r = next(iter(self.variants.values()))
            scored = {split: score_images(todo, files, r.scale, self.metrics, degradation or r.degradation)
                      for split, files in (("val", val), ("test", test))}
            for folder in todo:
                df = pd.DataFrame([{"split": split, **row} for split, rows in scored.items() for row in rows[folder]])
                atomic_write(self._cache(folder, degradation), lambda tmp, df=df: df.to_csv(tmp, index=False))
                out[folder] = read(folder)  # the very values a rerun reads (full precision)
        return out

    def train(self, verbose=0):
        """Train every missing or unfinished (variant, seed) run; a finished run is reused without loading data."""
        for variant, seed in self.grid():
            recipe, run = self.recipe(variant, seed), self.run_dir(variant, seed)
            if finished(run, recipe.epochs) and experiment.Recipe.from_dict(_run_info(run)["recipe"]) == recipe:
                continue  # a different recipe falls through: train() refuses it
            steps = []  # one entry per training step that runs
            count = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs, s=steps: s.append(b))
            experiment.train(recipe, run, self.sources, verbose=verbose, callbacks=[count])
            self.trained_steps += len(steps)

    def _folders(self):
        """{folder: (variant, seed)} of bicubic (variant 'bicubic', seed 0) and every run."""
        return {self.root / "bicubic": ("bicubic", 0)} | {self.run_dir(v, k): (v, k) for v, k in self.grid()}

    @property
    def scale(self):
        return next(iter(self.variants.values())).scale

    def _upscaler(self, folder, variant, seed):
        return Bicubic(self.scale) if variant == "bicubic" else _upscaler(folder, self.recipe(variant, seed))

    def scores(self, degradation=None):
        """Long DataFrame of per-image scores (columns :data:`KEYS` + psnr, ssim, extras) of every run and bicubic,
        on the LR of ``degradation`` (default: the recipes' own)."""
        keys = self._folders()
        dfs = self._cached({folder: functools.partial(self._upscaler, folder, *vk) for folder, vk in keys.items()},
                           degradation)
        parts = [dfs[folder].assign(variant=v, seed=k) for folder, (v, k) in keys.items()]
        return pd.concat(parts, ignore_index=True)[[*KEYS, "psnr", "ssim", *self.metrics]]

    def clip_scores(self, clip):
        """Long DataFrame (:data:`KEYS` + psnr, ssim; split 'test', image '<clip>/<frame>') of every run and bicubic
        on the frames of Vid4 sequence ``clip`` under :data:`CLIP_DEGRADATION`, the clip degraded as one stream
        (:func:`srlib.evaluate.evaluate_clip`); cached per run in ``scores_vid4_<clip>.csv``."""
        parts = []
        for folder, (v, k) in self._folders().items():
            path = folder / f"scores_vid4_{clip}.csv"
            if not path.exists():
                frames = evaluate_clip(self._upscaler(folder, v, k), paths.vid4()[clip], self.scale, CLIP_DEGRADATION,
                                       progress=False)
                df = pd.DataFrame([{"split": "test", "image": f"{clip}/{r['image']}", "psnr": r["psnr"],
                                    "ssim": r["ssim"]} for r in frames["rows"]])
                atomic_write(path, lambda tmp, df=df: df.to_csv(tmp, index=False))
            parts.append(pd.read_csv(path, float_precision="round_trip").assign(variant=v, seed=k))
        return pd.concat(parts, ignore_index=True)[[*KEYS, "psnr", "ssim"]]

    def _bicubic(self, degradation=None):
        folder = self.root / "bicubic"
        return self._cached({folder: functools.partial(self._upscaler, folder, "bicubic", 0)}, degradation)[folder]

    def evidence(self, command):
        """(meta, scores) of the finished grid as :mod:`srlib.research.evidence` stores them: every run's and bicubic's
        per-image scores (a matrix: on each test column) and the study's definition, ``command`` included."""
        (val, test), r = self.files, self.recipe(self.baseline, self.seeds[0])
        notes = {"test": f"{Path(self.test).name} ({len(test)} images); validation: {len(val)} held-out images",
                 "convention": CONVENTION,
                 "comparison": f"vs {self.baseline}, over the runs that learned (at least {MIN_SEEDS} a side): mean "
                 "difference with its t interval over seeds and images (srlib.research.stats.seeds_and_images), at the "
                 "Holm-adjusted 95 % level over all comparisons of this table; at or below bicubic's test PSNR: "
                 "'failed to learn', counted, never averaged",
                 "evidence": f"per-image scores of every run: results/studies/{self.name}_scores.csv.gz"}
        meta = {"name": self.name, "baseline": self.baseline, "budgets": self.budgets, "seeds": list(self.seeds),
                "metrics": ["psnr", "ssim", *self.metrics], "command": command, "notes": notes, "per_image": True,
                "steps_per_epoch": r.steps, "curves": {v: {str(k): pd.read_csv(self.run_dir(v, k) / "log.csv")[
                    "val_psnr"].round(4).tolist() for k in self.seeds} for v in self.variants}}
        if not self.test_degradations:
            return meta, self.scores()
        notes["matrix"] = ("rows per test column (its validation and test LR); gain_psnr: vs bicubic on that LR, "
                           "same interval, Holm over every cell of the matrix; a run learned when it beat bicubic "
                           "on its own training LR")
        columns = [(Path(self.test).name, d, functools.partial(self.scores, d)) for d in self.test_degradations]
        columns += [(f"Vid4 {c}", CLIP_DEGRADATION, functools.partial(self.clip_scores, c)) for c in self.clips]
        meta |= {"columns": [[t, d] for t, d, _ in columns],
                 "own": {v: rv.degradation for v, rv in self.variants.items()}}
        scores = pd.concat([get().assign(test=t, test_degradation=d) for t, d, get in columns], ignore_index=True)
        return meta, scores[[*KEYS, *evidence.COLUMN, *meta["metrics"]]]

    def run(self, outputs=None, command=None, verbose=0):
        """Train, score and tabulate; with ``outputs`` (:class:`srlib.outputs.Outputs`) also write the evidence
        (:func:`srlib.research.evidence.write`) and, from what it reads back, ``tables/<name>.csv`` and
        ``<name>_runs.csv`` (stable bytes: :func:`srlib.research.evidence.rebuild` remakes them), and
        ``tables/<name>_timing.csv``.

        The quick profile trains no grid: it trains and scores one short stand-in run (:meth:`stand_in`: the code
        path) and tabulates the full profile's committed evidence; None where there is none. Returns the rows.
        """
        command = command or f"srlib.research.study.Study({self.name!r}).run()"
        if self.profile == "quick":
            self.stand_in()
            if not evidence.files(self.name)[0].exists():
                log.warning("%s: no committed evidence (results/studies/): the full profile trains it", self.name)
                return None
            self.committed = evidence.read(self.name)
            return evidence.write_tables(outputs, *self.committed) if outputs else evidence.tabulate(*self.committed)[0]
        self.train(verbose)
        meta, scores = self.evidence(command)
        if outputs is None:
            return evidence.tabulate(meta, scores)[0]
        path = evidence.write(outputs, meta, scores)
        rows = evidence.write_tables(outputs, *evidence.read(self.name, path.parent))
        write_timing(outputs(f"tables/{self.name}_timing.csv"), self.timing(), command=command)
        return rows

    @property
    def has_curves(self):
        """Whether :meth:`learning_curve` has the baseline's curve: this profile's runs, or committed per-epoch
        validation PSNRs (evidence recovered from per-run means has none)."""
        return self.committed is None or bool(self.committed[0]["curves"])

    def stand_in(self):
        """Train the baseline's first seed at this (quick) profile's budget and score it on the validation images:
        one short run through the study's code path. Returns its mean validation PSNR (dB)."""
        variant, seed = self.baseline, self.seeds[0]
        run = self.run_dir(variant, seed)
        experiment.train(self.recipe(variant, seed), run, self.sources)
        rows = score_images({"run": self._upscaler(run, variant, seed)}, self.files[0], self.scale)["run"]
        value = float(np.mean([r["psnr"] for r in rows]))
        log.info("%s: stand-in run %s seed %d, validation PSNR %.2f dB", self.name, variant, seed, value)
        return value

    def timing(self):
        """[{variant, seed, train_s, samples_per_s, machine}] of the finished runs (machine-dependent), with
        ``probe_steps_per_s`` and ``probe_machine`` where an equal-time budget was converted from step rates
        measured side by side (``<root>/step_rates.json``, :func:`steps_for_equal_time`)."""
        probe = json.loads((self.root / RATES).read_text()) if (self.root / RATES).exists() else None
        rows = []
        for variant, seed in self.grid():
            run = self.run_dir(variant, seed)
            lg = pd.read_csv(run / "log.csv")
            rows.append({"variant": variant, "seed": seed, "train_s": float(lg["wall_s"].iloc[-1]),
                         "samples_per_s": float(lg["samples_per_s"].median()),
                         "machine": " | ".join(_run_info(run)["sessions"])})
            if probe:
                rows[-1].update(probe_steps_per_s=probe["steps_per_s"][variant], probe_machine=probe["machine"])
        return rows

    def learning_curve(self, reference=None):
        """The baseline's validation PSNR per epoch (each seed and their mean, from the runs' ``log.csv``: the
        training metric, SR not rounded, within about 0.01 dB of the benchmark convention) and the fraction
        of the way from bicubic to ``reference`` it covers.

        ``reference``: a zoo name, ``.keras`` file or upscaler scored on the same validation images (e.g. the
        shipped model of the family: its long-run value); None: no fraction.
        Returns {'curve': DataFrame (epoch, step, seed<k>..., mean, fraction), 'bicubic', 'reference', 'fraction'}.
        """
        recipe = self.recipe(self.baseline, self.seeds[0])
        if self.committed is None:  # this profile's runs
            logs = {k: pd.read_csv(self.run_dir(self.baseline, k) / "log.csv")["val_psnr"] for k in self.seeds}
            steps, own = recipe.steps, recipe.degradation if self.test_degradations else None
            bicubic = float(self._bicubic(own).query("split == 'val'")["psnr"].mean())
        else:  # the committed evidence of the full profile (quick)
            meta, scores = self.committed
            logs, steps = meta["curves"][self.baseline], meta["steps_per_epoch"]
            val = scores[(scores["variant"] == "bicubic") & (scores["split"] == "val")]
            if "columns" in meta:  # the baseline's validation LR
                val = val[(val["test"] == meta["columns"][0][0]) & (val["test_degradation"] == recipe.degradation)]
            bicubic = float(val["psnr"].mean())
        curve = pd.DataFrame({"epoch": np.arange(1, len(next(iter(logs.values()))) + 1)})
        curve["step"] = curve["epoch"] * steps
        for seed, values in logs.items():
            curve[f"seed{seed}"] = list(values)
        curve["mean"] = curve[[f"seed{s}" for s in logs]].mean(axis=1)
        if reference is None:
            return {"curve": curve, "bicubic": bicubic, "reference": None, "fraction": None}
        up = load_upscaler(str(reference)) if isinstance(reference, (str, Path)) else reference
        rows = score_images({"reference": up}, self.files[0], recipe.scale, degradation=recipe.degradation)
        ref = float(np.mean([r["psnr"] for r in rows["reference"]]))
        curve["fraction"] = (curve["mean"] - bicubic) / (ref - bicubic)
        return {"curve": curve, "bicubic": bicubic, "reference": ref, "fraction": float(curve["fraction"].iloc[-1])}


def summary(rows, extra=()):
    """A study table's main columns as a DataFrame (rounded to 4 places): seeds learned, test means / stds over them,
    the differences to the baseline with their intervals and per-seed differences; ``extra`` metrics add theirs."""
    cols = ["variant", "learned", "budget_steps", "val_psnr_mean", "test_psnr_mean", "test_psnr_std", "test_ssim_mean",
            "d_psnr", "d_psnr_low", "d_psnr_high", "d_psnr_seeds", "verdict"]
    cols += [c for m in extra for c in (f"test_{m}_mean", f"d_{m}", f"d_{m}_low", f"d_{m}_high", f"verdict_{m}")]
    return pd.DataFrame(rows).reindex(columns=cols).round(4)


def verdict_lines(rows, baseline, metrics=("psnr", "ssim")):
    """One line per variant of a study table: its mean per-image difference to ``baseline`` on the test set per
    metric (95 % interval) and verdict, or why it was not compared (failed to learn)."""
    floor, lines = rows[0]["test_psnr_mean"], []
    for r in rows[1:]:
        if r["variant"] == baseline:
            continue
        if r["d_psnr"] is None:
            lines.append(f"{r['variant']}: {r['verdict']}, {r['learned']} seeds learned (test PSNR "
                         f"{r['test_psnr_mean']:.2f} dB, bicubic {floor:.2f} dB)")
            continue
        diffs = "; ".join(f"{m} {r[f'd_{m}']:+.3f} [{r[f'd_{m}_low']:+.3f}, {r[f'd_{m}_high']:+.3f}]" for m in metrics)
        lines.append(f"{r['variant']} minus {baseline}, {r['learned']} seeds learned (per seed "
                     f"{r['d_psnr_seeds']}): {diffs} -> {r['verdict']}")
    return lines


def show(rows, baseline, extra=()):
    """Print a study's verdict lines (PSNR, SSIM and ``extra`` metrics) and return its :func:`summary`; for no rows
    (the quick profile without committed evidence) say so and return None."""
    if rows is None:
        print("no committed evidence of this study yet: `python benchmarks/run_studies.py` trains it (full profile)")
        return None
    print("\n".join(verdict_lines(rows, baseline, ("psnr", "ssim", *extra))))
    return summary(rows, extra)


def _run_info(run):
    return json.loads((run / "run.json").read_text())


def _upscaler(run, recipe):
    """The run's checkpoint chosen on the validation images, as an upscaler."""
    space = "rgb" if recipe.channels in ("y", "rgb") else recipe.channels
    return ModelUpscaler(experiment.best(run), recipe.scale, space=space)


def step_rates(recipes, probe_steps=300, rounds=5, sources=None):
    """Training steps per second of each of ``recipes`` ({name: Recipe}), measured side by side in this process.

    Every model is built, compiled and warmed up (5 untimed steps: tracing), then ``rounds`` times in turn
    each runs ``probe_steps / rounds`` steps on its own training data (``train_on_batch``: one compiled step
    per Python call, as ``fit`` runs them), so a change in machine load hits all variants alike.
    Returns {name: steps per second}.
    """
    runs = {}
    for name, recipe in recipes.items():
        set_precision(recipe.precision)
        try:
            model = experiment.build(recipe)
            model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=experiment.loss_fn(recipe.loss))
        finally:
            set_precision("fp32")
        batches = iter(experiment.datasets_for(recipe, sources)[0])
        for _ in range(5):
            model.train_on_batch(*next(batches))
        runs[name] = (model, batches)
    seconds = dict.fromkeys(recipes, 0.0)
    chunk = max(1, probe_steps // rounds)
    for _ in range(rounds):
        for name, (model, batches) in runs.items():
            t = time.perf_counter()
            for _ in range(chunk):
                model.train_on_batch(*next(batches))
            seconds[name] += time.perf_counter() - t
    return {name: chunk * rounds / s for name, s in seconds.items()}


def steps_for_equal_time(recipes, seconds, probe_steps=300, multiple=1, sources=None, cache=None):
    """{name: training steps that fit in ``seconds`` of training at the rate :func:`step_rates` measures},
    rounded down to a multiple of ``multiple`` (a study's ``epochs``): an equal-time budget stated in steps, so
    the study is reproducible on any machine (the rates, and so the steps, are this machine's: state them).

    ``seconds``: a number, or (name, steps): as long as ``steps`` steps of ``recipes[name]`` take, which then keeps
    exactly ``steps`` (the budget depends only on the ratio of the rates, not on the machine's speed or load).
    ``cache``: a JSON file (a study's ``step_rates.json``, :data:`RATES`): when it exists the rates are read from it,
    so a study that grows across sessions keeps the budget it started with; else they are measured and written
    there with the recipes and the machine. Different recipes than the cached ones raise ValueError.
    """
    path = Path(cache) if cache is not None else None
    want = {name: r.to_dict() for name, r in recipes.items()}
    if path is not None and path.exists():
        probe = json.loads(path.read_text())
        if probe["recipes"] != want:
            raise ValueError(f"{path}: holds the rates of other recipes; delete it to measure them again")
        rates = probe["steps_per_s"]
    else:
        rates = step_rates(recipes, probe_steps, sources=sources)
        if path is not None:
            write_json(path, {"steps_per_s": rates, "probe_steps": probe_steps, "machine": machine(), "recipes": want})
    log.info("training steps per second: %s", ", ".join(f"{n} {r:.1f}" for n, r in rates.items()))
    if isinstance(seconds, tuple | list):
        anchor, steps = seconds
        seconds = steps / rates[anchor]
    # rounded to 1e-6 first: the anchor's steps / rate * rate may come back a hair below ``steps``
    return {name: max(multiple, int(round(seconds * rate, 6)) // multiple * multiple) for name, rate in rates.items()}
