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
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from srlib import degrade, paths
from srlib.data import split_holdout
from srlib.inference.infer import Bicubic, ModelUpscaler, load_upscaler
from srlib.io import list_images
from srlib.outputs import write_timing
from srlib.research import evidence
from srlib.research.budgets import RATES
from srlib.research.scoring import CLIP_DEGRADATION, cached_scores, clip_scores, score_images
from srlib.research.stats import KEYS
from srlib.sources import datasets
from srlib.training import experiment
from srlib.training.train import finished

log = logging.getLogger(__name__)



def study_dir(name, profile="full"):
    """The folder of study ``name``'s runs: ``paths.runs_dir(profile)/studies/<name>``."""
    return paths.runs_dir(profile) / "studies" / name


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
        """{folder: per-image scores} of each ``upscalers`` item ({folder: () -> upscaler}) on the validation and test
        files, cached in its :meth:`_cache` (:func:`srlib.research.scoring.cached_scores`)."""
        r = next(iter(self.variants.values()))
        return cached_scores(upscalers, self.files, functools.partial(self._cache, degradation=degradation), r.scale,
                             self.metrics, degradation or r.degradation)

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
        on the frames of Vid4 sequence ``clip`` under :data:`CLIP_DEGRADATION`, the clip degraded as one stream;
        cached per run in ``scores_vid4_<clip>.csv`` (:func:`srlib.research.scoring.clip_scores`)."""
        folders = {folder: (v, k, functools.partial(self._upscaler, folder, v, k))
                   for folder, (v, k) in self._folders().items()}
        return clip_scores(folders, clip, self.scale, CLIP_DEGRADATION)

    def _bicubic(self, degradation=None):
        folder = self.root / "bicubic"
        return self._cached({folder: functools.partial(self._upscaler, folder, "bicubic", 0)}, degradation)[folder]

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
        meta, scores = evidence.of_study(self, command)
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
        """Train the baseline's first seed for a tenth of this (quick) profile's budget, in ``<root>/stand_in``, and
        score it on the validation images: one short run through the study's code path, not a result. Returns its
        mean validation PSNR (dB)."""
        variant, seed = self.baseline, self.seeds[0]
        recipe = self.recipe(variant, seed)
        run = self.root / "stand_in" / variant / f"seed{seed}"
        experiment.train(recipe.replace(steps=max(1, recipe.steps // 10)), run, self.sources)
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


def _run_info(run):
    return json.loads((run / "run.json").read_text())


def _upscaler(run, recipe):
    """The run's checkpoint chosen on the validation images, as an upscaler."""
    space = "rgb" if recipe.channels in ("y", "rgb") else recipe.channels
    return ModelUpscaler(experiment.best(run), recipe.scale, space=space)


