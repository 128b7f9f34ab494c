"""Whole videos: decode -> network -> encode in threads, and the labelled comparison panels. (Containers are the core's
videoio; the frame engine is inference.frames.)

Rank 3 (beside training, which it may not import). May import the core, models, sources and inference.

* ``pipe``: stage threads joined by bounded queues: a shared stop flag, the first error, busy seconds per stage
* ``pipeline``: decode -> network -> encode of a whole video in three threads (``pipe``), scored through ``evaluate``;
  ``upscale_video``
* ``panels``: ``compose``: labelled side-by-side panels at native size, each under a label burned in with PIL;
  ``Animation``: the bicubic | SR | HR animation of ``pipeline.upscale_video(animation=...)``
"""
