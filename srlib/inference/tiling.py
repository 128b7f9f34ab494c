"""Overlapping LR tiles: the one place where an image too large for one pass is split and put back together.

A tile is valid only if every output pixel it keeps sees the same input as in one pass over the whole image.
Two facts about the network make that hold, and both are read from its graph (:func:`reach`), never measured:

* its receptive radius: how many LR pixels away an input pixel can change an output pixel. Each convolution,
  pooling and resampling layer adds its own reach at its own resolution; a path's radius is the sum along it, the
  network's is the largest over paths. Tiles overlap by at least that much, so the part of a tile that is kept
  never sees the tile's edge.
* its total stride: an encoder that pools twice by 2 sees 4 x 4 blocks; a tile that starts at a pixel that is not
  a multiple of 4 pools other blocks than the whole image does. Tile origins are multiples of the stride (and of
  q for a non-integer scale p / q, so that an LR tile edge falls on an HR pixel edge).

:func:`plan` lays the tiles, :func:`auto_tile` picks the tile side from the image and the memory there is.
"""

import dataclasses
import math
from fractions import Fraction

CHROMA_RADIUS = 3  # MATLAB bicubic (Cb, Cr of a luma model; the bicubic upscaler): 2 taps each side, plus 1


@dataclasses.dataclass(frozen=True)
class Reach:
    """What tiling must know about a network.

    Attributes:
      radius: receptive radius in LR pixels (an upper bound, from the graph).
      stride: total downsampling inside the network; tile origins are multiples of it.
      bytes_per_pixel: estimated float32 activation bytes per LR pixel at the largest layer (times 3: its input,
        its output and a temporary), for choosing a tile side from memory.
    """

    radius: int
    stride: int = 1
    bytes_per_pixel: float = 64.0


# Layers that map each pixel to the same pixel (or merge equal-resolution tensors): they add nothing.
_POINTWISE = ("InputLayer", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
              "Activation", "ReLU", "PReLU", "LeakyReLU", "ELU", "Softmax", "BatchNormalization",
              "LayerNormalization", "Dropout", "SpatialDropout2D", "GaussianNoise", "Rescaling", "Dense",
              "Identity", "MatchSize", "Sampling", "Cropping2D", "FakeQuant")
# Layers that see the whole image: such a network cannot be tiled.
_GLOBAL = ("Flatten", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "CoordGrid", "Reshape")


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def conv_radius(kernel, dilation=1):
    """Reach of a convolution or pooling window of side ``kernel``, in pixels of its input: its half-width."""
    return math.ceil((kernel - 1) * dilation / 2)


SUBPIXEL_RADIUS = 1  # a pixel shuffle: one LR pixel, for rounding of the output grid


def _layer_step(layer, state):
    """(radius added in the layer's input pixels, resolution factor of its output over its input)."""
    kind, cfg = type(layer).__name__, layer.get_config()
    if kind == "Conv2DTranspose":
        k, s = max(_pair(cfg["kernel_size"])), max(_pair(cfg["strides"]))
        return math.ceil((k - 1) / 2 / s) + 1, s
    if kind in ("Conv2D", "SeparableConv2D", "DepthwiseConv2D", "QuantConv2D"):
        k, d, s = max(_pair(cfg["kernel_size"])), max(_pair(cfg["dilation_rate"])), max(_pair(cfg["strides"]))
        return conv_radius(k, d), 1 / s
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        return max(_pair(cfg["pool_size"])) - 1, 1 / max(_pair(cfg["strides"] or cfg["pool_size"]))
    if kind == "UpSampling2D":
        return 1, max(_pair(cfg["size"]))
    if kind == "SubPixelUpscale":
        return SUBPIXEL_RADIUS, layer.scale
    if kind == "ResizeUpscale":
        return (3 if layer.method == "bicubic" else 2), layer.scale
    if kind == "LocalQuery":  # the nearest latent and a bilinear base: one LR pixel each way, plus rounding
        return 2, 1
    if kind in _POINTWISE:
        return 0, 1
    if kind in _GLOBAL:
        raise ValueError(f"layer {layer.name} ({kind}) sees the whole image: the network cannot be tiled")
    raise ValueError(f"layer {layer.name} ({kind}): its receptive field is unknown to srlib.inference.tiling")


def _walk(model, states):
    """Propagate (radius in LR pixels, resolution factor over LR) from ``model.inputs`` to its outputs.

    ``states``: one per input, or None for a non-image input (query coordinates). Returns (output states, every
    image state seen inside, for the stride and memory estimates).
    """
    known = {id(t): s for t, s in zip(model.inputs, states, strict=True)}
    seen = [(s, t.shape[-1]) for t, s in zip(model.inputs, states, strict=True) if s is not None]
    pending = [(op, node) for op in model.operations for node in op._inbound_nodes
               if type(op).__name__ != "InputLayer"]
    while pending:
        ready = [(op, node) for op, node in pending if all(id(t) in known for t in node.input_tensors)
                 and not all(id(t) in known for t in node.output_tensors)]
        if not ready:
            break
        for op, node in ready:
            pending.remove((op, node))
            ins = [known[id(t)] for t in node.input_tensors]
            if hasattr(op, "operations"):  # a nested model
                outs, inner = _walk(op, ins)
                seen += inner
            else:
                images = [s for s in ins if s is not None]
                radius = max(r for r, _ in images)
                factor = min(f for _, f in images) if type(op).__name__ != "LocalQuery" else 1.0
                add, change = _layer_step(op, images)
                outs = [(radius + add / factor, factor * change)] * len(node.output_tensors)
            for t, s in zip(node.output_tensors, outs, strict=True):
                known[id(t)] = s
                if s is not None and len(t.shape) == 4:
                    seen.append((s, t.shape[-1]))
    return [known.get(id(t)) for t in model.outputs], seen


def reach(model):
    """:class:`Reach` of a Keras SR model from its graph: LR images (N, h, w, C) in (input 'lr' of a dict-input
    model; other inputs such as query coordinates are not images). Raises ValueError for a layer whose reach is
    unknown or global."""
    states = [(0.0, 1.0) if len(t.shape) == 4 else None for t in model.inputs]
    outs, seen = _walk(model, states)
    radius = max(r for r, _ in (s for s in outs if s is not None))
    stride = round(1 / min(f for (_, f), _ in seen))
    peak = max(f * f * (c or 1) for (_, f), c in seen)
    return Reach(math.ceil(radius - 1e-9), max(1, stride), activation_bytes(peak))


def activation_bytes(peak):
    """:attr:`Reach.bytes_per_pixel` from the largest activation's channels times its area over the input's:
    float32, times 3 (its input, its output and a temporary)."""
    return 3 * 4 * peak


def alignment(stride, scale):
    """Tile origins: multiples of the network's stride and of q for a scale p / q (LR and HR pixel edges meet)."""
    return math.lcm(stride, Fraction(scale).limit_denominator(16).denominator)


def auto_tile(h, w, bytes_per_pixel, budget):
    """LR tile side for an h x w image: the whole image when its activations fit in ``budget`` bytes, else the
    largest square tile that does (at least 64)."""
    if h * w * bytes_per_pixel <= budget:
        return max(h, w)
    return max(64, int(math.sqrt(budget / bytes_per_pixel)))


@dataclasses.dataclass(frozen=True)
class Tile:
    """One tile: the LR window it reads, ``src`` = (y0, y1, x0, x1) with its context, and the part it keeps,
    ``keep`` = (y0, y1, x0, x1) in LR pixels (the tiles' ``keep`` windows partition the image of ``size`` (h, w))."""

    src: tuple
    keep: tuple
    size: tuple


def plan(h, w, tile, overlap, align=1):
    """Tiles covering an h x w LR image: kept windows of side ``tile`` (rounded up to a multiple of ``align``)
    starting at multiples of it, each read with ``overlap`` more pixels each side (also a multiple of ``align``,
    so every read window starts on the network's block grid). One tile when ``tile`` covers the image."""
    t = max(align, -(-tile // align) * align)
    o = -(-overlap // align) * align
    tiles = []
    for y0 in range(0, h, t):
        for x0 in range(0, w, t):
            y1, x1 = min(y0 + t, h), min(x0 + t, w)
            src = (max(y0 - o, 0), min(y1 + o, h), max(x0 - o, 0), min(x1 + o, w))
            tiles.append(Tile(src, (y0, y1, x0, x1), (h, w)))
    return tiles


def batches(tiles, size):
    """``tiles`` in groups of at most ``size`` whose read windows have one shape (so they stack into a batch)."""
    shapes = {}
    for t in tiles:
        shapes.setdefault((t.src[1] - t.src[0], t.src[3] - t.src[2]), []).append(t)
    return [group[i : i + size] for group in shapes.values() for i in range(0, len(group), size)]


def hr_window(tile, scale, out_shape):
    """Where a tile's kept part goes: (rows, cols) slices in the output image (H, W, ...) and the same part in the
    tile's own output. The last row / column of tiles runs to the output's edge (side ceil(h * scale))."""
    (ya, _, xa, _), (y0, y1, x0, x1), (h, w) = tile.src, tile.keep, tile.size
    top, left = round(y0 * scale), round(x0 * scale)
    bottom = out_shape[0] if y1 == h else round(y1 * scale)
    right = out_shape[1] if x1 == w else round(x1 * scale)
    oy, ox = round((y0 - ya) * scale), round((x0 - xa) * scale)
    return ((slice(top, bottom), slice(left, right)),
            (slice(oy, oy + bottom - top), slice(ox, ox + right - left)))
