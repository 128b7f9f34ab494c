"""Statistics of a study: intervals over seeds and images, Holm's adjustment, verdicts, the table.

NumPy and SciPy (pandas for the table's input). A run is one (variant, seed); its scores are one value per
test image. A comparison of a variant with a baseline has two sources of uncertainty, and its interval counts
both:

- **seeds**: another seed trains another network; the seeds a study ran are a sample of those it could
  have run (a variant's seed 1 and the baseline's seed 1 share nothing but a number);
- **images**: the test set is a sample of the photos the method will meet; the same images are scored on
  both sides (paired).

:func:`seeds_and_images` estimates the variance of the mean difference from both (the moment estimates of a
two-way random-effects model, seeds x images, one per side) with Welch-Satterthwaite degrees of freedom, and
:func:`t_test` makes the t interval: with 3 seeds a side, a seed-to-seed spread gets the few degrees of freedom
it has, so an effect smaller than the spread between seeds gets an interval that holds 0 (a two-level bootstrap,
seeds then images, covers too little with 3 seeds when seeds dominate: three values cannot show their own
spread; ``tests/test_stats.py`` checks the coverage of this one on simulated nulls). With one run on a side
(bicubic) that side has no seed variation; with one value per run (only per-seed means kept) the interval is over
seeds only. :func:`paired_bootstrap` is for one run against one run and for statistics that are not means.

False positives: each comparison's two-sided p-value is adjusted with Holm's step-down method over every
comparison of one table, which keeps the probability of even one false "better" / "worse" in that table at or
below 5 %, whatever the dependence between comparisons. The interval a table reports is the t interval at the
Holm-adjusted level (1 - 0.05 p / p_holm), and the verdict is read from it, so an interval and its verdict never
disagree (:func:`compare`).

A run that failed to learn (test PSNR at or below bicubic's) is never averaged into a comparison: a variant's
row counts its learned runs ("2 of 3"), compares only those, and needs :data:`MIN_SEEDS` of them on each side;
the failure rate gets its own interval (:func:`failure_interval`).
"""

import math

import numpy as np
from scipy.stats import beta
from scipy.stats import t as student_t

N_BOOT = 10_000
BOOT_SEED = 0
ALPHA = 0.05
MIN_SEEDS = 3  # learned runs each side needs for a comparison
KEYS = ("variant", "seed", "split", "image")  # the columns of a score row that are not metrics


def seeds_and_images(a, b):
    """Mean difference of runs ``a`` minus runs ``b`` with its variance over seeds and images, and the variance's
    degrees of freedom: the moment estimates of a two-way random-effects model.

    Args:
      a, b: per-run, per-image scores, shapes (runs_a, n) and (runs_b, n), the same n images in the same order,
        no NaN; a side with one run (bicubic, or a single run) has no seed variation; n = 1 (only each run's
        mean kept) gives an interval over seeds only.

    Model, per side: score(seed s, image i) = mean + seed effect (variance sa2) + image effect + noise (se2); the
    image effect differs between the sides by the per-image true difference (variance sd2). The estimate
    D = mean over images of (mean over a's runs - mean over b's runs) has variance
    sa2_a / runs_a + sa2_b / runs_b + (se2_a / runs_a + se2_b / runs_b) / n + sd2 / n, estimated as
    var(run means of a) / runs_a + var(run means of b) / runs_b (the seeds and the noise) plus
    max(0, var_i(d_i) - res_a / runs_a - res_b / runs_b) / n (the images: the per-image differences of run means
    d_i, less the noise the run means already count; res is the seed x image residual mean square).
    Degrees of freedom: Welch-Satterthwaite over the three parts (runs - 1 and n - 1).

    Returns (D, variance, degrees of freedom); df is inf when the variance is 0.
    """
    a, b = (np.atleast_2d(np.asarray(x, np.float64)) for x in (a, b))
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or not a.size or not b.size:
        raise ValueError(f"need (runs, images) arrays over the same images, got {a.shape} and {b.shape}")
    if np.isnan(a).any() or np.isnan(b).any():
        raise ValueError("scores hold NaN")
    n = a.shape[1]
    parts = []  # (variance, degrees of freedom)
    residual = 0.0
    for x in (a, b):
        if len(x) > 1:
            parts.append((x.mean(axis=1).var(ddof=1) / len(x), len(x) - 1))
            if n > 1:
                res = x - x.mean(axis=1, keepdims=True) - x.mean(axis=0) + x.mean()
                residual += (res**2).sum() / ((len(x) - 1) * (n - 1)) / len(x)
    d = a.mean(axis=0) - b.mean(axis=0)
    if n > 1:
        parts.append((max(0.0, d.var(ddof=1) - residual) / n, n - 1))
    var = float(sum(v for v, _ in parts))
    df = var**2 / sum(v**2 / k for v, k in parts) if var > 0 else math.inf
    return float(d.mean()), var, float(df)


def t_test(d, var, df, alpha=ALPHA):
    """(low, high, p): the two-sided 1 - alpha t interval of estimate ``d`` with variance ``var`` on ``df`` degrees of
    freedom, and its two-sided p-value (1 for a zero estimate of zero variance, 0 for a non-zero one)."""
    if var == 0:
        return d, d, 1.0 if d == 0 else 0.0
    se = math.sqrt(var)
    half = float(student_t.ppf(1 - alpha / 2, df)) * se
    return d - half, d + half, float(2 * student_t.sf(abs(d) / se, df))


def paired_bootstrap(diff, n_boot=N_BOOT, seed=BOOT_SEED, chunk=1_000):
    """Mean of ``diff`` with its 95 % percentile-bootstrap interval over images and two-sided bootstrap p-value:
    for one run against one run, and for statistics that are not means of per-image scores.

    Args:
      diff: per-image differences, shape (n,), n >= 1, no NaN.
      n_boot: resamples B, each n indices drawn with replacement.
      seed: seed of the NumPy generator (same data and seed -> the same numbers, to the bit).
      chunk: resamples drawn at once (bounds memory to chunk x n indices; the draws do not depend on it).

    Returns:
      (mean, low, high, p): low / high are the 2.5 / 97.5 percentiles (linear interpolation) of the B
      resampled means; p = min(1, 2 (min(#{means <= 0}, #{means >= 0}) + 1) / (B + 1)), the two-sided
      bootstrap p-value with the add-one correction (never 0).
    """
    diff = np.asarray(diff, np.float64)
    if diff.ndim != 1 or not len(diff) or np.isnan(diff).any():
        raise ValueError(f"paired_bootstrap: need a 1-D vector of per-image differences without NaN, got {diff.shape}")
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        stop = min(start + chunk, n_boot)
        means[start:stop] = diff[rng.integers(0, len(diff), (stop - start, len(diff)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    tail = min(int((means <= 0).sum()), int((means >= 0).sum()))
    return float(diff.mean()), float(low), float(high), min(1.0, 2.0 * (tail + 1) / (n_boot + 1))


def holm(pvalues):
    """Holm's step-down adjustment of ``pvalues`` (any order; returned in the same order).

    Sorted ascending, the k-th smallest (k = 1..m) becomes max over j <= k of min(1, (m - j + 1) p_(j)).
    Rejecting where the adjusted value is below alpha controls the family-wise error rate at alpha.
    """
    p = np.asarray(pvalues, np.float64)
    order = np.argsort(p, kind="stable")
    m = len(p)
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out


def verdict(low, high, words=("better", "worse")):
    """``words[0]`` when the interval lies above 0, ``words[1]`` when below, otherwise 'no measurable difference'."""
    return words[0] if low > 0 else words[1] if high < 0 else "no measurable difference"


def compare(pairs, words=None):
    """Every comparison of one family (a table), Holm-adjusted together.

    Args:
      pairs: {key: (a, b)} as :func:`seeds_and_images` takes them.
      words: {key: (above, below)} verdict words; default ('better', 'worse').

    Returns {key: {'d', 'low', 'high', 'df', 'p_holm', 'verdict'}}: the estimate, its t interval at the
    Holm-adjusted level (1 - alpha p / p_holm: the plain 95 % interval for a family of one; it excludes 0 exactly
    when p_holm < alpha) and the verdict read from it.
    """
    est = {key: seeds_and_images(a, b) for key, (a, b) in pairs.items()}
    p = [t_test(*e)[2] for e in est.values()]
    out = {}
    for (key, (d, var, df)), p_raw, p_adj in zip(est.items(), p, holm(p), strict=True):
        low, high, _ = t_test(d, var, df, ALPHA * p_raw / p_adj if p_adj > 0 else ALPHA)
        out[key] = {"d": d, "low": low, "high": high, "df": df, "p_holm": float(p_adj),
                    "verdict": verdict(low, high, (words or {}).get(key, ("better", "worse")))}
    return out


def failure_interval(failed, runs, alpha=ALPHA):
    """(low, high): the exact (Clopper-Pearson) 1 - alpha interval of the probability that a run fails to learn,
    from ``failed`` of ``runs`` runs (0 of 3 gives (0, 0.71): three good seeds do not show a design is reliable)."""
    low = 0.0 if failed == 0 else float(beta.ppf(alpha / 2, failed, runs - failed + 1))
    high = 1.0 if failed == runs else float(beta.ppf(1 - alpha / 2, failed + 1, runs - failed))
    return low, high


def mean_std(values):
    """(mean, sample standard deviation, ddof 1) of the seeds' values; std is NaN for one seed."""
    values = np.asarray(values, np.float64)
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else float("nan")


def _signed(values):
    return " ".join("failed" if v is None else f"{v:+.3f}" for v in values)


def table(scores, baseline, budgets, learned=None):
    """The study's rows (dicts, bicubic first, then ``budgets``' order) from per-image ``scores``.

    Args:
      scores: DataFrame with columns variant, seed, split ('val' / 'test'), image and one column per
        metric (psnr and ssim first); bicubic's rows have variant 'bicubic' (seed 0). Every run must have
        scores on the same test images.
      baseline: the variant the others are compared with.
      budgets: {variant: training steps}, in table order.
      learned: {(variant, seed): bool}; default: the run's test PSNR above bicubic's in ``scores`` (a matrix
        passes what each run did on its own training LR, so no column hides a run that learned).

    Returns per variant: ``seeds`` (its runs), ``learned`` ('k of n'), ``failed_low`` / ``failed_high`` (the
    failure rate's 95 % interval, :func:`failure_interval`), budget_steps, ``<split>_<metric>_mean`` / ``_std``
    over its learned runs (over all runs when none learned), and against the baseline per test metric
    ``d_<metric>`` (mean difference over learned runs and images), ``_low`` / ``_high`` (interval over seeds and
    images at the Holm-adjusted level, :func:`compare`), ``p_holm_<metric>``, ``d_<metric>_seeds`` (the per-seed
    differences, seed k minus the baseline's seed k, 'failed' where either run failed) and ``verdict`` (PSNR:
    'better' / 'worse' / 'no measurable difference' / 'failed to learn' / 'k of n learned: too few to compare')
    or ``verdict_<metric>`` ('higher' / 'lower' / ...).
    """
    metrics = [c for c in scores.columns if c not in KEYS]
    if baseline not in budgets:
        raise ValueError(f"baseline {baseline!r} is not one of the variants ({', '.join(budgets)})")
    test = scores[scores["split"] == "test"]
    per_run = {v: {int(s): g.set_index("image")[metrics] for s, g in test[test["variant"] == v].groupby("seed")}
               for v in ["bicubic", *budgets]}
    floor = float(test[test["variant"] == "bicubic"]["psnr"].mean())
    if learned is None:
        learned = {(v, s): float(df["psnr"].mean()) > floor for v in budgets for s, df in per_run[v].items()}
    good = {v: [s for s in per_run[v] if learned[v, s]] if v != "bicubic" else [0] for v in per_run}
    rows = {}
    for v in ["bicubic", *budgets]:
        mine = scores[scores["variant"] == v]
        if mine.empty:
            raise ValueError(f"no scores for variant {v!r}")
        seeds = sorted(int(s) for s in mine["seed"].unique())
        row = {"variant": v, "seeds": " ".join(str(s) for s in seeds if s > 0)}
        if v != "bicubic":
            row.update(learned=f"{len(good[v])} of {len(seeds)}", **dict(zip(
                ("failed_low", "failed_high"), failure_interval(len(seeds) - len(good[v]), len(seeds)), strict=True)))
        row["budget_steps"] = budgets.get(v, 0)
        kept = mine[mine["seed"].isin(good[v] or seeds)]
        for split in ("val", "test"):
            per_seed = kept[kept["split"] == split].groupby("seed")[metrics].mean()
            for m in metrics:  # a split without scores (a clip has no validation frames): None
                mean, std = mean_std(per_seed[m]) if len(per_seed) else (None, float("nan"))
                row[f"{split}_{m}_mean"], row[f"{split}_{m}_std"] = mean, None if math.isnan(std) else std
        rows[v] = row
    compared = [v for v in budgets if v != baseline and len(good[v]) >= MIN_SEEDS <= len(good[baseline])]
    pairs = {}
    for v in compared:
        images = per_run[baseline][good[baseline][0]].index
        if not all(per_run[x][s].index.equals(images) for x in (v, baseline) for s in good[x]):
            raise ValueError(f"{v!r} and {baseline!r} were scored on different test images")
        for m in metrics:
            pairs[v, m] = tuple(np.stack([per_run[x][s][m].to_numpy() for s in good[x]]) for x in (v, baseline))
    words = {(v, m): ("better", "worse") if m == "psnr" else ("higher", "lower") for v, m in pairs}
    results = compare(pairs, words)
    for v in budgets:
        row = rows[v]
        for m in metrics:
            r = results.get((v, m), dict.fromkeys(("d", "low", "high", "p_holm", "verdict")))
            per_seed = [float(per_run[v][s][m].mean() - per_run[baseline][s][m].mean())
                        if learned.get((v, s)) and learned.get((baseline, s)) else None
                        for s in sorted(per_run[v]) if s in per_run[baseline]]
            row.update({f"d_{m}": r["d"], f"d_{m}_low": r["low"], f"d_{m}_high": r["high"], f"p_holm_{m}": r["p_holm"],
                        f"d_{m}_seeds": _signed(per_seed) if v != baseline else None})
            if m == "psnr":
                row["verdict"] = r["verdict"] or _why_not(v, baseline, good, row["learned"], rows[baseline]["learned"])
            else:
                row[f"verdict_{m}"] = r["verdict"]
    return [rows["bicubic"]] + [rows[v] for v in budgets]


def _why_not(variant, baseline, good, mine, theirs):
    """The verdict of a row that was not compared."""
    if variant == baseline:
        return "baseline" if len(good[baseline]) >= MIN_SEEDS else f"baseline: {theirs} learned, too few to compare"
    if not good[variant]:
        return "failed to learn"
    if len(good[variant]) < MIN_SEEDS:
        return f"{mine} learned: too few to compare"
    return f"baseline {theirs} learned: too few to compare"
