"""What srlib upscale runs for a user: the default-model rule, srlib.upscale on arrays and files, a batch of inputs.

Rank 5, under the entry points only. May import every layer below (choose times videos through the video layer).

* ``choose``: the default model, in one place, from the cards: photo models of any training degradation ranked by the
  input's key, a card row: ``CLEAN`` (Set5, bicubic LR) for a clean image, ``JPEG`` (BSD100 ``bicubic_jpeg``) for a
  ``.jpg`` file, ``VIDEO`` (Vid4 ``bicubic_h264_clip``) for a video, a compressed key only where the clean pick has
  its row too (else the clean key, and the reason says so); ``image_input(path)`` (JPEG or not, its estimated quality:
  passed to the choice and stated in the reason, not yet a criterion); ``for_image(scale, jpeg, quality)`` /
  ``image_default`` (name, reason), ``for_video(scale, clip, fps, degrade)`` (the best that keeps up with the clip end
  to end, encoder included: ``clip_fps`` runs ``video``'s pipeline on its first frames here and now, on
  ``video_engine(name)``, which the run of the pick reuses; else the fastest at SRCNN's published quality)
* ``upscaling``: ``srlib.upscale()``: arrays and files as people have them (one pass or ``tiling``'s tiles, grey,
  alpha, 16 bits, first frame of several, the file's ICC profile and EXIF kept by ``upscale_file``, a size check
  before any work, a time estimate for long runs)
* ``batch``: a batch of ``srlib upscale`` inputs: files, folders and globs expanded, each given an output path or a
  one-line reason (an output that is an input or a link to one; two inputs with one output name)
"""
