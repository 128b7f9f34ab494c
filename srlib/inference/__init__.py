"""Running trained models: the zoo of shipped models and their cards, the upscalers, tiling, the TFLite engine (and the
int8 export), the video frame engine, a JPEG's quality.

Rank 2. May import the core, models and sources.

* ``zoo``: the shipped models: ``.keras`` files (an int8 model: its fake-quant Keras twin, and the ``.tflite`` it runs
  on beside it, named by its card's ``extra.engine_file``, ``engine_file(name)``; a ``.tflite`` alone is a model too)
  and their cards in ``paths.weights_dir()``, each card read as a ``Card`` (frozen; one schema, ``CARD_KEYS``: name,
  scale or None for arbitrary-scale, scales, task, degradation, cost, ``trained_on`` / ``scored_on`` machines,
  benchmark rows of exactly ``dataset, scale, lr, psnr, ssim``, ``psnr(dataset, scale)``); listing reads cards only
  (no TensorFlow); loading imports the srlib modules a file's config names
* ``cards``: shipping and scoring a model: ``export`` (``.keras`` (+ ``.tflite`` for an int8 model) + card + log into
  the zoo, the card checked against ``zoo.Card``'s schema, listed in ``provenance.json`` when shipped into
  ``results/``), ``benchmark_rows``, ``compressed_rows`` (BSD100 JPEG q50, Vid4 H.264 CRF 28 pooled), ``rescored`` /
  ``write_card`` (a card's rows measured again from its weights; ``benchmarks/rescore_cards.py``), ``digit_rows``
* ``infer``: still-image upscalers, each one untiled pass with a ``reach`` (``Bicubic``, ``ModelUpscaler`` for any
  Keras model on single images or batches, ``LiteUpscaler`` for a ``.tflite`` (int8) model at each image's own size,
  ``ImplicitUpscaler`` for arbitrary-scale models), ``luma_merge`` (the one Y + chroma recombination),
  ``load_upscaler``, ``load_net`` (a Keras model or a ``LiteFile``)
* ``tiling``: overlapping LR tiles, the one place an image is split: ``reach(model)`` reads the receptive radius and
  total stride from the graph (each convolution, pooling and resampling layer adds its reach at its own resolution;
  unknown or global layers refuse), ``plan`` lays tiles on the network's block grid, ``auto_tile`` picks the side from
  memory, ``hr_window`` places a tile's kept part
* ``lite``: TFLite models run by XNNPACK through the LiteRT interpreter (pinned; ``tf.lite.Interpreter`` is
  deprecated): a Keras model at one fixed input shape (``LiteNet``), a ``.tflite`` file or its bytes at any input
  shape (``LiteFile``, the int8 engine: float32 callers quantised at its int8 edges in NumPy, uint8 frames run as they
  are by ``grey_levels``; its ``reach`` and ``scale`` read from the graph's ops by ``tiling``'s per-layer rules),
  ``convert`` (Keras -> flatbuffer, the one converter call); TensorFlow's export and delegate notices hidden unless
  ``SRLIB_VERBOSE``; ``to_tflite`` (a fake-quant model of ``srlib.quant`` -> its int8 flatbuffer, int8 from edge to
  edge)
* ``frames``: the video frame engine ``FastLuma`` (split, network, merge per frame shape; TFLite or TensorFlow) with
  the one I420 path (``split_i420``, ``I420Merge``; luma stays uint8 from decoder to encoder for a model with
  grey-level int8 edges)
* ``jpeg_quality``: the IJG quality a JPEG file was saved at, from its quantisation tables (``jpeg_quality(path)``:
  the Annex K tables scaled by q nearest to the file's; None for a non-JPEG)
"""
