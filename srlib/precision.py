"""Numeric precision and the machine it runs on: CPU flags, ``auto_precision``, dtype policies, precision cloning.

Shared by training (``set_precision``), inference and video (``with_precision``), and the
benchmarks and model cards (``machine``). bfloat16 pays only where the hardware has it:
on a CPU without AVX512-BF16 or AMX it is emulated and ESPCN trains about 10x slower
than in float32.
"""

import os
import platform
from pathlib import Path

import keras
import tensorflow as tf

BF16_FLAGS = {"avx512_bf16", "amx_bf16"}
INT8_FLAGS = {"avx512_vnni", "avx_vnni", "amx_int8"}  # int8 dot products in one instruction

PRECISIONS = {  # name: (dtype policy of the body, of the last weighted layer and what follows it)
    "float32": ("float32", "float32"),
    "mixed_bfloat16": ("mixed_bfloat16", "float32"),
    "bfloat16": ("mixed_bfloat16", "mixed_bfloat16"),
}


def cpu_flags(cpuinfo="/proc/cpuinfo"):
    """The CPU feature flags Linux reports in ``cpuinfo`` (an empty set where there is no such file)."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return set()
    return {f for line in text.splitlines() if line.startswith("flags") for f in line.split(":", 1)[1].split()}


def cpu_name(cpuinfo="/proc/cpuinfo"):
    """The CPU's model name from ``cpuinfo`` ('AMD EPYC', ...), else what ``platform`` knows."""
    try:
        lines = Path(cpuinfo).read_text().splitlines()
    except OSError:
        lines = []
    names = [ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")]
    return names[0] if names else platform.processor() or platform.machine()


def gpus():
    """Names of the GPUs TensorFlow sees (empty on a CPU-only machine)."""
    return [tf.config.experimental.get_device_details(g).get("device_name", g.name)
            for g in tf.config.list_physical_devices("GPU")]


def machine(cpuinfo="/proc/cpuinfo"):
    """One line for cards and CSV headers: CPU model, cores, bf16 support, int8 dot-product instructions (what int8
    models run on: VNNI or AMX, else AVX2), GPUs, TensorFlow version.

    e.g. ``"AMD EPYC, 2 cores, native bf16 (avx512_bf16), int8 avx512_vnni, no GPU, TF 2.21.0"``.
    """
    flags = cpu_flags(cpuinfo)
    native = sorted(flags & BF16_FLAGS)
    bf16 = f"native bf16 ({', '.join(native)})" if native else "no native bf16"
    dot = sorted(flags & INT8_FLAGS)
    int8 = f"int8 {', '.join(dot)}" if dot else f"int8 {'avx2' if 'avx2' in flags else 'without avx2'}"
    gpu = ", ".join(gpus()) or "no GPU"
    return f"{cpu_name(cpuinfo)}, {os.cpu_count()} cores, {bf16}, {int8}, {gpu}, TF {tf.__version__}"


def auto_precision():
    """The fastest training precision here: 'bf16', 'fp16' or 'fp32'.

    A GPU of compute capability 8.0+ gets 'bf16', an older one 'fp16'; a CPU gets
    'bf16' only with native bfloat16 (AVX512-BF16 or AMX), since elsewhere bfloat16
    is emulated and trains ESPCN about 10x slower than float32.
    """
    found = tf.config.list_physical_devices("GPU")
    if found:
        cc = tf.config.experimental.get_device_details(found[0]).get("compute_capability", (0, 0))
        return "bf16" if cc >= (8, 0) else "fp16"
    return "bf16" if cpu_flags() & BF16_FLAGS else "fp32"


def set_precision(mode):
    """Set the global Keras dtype policy: 'fp32', 'bf16' (mixed_bfloat16), 'fp16' (mixed_float16)
    or 'auto' (:func:`auto_precision`). Returns the policy name."""
    mode = auto_precision() if mode == "auto" else mode
    policy = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}[mode]
    keras.mixed_precision.set_global_policy(policy)
    return policy


def inference_precision(precision):
    """A key of :data:`PRECISIONS` for ``precision``; 'auto': 'mixed_bfloat16' where bf16 is native, else 'float32'."""
    if precision == "auto":
        precision = "mixed_bfloat16" if auto_precision() == "bf16" else "float32"
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)} or 'auto', not {precision!r}")
    return precision


def with_precision(model, precision):
    """Copy of ``model`` with the same weights, computing at ``precision`` (a key of :data:`PRECISIONS`).

    'float32': every layer float32 (whatever policy the model was saved or trained with).
    'mixed_bfloat16': layers before the last one with weights compute in bfloat16
    (float32 variables), that layer and those after it in float32 -- the output
    keeps float32 resolution.
    'bfloat16': every layer in bfloat16; the output is rounded to 8 significant
    bits, up to half a uint8 level near white.
    """
    body, head = PRECISIONS[precision]
    last = max(i for i, layer in enumerate(model.layers) if layer.weights)
    policy = {layer.name: body if i < last else head for i, layer in enumerate(model.layers)}

    def clone(layer):
        return layer.__class__.from_config({**layer.get_config(), "dtype": policy[layer.name]})

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy
