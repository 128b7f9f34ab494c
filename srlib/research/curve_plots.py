"""Curves: training logs (:func:`curves`) and a study baseline's learning curve (:func:`study_curve`).

:func:`curves` takes a y label (with its unit) for every panel and the name of the validation set for every
``val_*`` metric (:func:`validation_set`), and keeps the legend outside the panels. Each returns the matplotlib
Figure and, given ``path``, saves it (PNG, atomically).
"""

import matplotlib.pyplot as plt
import numpy as np

from srlib.research.chart_plots import save

LOG_METRICS = ("loss", "val_loss", "recon", "val_recon", "d_loss", "adv")  # drawn on a log axis


def curves(logs, panels, val=None, path=None, xlabel="epoch", styles=None, title=None, cols=None):
    """Training curves: one panel per logged metric, one line per run, one legend below the panels (never over
    the data).

    Args:
      logs: {run label: {metric: per-epoch values}} (a log CSV read with pandas, ``.to_dict("list")``).
      panels: {metric: (title, y label with its unit)}, e.g. ``{"val_psnr": ("validation PSNR", "PSNR-Y (dB)")}``;
        the metrics of :data:`LOG_METRICS` are drawn on a log axis.
      val: what the ``val_*`` metrics were measured on, in words (:func:`validation_set`): one string for every run
        (said in the panels' titles), or {run label: string} (said in the legend, and the titles say so); required
        for a ``val_*`` panel.
      styles: {run label: line properties} (e.g. one colour for the seeds of a variant); a ``label`` property
        replaces the run label in the legend, and runs with the same legend label share one entry.
      title: a line above the panels; cols: panels per row (default: all in one row).
    """
    if any(key.startswith("val_") for key in panels) and not val:
        raise ValueError("curves: a val_* panel needs val, the name of the validation set")
    for key, spec in panels.items():
        if len(spec) != 2 or not spec[1]:
            raise ValueError(f"curves: panel {key!r} needs (title, y label with its unit)")
    cols = cols or len(panels)
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.1 * rows + 0.6), squeeze=False, layout="constrained")
    entries = {}
    for ax, (key, (name, ylabel)) in zip(axes.ravel(), panels.items(), strict=False):
        for run, log in logs.items():
            if key not in log:
                continue
            style = dict((styles or {}).get(run, {}))
            label = style.pop("label", run)
            if isinstance(val, dict) and run in val:  # one legend entry per run, on every panel
                label += f" (validation: {val[run]})"
            (line,) = ax.plot(np.arange(1, len(log[key]) + 1), log[key], **style)
            entries.setdefault(label, line)
        where = val if isinstance(val, str) else "the validation set of each run (legend)"
        ax.set_title(f"{name}\non {where}" if key.startswith("val_") else name, fontsize=9)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if key in LOG_METRICS:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(panels) :]:
        ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=10)
    fig.legend(list(entries.values()), list(entries), loc="outside lower center", ncol=min(4, len(entries)),
               fontsize=8, frameon=False)
    return save(fig, path)


def validation_set(recipe):
    """What a run's ``val_*`` columns were measured on, in words, from its recipe (a card's ``recipe`` dict or a
    :class:`srlib.training.experiment.Recipe`), e.g. "10 images held out of T91 + BSD200" or "Set5 (a test set)"."""
    get = recipe.get if isinstance(recipe, dict) else lambda k: getattr(recipe, k)
    val, data = get("val"), list(get("data"))
    if val != "holdout":
        return f"{val} (a test set)"
    from srlib.data import HOLDOUT_IMAGES  # TensorFlow: only for held-out sets
    from srlib.sources.digits import DIGIT_VAL, MNIST_HALVES

    if set(data) <= set(MNIST_HALVES):
        return f"the last {DIGIT_VAL} digits of {' + '.join(data)}, held out"
    return f"{HOLDOUT_IMAGES} images held out of {' + '.join(data)}"


def study_curve(study, reference, path=None):
    """The learning curve of a :class:`srlib.research.study.Study`'s baseline: validation PSNR-Y against training steps
    (each seed and their mean) between bicubic and ``reference`` (a zoo name: the shipped model of the family, the
    long-run value) with the 80 % mark; prints the fraction of the way covered. The 80 % mark is a fraction of the way
    from bicubic up to the reference, so it is drawn only where the reference lies above the baseline's last mean
    (a way still to go); where the baseline ends at or above the reference, the figure and the printed line say by
    how much instead. Returns ``study.learning_curve``'s dict."""
    lc, r = study.learning_curve(reference=reference), study.recipe(study.baseline, study.seeds[0])
    c, n_val = lc["curve"], len(study.files[0])
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for s in study.seeds:
        ax.plot(c["step"], c[f"seed{s}"], color="tab:blue", alpha=0.3, lw=1)
    ax.plot(c["step"], c["mean"], "o-", ms=3, color="tab:blue",
            label=f"{study.baseline}: mean of seeds {', '.join(map(str, study.seeds))}")
    ax.axhline(lc["bicubic"], color="grey", ls=":", label=f"bicubic {lc['bicubic']:.2f} dB")
    end, ref = float(c["mean"].iloc[-1]), lc["reference"]
    above = end >= ref  # the baseline has reached the reference: no way left to measure a fraction of
    ax.axhline(ref, color="tab:red", ls="--", label=f"{reference} (shipped) {ref:.2f} dB"
               + (f": the baseline ends {end - ref:+.2f} dB above it, no 80 % mark" if above else ""))
    if not above:
        ax.axhline(lc["bicubic"] + 0.8 * (ref - lc["bicubic"]), color="tab:red", ls=":", lw=1,
                   label=f"80 % of the way from bicubic to {reference}")
    ax.set_xlabel(f"training steps (batch {r.batch}, {r.patch}x{r.patch} LR patches, x{r.scale})")
    ax.set_ylabel("validation PSNR-Y (dB)")
    held = "crops" if study.sources else " + ".join(r.data)
    ax.set_title(f"{study.name}: validation = {n_val} images held out of {held}", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    save(fig, path)
    if above:
        print(f"after {int(c['step'].iloc[-1]):,} steps the baseline's mean ({end:.2f} dB) is {end - ref:.2f} dB above "
              f"{reference} ({ref:.2f} dB) on the validation images: it has reached the reference (bicubic "
              f"{lc['bicubic']:.2f} dB)")
    else:
        print(f"after {int(c['step'].iloc[-1]):,} steps the baseline covers {lc['fraction']:.0%} of the way from "
              f"bicubic ({lc['bicubic']:.2f} dB) to {reference} ({ref:.2f} dB) on the validation images")
    return lc
