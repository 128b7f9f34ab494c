"""srlib.precision: CPU flags, auto_precision, the machine line, precision cloning."""

import numpy as np
import pytest
import tensorflow as tf

from srlib import precision
from srlib.models.espcn import espcn
from srlib.precision import set_precision, with_precision


@pytest.mark.parametrize(
    "flags, gpus, cc, expected",
    [({"avx2", "fma"}, 0, None, "fp32"), ({"avx512f", "avx512_bf16"}, 0, None, "bf16"),
     ({"amx_bf16", "amx_tile"}, 0, None, "bf16"), (set(), 1, (7, 5), "fp16"), (set(), 1, (9, 0), "bf16")],
)
def test_auto_precision_follows_hardware(monkeypatch, flags, gpus, cc, expected):
    """bf16 only where it is native (CPU flags, or a GPU of compute capability 8+); fp16 on older GPUs."""
    monkeypatch.setattr(precision, "cpu_flags", lambda: flags)
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: ["gpu"] * gpus if kind == "GPU" else [])
    monkeypatch.setattr(tf.config.experimental, "get_device_details", lambda d: {"compute_capability": cc})
    assert precision.auto_precision() == expected
    try:
        assert set_precision("auto") == {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}[expected]
    finally:
        set_precision("fp32")


def test_cpu_flags_parses_cpuinfo(tmp_path):
    """The union of every core's 'flags' line; Intel's 'vmx flags' line is not CPU features."""
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 amx_bf16\nvmx flags\t: ept vpid\n\n"
                    "processor\t: 1\nflags\t\t: fpu avx2 avx512_bf16\n")
    assert precision.cpu_flags(info) == {"fpu", "avx2", "amx_bf16", "avx512_bf16"}
    assert precision.cpu_flags(tmp_path / "missing") == set()


def test_machine_line_names_cpu_cores_bf16_and_int8(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: Test CPU 9000\nflags\t\t: fpu avx2 avx512_bf16\n")
    line = precision.machine(info)
    assert line.startswith("Test CPU 9000, ") and "cores" in line and "native bf16 (avx512_bf16)" in line
    info.write_text("processor\t: 0\nmodel name\t: Old CPU\nflags\t\t: fpu avx2\n")
    assert "no native bf16, int8 avx2," in precision.machine(info)
    info.write_text("processor\t: 0\nmodel name\t: New CPU\nflags\t\t: fpu avx2 avx512_vnni amx_int8 amx_bf16\n")
    assert "native bf16 (amx_bf16), int8 amx_int8, avx512_vnni," in precision.machine(info)


def test_with_precision_float32_copy_keeps_weights_and_output():
    """A float32 clone of a model has the same weights and computes the same output; the original is untouched."""
    model = espcn(3, filters=(4, 4))
    copy = with_precision(model, "float32")
    assert copy is not model and all(layer.dtype_policy.name == "float32" for layer in copy.layers)
    x = np.random.default_rng(0).random((1, 6, 7, 1)).astype(np.float32)
    np.testing.assert_allclose(copy(x), model(x), atol=1e-6)
    with pytest.raises(ValueError, match="precision"):
        precision.inference_precision("int8")
