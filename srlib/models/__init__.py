"""Model builders, one module per family, and what a model costs.

Rank 1 (beside sources, which it may not import). May import the core only (``layers``, ``metrics``).

* ``<family>.<family>(scale, channels, **args)``: ``espcn``, ``cnn`` (FSRCNN family, transposed-convolution decoder),
  ``autoencoder`` (skips, pre- or post-upsampling), ``vae`` (the ``VAE`` model class), ``cppn_gan`` (encoder -> CPPN,
  optional discriminator; tiled ``render``), ``rtsr`` (the quantisation-friendly real-time network). Shipped
  ``.keras`` files name these modules and their registered Keras classes: neither moves nor is renamed.
* ``cost``: multiply-adds per output pixel of any model, plain or arbitrary-scale (``macs_per_output_pixel``).
"""
