"""The notebooks' research tools: studies (grid, per-image scores, equal-time budgets, the table view), their statistics
and committed evidence, the zoo report, figures by kind, digit recognition and studies, reproducing the notebooks.

Rank 4. May import every layer below: the core, models, sources, inference, training and video.

* ``study``: ``Study``: a grid of variants x seeds at one budget in steps; cached, resumable runs under
  ``runs/studies/``, scored on the validation split and the test set (a train x test matrix with
  ``test_degradations``, Vid4 ``clips``); ``results/tables/study_<notebook>_<question>.csv`` and ``<study>_runs.csv``;
  learning curves
* ``scoring``: per-image scores of a study: ``score_images`` (several upscalers, each image's LR made once),
  ``extra_metrics`` (colour, sharpness), ``cached_scores`` / ``clip_scores`` (each run's scores cached in its folder;
  a Vid4 clip degraded as one stream, ``CLIP_DEGRADATION``)
* ``budgets``: equal-time budgets in steps: ``step_rates`` (measured side by side), ``steps_for_equal_time`` (cached
  in ``runs/studies/<study>/step_rates.json``, ``RATES``, so the budget stays fixed as the study grows)
* ``study_view``: the notebooks' view of a study table: ``summary``, ``verdict_lines``, ``show``
* ``stats``: a study's statistics: paired bootstrap interval over images, Holm's adjustment, verdicts, the study table
  (mean ± std over seeds, differences to the baseline, the bicubic floor)
* ``evidence``: a study's committed evidence: every run's per-image scores and the study's definition (``of_study``,
  ``write``, ``read``), the tables rebuilt from them (``tabulate``, ``write_tables``, ``rebuild``)
* ``report``: the zoo benchmark of notebook 07: which models, 1080p timing, Pareto front, ``results/benchmark.csv`` /
  ``.md``
* ``image_plots``: ``comparison``: images pixel for pixel or at an integer nearest-neighbour zoom, never shrunk; PSNR
  / SSIM on every SR panel given HR; |SR - HR| maps
* ``curve_plots``: ``curves`` (a y label per panel, the validation set named), ``validation_set`` (what a run's
  ``val_*`` columns measured), ``study_curve`` (a study baseline's validation curve between bicubic and the shipped
  model)
* ``chart_plots``: ``heatmap`` (always a colour bar), ``label_points`` (no overlapping labels), ``bars``, ``save``
* ``recognise``: is an SR digit still its digit: a small digit classifier (trained on the other half than the one
  scored, seeded, cached under ``runs/digit_classifier/``), its predictions and penultimate features, the Fréchet
  distance of two feature sets (batched)
* ``digit_study``: chapter 05's digit studies (``DigitStudy``): the LR-conditioned digit CPPN with and without its
  discriminator on a ``Study``'s runs, scored per digit on the unseen half (PSNR / SSIM, sharpness, classifier
  accuracy, Fréchet distance), paired intervals against bicubic and between variants
* ``reproduce``: run the notebooks with papermill under a profile, location settings made absolute
"""
