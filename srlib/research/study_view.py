"""The notebooks' view of a study table (:meth:`srlib.research.study.Study.run`'s rows): :func:`summary` (the main
columns as a DataFrame), :func:`verdict_lines` (one line per variant: its difference to the baseline with its interval,
and the verdict) and :func:`show` (both, or why there is nothing to show).
"""

import pandas as pd


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
    """Print a study's verdict lines (PSNR, SSIM and those of the ``extra`` metrics its table has) and return its
    :func:`summary`; for no rows (the quick profile without committed evidence) say so and return None."""
    if rows is None:
        print("no committed evidence of this study yet: `python benchmarks/run_studies.py` trains it (full profile)")
        return None
    missing = [m for m in extra if not any(f"d_{m}" in r for r in rows)]
    if missing:  # evidence recovered from per-run means keeps PSNR and SSIM only
        print(f"not in this table's evidence: {', '.join(missing)}")
    extra = tuple(m for m in extra if m not in missing)
    print("\n".join(verdict_lines(rows, baseline, ("psnr", "ssim", *extra))))
    return summary(rows, extra)
