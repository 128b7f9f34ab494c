"""Where training and test images come from: the public dataset registry, the MNIST digits, the arbitrary-scale
pipeline's data.

Rank 1 (beside models, which it may not import). May import the core only.

* ``datasets``: registry of public sets (source, citation, licence, file count; training: T91, BSD200, BSDS500_test,
  Kodak, DIV2K), download + cache into the data dir, scikit-image fallback photos; ``notebook_data`` (the folders a
  notebook trains and tests on under a profile); a registered clip as training data (``clip_frames``: its frames
  decoded once under ``runs/frames/``)
* ``digits``: MNIST digits for the global-form CPPN: the sets and test halves, their labels (``digit_labels``),
  ``digit_lr`` (the benchmark LR), generator inputs, ``datasets_for``, ``digit_scores``
* ``implicit_data``: the arbitrary-scale pipeline: LR patches + HR queries at random scales; whole-image validation
  pairs on the test LR; ``datasets_for`` of a local-form CPPN recipe
"""
