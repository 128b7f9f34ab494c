"""Training a model: the recipe and the train entry, Keras fit with resume, several workers.

Rank 3 (beside video, which it may not import). May import the core, models, sources and inference.

* ``experiment``: ``Recipe`` (``learning_rate``, ``warm_start``, ``quantize='int8'`` for quantisation-aware training;
  older cards' ``lr`` / ``init`` / ``residual`` read under the new names), ``build``, ``datasets_for`` (a worker's
  ``shard``), ``step_pairs``, ``train`` (several workers when ``TF_CONFIG`` names them), ``best``, ``loss_fn``
* ``train``: ``fit()``: callbacks (plus the caller's), resume, ``tf.distribute``
* ``distributed``: multi-worker data-parallel training: ``fit``, a loop under ``MultiWorkerMirroredStrategy`` that
  calls each model's own ``train_step`` (``Step``), its data paired in the step; ``worker_strategy`` (one intra-op
  thread budget per worker), ``cluster`` / ``output_dir`` (from ``TF_CONFIG``; worker 0 the chief),
  ``scaled_learning_rate``; ``tf.train.CheckpointManager`` checkpoints and resume
"""
