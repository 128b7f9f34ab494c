"""The digit studies of chapter 05: the LR-conditioned digit CPPN with and without its discriminator, against
bicubic, judged by what each part is for: PSNR / SSIM and sharpness, recognisability and a Fréchet distance.

    rows = DigitStudy(26).run(Outputs(profile))   # trains what is missing, writes study_05_digits_26to28.csv

Runs: :func:`study` (a :class:`srlib.research.study.Study`: variants 'mse_kl' and 'mse_kl_gan' x seeds at one budget in
steps, cached and resumable under ``runs/studies/``), trained on :data:`TRAIN_HALF` of MNIST's test digits (its
last :data:`srlib.sources.digits.DIGIT_VAL` for validation) and scored per digit on the :data:`TEST_HALF`, which neither
the models nor the classifier saw. Per digit: PSNR and SSIM (:func:`srlib.sources.digits.digit_scores`' convention),
whether the classifier (:func:`srlib.research.recognise.digit_classifier`, trained on :data:`TRAIN_HALF`) names it
right, and its classifier features; per set: the sharpness ratio and the Fréchet distance of SR to HR features.

Intervals: per-digit metrics (PSNR, SSIM, accuracy) over the seeds that learned and the test digits
(:func:`srlib.research.stats.seeds_and_images`); the Fréchet distance, a statistic of the whole set, by a percentile
bootstrap with the digits resampled, of the seeds' mean (digits only). Holm's adjustment covers every comparison
of a table and each interval is drawn at its Holm-adjusted level, so it and its verdict agree. A run at or below
bicubic's test PSNR failed to learn: counted ('k of n'), never averaged into a comparison.
"""

import dataclasses
import functools

import numpy as np

from srlib.io import atomic_write
from srlib.metrics import psnr, sharpness, ssim
from srlib.models.cppn_gan import render
from srlib.outputs import write_csv, write_timing
from srlib.research.recognise import FEATURES, digit_classifier, frechet_distance, gaussian, predict
from srlib.research.stats import (
    ALPHA,
    BOOT_SEED,
    MIN_SEEDS,
    N_BOOT,
    holm,
    mean_std,
    paired_bootstrap,
    seeds_and_images,
    t_test,
    verdict,
)
from srlib.research.study import Study
from srlib.resize import imresize
from srlib.sources import digits
from srlib.training.experiment import Recipe, best

BUDGET, EPOCHS = 1_000, 5  # training steps per run (batches of 32 digits), checkpoints
TRAIN_HALF, TEST_HALF = "MNIST-test-a", "MNIST-test-b"
GAN_WEIGHT = 3e-3
N_BOOT_FRECHET = 1_000  # resamples of the Fréchet distance (each refits the Gaussians)

DIGIT_CPPN = Recipe("cppn_gan", scale=28 / 26, args={"form": "global", "lr_size": 26, "latent": 32, "width": 64,
                                                    "depth": 3, "activation": "relu", "beta": 1e-5, "warmup": 200,
                                                    "adversarial": 0.0, "base": "bicubic"},
                    data=(TRAIN_HALF,), batch=32, steps=BUDGET // EPOCHS, epochs=EPOCHS, learning_rate=1e-3,
                    precision="fp32", seed=1)
WORDS = {"psnr": ("better", "worse"), "ssim": ("higher", "lower"), "accuracy": ("higher", "lower"),
         "frechet": ("further from HR", "closer to HR")}


def variants(lr_size):
    """{'mse_kl': recipe, 'mse_kl_gan': recipe} of the task ``lr_size`` -> 28 (26: the seed's task, 7: x4)."""
    plain = DIGIT_CPPN.replace(scale=28 / lr_size, args={**DIGIT_CPPN.args, "lr_size": lr_size})
    return {"mse_kl": plain, "mse_kl_gan": plain.replace(args={**plain.args, "adversarial": GAN_WEIGHT})}


def study(lr_size, seeds=(1, 2, 3), budget=BUDGET, epochs=EPOCHS, profile="full", shorten=None):
    """The :class:`srlib.research.study.Study` (runs, cache, training) of the task ``lr_size`` -> 28; ``shorten``: a
    function applied to each recipe (a smaller batch for the smoke profile)."""
    v = {k: shorten(r) if shorten else r for k, r in variants(lr_size).items()}
    return Study(f"study_05_digits_{lr_size}to28", "mse_kl", v, seeds, budget, epochs, profile=profile)


def interval(value, resampled, alpha=ALPHA):
    """(value, alpha / 2 and 1 - alpha / 2 percentiles of ``resampled`` (B,), two-sided p of 0) as
    :func:`srlib.research.stats.paired_bootstrap` computes them, for a statistic recomputed on resampled digits."""
    low, high = np.percentile(resampled, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    tail = min(int((resampled <= 0).sum()), int((resampled >= 0).sum()))
    return float(value), float(low), float(high), min(1.0, 2.0 * (tail + 1) / (len(resampled) + 1))


def resampled_gaussians(features, draws, chunk=20):
    """(means (B, d), covariances (B, d, d)) of ``features`` (N, d) on each row of ``draws`` (B, N) of indices."""
    parts = [gaussian(features[draws[i : i + chunk]]) for i in range(0, len(draws), chunk)]
    return np.concatenate([m for m, _ in parts]), np.concatenate([c for _, c in parts])


def frechet_resamples(features, hr_gaussians, draws):
    """The Fréchet distance of ``features`` (N, d) to HR on each row of ``draws`` (B, N) of digit indices (the same
    digits of both sets: paired; ``hr_gaussians``: :func:`resampled_gaussians` of the HR features), (B,)."""
    return frechet_distance(resampled_gaussians(features, draws), hr_gaussians)


def score_digits(sr, hr, labels, clf):
    """Per-digit scores of SR digits (N, 28, 28, 1) against HR: {'psnr', 'ssim' (N,), 'correct' (N,) 0/1 of the
    classifier ``clf``, 'features' (N, d), 'sharpness' (pooled ratio, ())}, as
    :func:`srlib.sources.digits.digit_scores`."""
    batches = range(0, len(hr), 1000)
    per = lambda f: np.concatenate([f(sr[i : i + 1000], hr[i : i + 1000], y_channel=False).numpy()  # noqa: E731
                                    for i in batches])
    guess, feats = predict(clf, sr)
    return {"psnr": per(psnr), "ssim": per(ssim), "correct": (guess == labels).astype(np.float64), "features": feats,
            "sharpness": np.float64(sharpness(sr, hr, y_channel=False, round_sr=False, pooled=True))}


@dataclasses.dataclass
class DigitStudy:
    """The study of the task ``lr_size`` -> 28 (module docstring); ``n_test``: test digits scored (None: all 5,000),
    ``shorten``: see :func:`study`; ``classifier_epochs``: the classifier's training (cached per value)."""

    lr_size: int
    seeds: tuple = (1, 2, 3)
    budget: int = BUDGET
    epochs: int = EPOCHS
    profile: str = "full"
    n_test: int | None = None
    shorten: object = None
    n_boot: int = N_BOOT
    n_boot_frechet: int = N_BOOT_FRECHET
    classifier_epochs: int = 3

    def __post_init__(self):
        self.study = study(self.lr_size, self.seeds, self.budget, self.epochs, self.profile, self.shorten)
        self.name = self.study.name

    @functools.cached_property
    def data(self):
        """{'test': (lr, hr, labels), 'val': (lr, hr, labels)}: the unseen half (``n_test`` digits) and the
        training half's validation digits."""
        hr, labels = digits.digits(TEST_HALF)[: self.n_test], digits.digit_labels(TEST_HALF)[: self.n_test]
        val = slice(-digits.DIGIT_VAL, None)
        vhr, vlabels = digits.digits(TRAIN_HALF)[val], digits.digit_labels(TRAIN_HALF)[val]
        return {split: (digits.digit_lr(h, self.lr_size), h, y) for split, h, y in
                (("test", hr, labels), ("val", vhr, vlabels))}

    @functools.cached_property
    def classifier(self):
        return digit_classifier(TRAIN_HALF, self.classifier_epochs)

    def _scores(self, folder, upscale):
        """{split: scores} of ``upscale(lr, hr)``, cached in ``folder/digit_scores_c<classifier epochs>.npz``
        (recomputed when ``n_test`` differs)."""
        path = folder / f"digit_scores_c{self.classifier_epochs}.npz"
        n = len(self.data["test"][1])
        if path.exists():
            with np.load(path) as z:
                if len(z["test_psnr"]) == n:
                    return {s: {k.split("_", 1)[1]: z[k] for k in z.files if k.startswith(s + "_")} for s in self.data}
        out = {split: score_digits(upscale(lr, hr), hr, labels, self.classifier)
               for split, (lr, hr, labels) in self.data.items()}
        atomic_write(path, lambda tmp: np.savez(tmp, **{f"{s}_{k}": v for s, d in out.items() for k, v in d.items()}))
        return out

    def scores(self):
        """{'HR': {0: scores}, 'bicubic': {0: scores}, variant: {seed: scores}} (scores: {split: ...})."""
        bicubic = lambda lr, hr: np.clip(imresize(lr, size=(28, 28)).numpy(), 0, 1)  # noqa: E731
        out = {"HR": {0: self._scores(self.study.root / "hr", lambda lr, hr: hr)},
               "bicubic": {0: self._scores(self.study.root / "bicubic", bicubic)}}
        for variant, seed in self.study.grid():
            model = best(self.study.run_dir(variant, seed))
            out.setdefault(variant, {})[seed] = self._scores(self.study.run_dir(variant, seed),
                                                             lambda lr, hr, m=model: render(m, lr, (28, 28)))
        return out

    def run(self, outputs=None, command=None, verbose=0):
        """Train what is missing, score, tabulate; with ``outputs`` write ``tables/<name>.csv`` (stable bytes) and
        ``tables/<name>_timing.csv``. Returns the rows."""
        self.study.train(verbose)
        rows = self.table(self.scores())
        if outputs is not None:
            command = command or f"srlib.research.digit_study.DigitStudy({self.lr_size}).run()"
            n = len(self.data["test"][1])
            notes = {"test": f"{n} digits of {TEST_HALF}, which neither the models nor the classifier saw; "
                             f"models trained on {TRAIN_HALF} (its last {digits.DIGIT_VAL}: validation)",
                     "scoring": "PSNR / SSIM per digit on uint8-rounded 28x28 digits, no border shaved; sharpness: "
                                "gradient energy SR / HR, pooled; accuracy: a 2-conv digit classifier trained on "
                                f"{TRAIN_HALF}; frechet: Fréchet distance of its {FEATURES} penultimate features, "
                                "SR vs HR",
                     "comparison": f"d_<metric>_vs_<ref>, over the seeds that learned (at least {MIN_SEEDS}): "
                                   "mean difference with its t interval over seeds and digits "
                                   "(srlib.research.stats.seeds_and_images); Fréchet distance: percentile interval "
                                   "over "
                                   f"B = {self.n_boot_frechet} resamples of the digits, seed means (digits only); "
                                   "each at the Holm-adjusted 95 % level over every comparison of this table; "
                                   "verdict: PSNR vs bicubic"}
            write_csv(outputs(f"tables/{self.name}.csv"), rows, command=command, notes=notes)
            write_timing(outputs(f"tables/{self.name}_timing.csv"), self.study.timing(), command=command)
        return rows

    def table(self, scores):
        """Rows (dicts) of bicubic, each variant, and HR (its accuracy only), from :meth:`scores`.

        Per row: seeds, budget_steps, ``<val|test>_<psnr|ssim>_mean`` / ``_std`` (over seeds), sharpness, accuracy
        and frechet ``_mean`` / ``_std`` (over seeds) with ``_low`` / ``_high`` (95 % interval of the seed mean over
        digits); per variant and reference (bicubic; 'mse_kl' for the others) and metric (psnr, ssim, accuracy,
        frechet): ``d_<metric>_vs_<ref>`` with ``_low`` / ``_high``, ``p_holm_<metric>_vs_<ref>``,
        ``verdict_<metric>_vs_<ref>``; ``verdict`` (PSNR vs bicubic, or 'failed to learn') and ``learned`` ('k of n').
        """
        hr = scores["HR"][0]["test"]
        scores = {v: runs for v, runs in scores.items() if v != "HR"}
        _, low, high, _ = paired_bootstrap(hr["correct"], self.n_boot)
        hr_row = {"variant": "HR", "seeds": "", "budget_steps": 0, "accuracy_mean": hr["correct"].mean(),
                  "accuracy_low": low, "accuracy_high": high}
        hr_feats = hr["features"]
        draws = np.random.default_rng(BOOT_SEED).integers(0, len(hr_feats), (self.n_boot_frechet, len(hr_feats)))
        hr_resampled = resampled_gaussians(hr_feats, draws)
        seed_mean = lambda v, m: np.mean([r["test"][m] for r in scores[v].values()], axis=0)  # noqa: E731
        fd = {v: (np.mean([frechet_distance(r["test"]["features"], hr_feats) for r in runs.values()]),
                  np.mean([frechet_resamples(r["test"]["features"], hr_resampled, draws) for r in runs.values()], 0))
              for v, runs in scores.items()}  # {variant: (seed mean, (B,) resampled seed means)}
        rows, tests = {}, {}
        for v, runs in scores.items():
            row = {"variant": v, "seeds": " ".join(str(s) for s in runs if s),
                   "budget_steps": self.study.budgets.get(v, 0)}
            for split in ("val", "test"):
                for m in ("psnr", "ssim"):
                    row[f"{split}_{m}_mean"], row[f"{split}_{m}_std"] = _ms([r[split][m].mean() for r in runs.values()])
            row["sharpness_mean"], row["sharpness_std"] = _ms([r["test"]["sharpness"] for r in runs.values()])
            row["accuracy_mean"], row["accuracy_std"] = _ms([r["test"]["correct"].mean() for r in runs.values()])
            _, row["accuracy_low"], row["accuracy_high"], _ = paired_bootstrap(seed_mean(v, "correct"), self.n_boot)
            row["frechet_mean"], row["frechet_std"] = _ms([frechet_distance(r["test"]["features"], hr_feats)
                                                           for r in runs.values()])
            _, row["frechet_low"], row["frechet_high"], _ = interval(*fd[v])
            rows[v] = row
        floor = float(scores["bicubic"][0]["test"]["psnr"].mean())
        good = {v: [s for s, r in scores[v].items() if r["test"]["psnr"].mean() > floor] for v in self.study.variants}
        good["bicubic"] = [0]
        for v in self.study.variants:
            n = len(scores[v])
            rows[v]["learned"] = f"{len(good[v])} of {n}"
            if len(good[v]) < MIN_SEEDS:
                rows[v]["verdict"] = "failed to learn" if not good[v] else f"{len(good[v])} of {n} learned: too few"
                continue
            for ref in ["bicubic"] + (["mse_kl"] if v != "mse_kl" and len(good.get("mse_kl", ())) >= MIN_SEEDS
                                      else []):
                for m, col in (("psnr", "psnr"), ("ssim", "ssim"), ("accuracy", "correct")):
                    tests[v, ref, m] = seeds_and_images(*(np.stack([scores[x][s]["test"][col] for s in good[x]])
                                                          for x in (v, ref)))
                tests[v, ref, "frechet"] = (fd[v][0] - fd[ref][0], fd[v][1] - fd[ref][1])
        p = [interval(*t)[3] if m == "frechet" else t_test(*t)[2] for (_, _, m), t in tests.items()]
        for ((v, ref, m), t), p_raw, p_adj in zip(tests.items(), p, holm(p), strict=True):
            level = ALPHA * p_raw / p_adj if p_adj > 0 else ALPHA  # the Holm-adjusted level: verdict = interval
            mean, low, high = interval(*t, level)[:3] if m == "frechet" else (t[0], *t_test(*t, level)[:2])
            key, word = f"d_{m}_vs_{ref}", verdict(low, high, WORDS[m])
            rows[v].update({key: mean, f"{key}_low": low, f"{key}_high": high, f"p_holm_{m}_vs_{ref}": float(p_adj),
                            f"verdict_{m}_vs_{ref}": word})
            if m == "psnr" and ref == "bicubic":
                rows[v]["verdict"] = word
        return [rows[v] for v in ("bicubic", *self.study.variants)] + [hr_row]


def _ms(values):
    mean, std = mean_std(values)
    return mean, None if np.isnan(std) else std
