"""Where an int8 model loses its decibels: each fake-quantisation of a QAT model switched off alone, on Set5.

    python benchmarks/int8_loss.py [RUN_OR_KERAS_FILE] [--sets Set5 Set14]

The model is a :func:`srlib.quant.quantize_model` d checkpoint (default: the newest ``best.keras`` of a ``*_int8``
run under ``$SRLIB_RUNS``). For each :class:`srlib.quant.FakeQuant` layer in turn the model is cloned with that layer
replaced by the identity (its weights, and every other range, kept), and scored by the benchmark harness
(:func:`srlib.inference.cards.benchmark_rows`, the float Keras model: the fake-quant arithmetic the int8 engine matches
to a grey level); then with every activation quantiser off (the weights stay on the int8 grid). The difference to the
all-on row is what that quantiser costs. Prints a table; writes nothing.
"""

import argparse
import math
from pathlib import Path

import keras

from srlib import paths
from srlib.inference import zoo
from srlib.inference.cards import benchmark_rows
from srlib.inference.infer import ModelUpscaler
from srlib.layers import SubPixelUpscale
from srlib.quant import FakeQuant
from srlib.sources import datasets


def without(model, names):
    """A copy of ``model`` with the FakeQuant layers named in ``names`` replaced by the identity."""
    clone = keras.models.clone_model(
        model, clone_function=lambda layer: keras.layers.Identity(name=layer.name) if layer.name in names
        else layer.__class__.from_config(layer.get_config()))
    for layer in clone.layers:
        if layer.weights:
            layer.set_weights(model.get_layer(layer.name).get_weights())
    return clone


def newest_qat():
    """The newest ``best.keras`` of a ``*_int8`` QAT run under ``$SRLIB_RUNS``."""
    runs = sorted(paths.runs_dir().glob("*_int8/best.keras"), key=lambda f: f.stat().st_mtime)
    if not runs:
        raise SystemExit(f"no *_int8/best.keras under {paths.runs_dir()}: train one with benchmarks/int8_model.py")
    return runs[-1]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", nargs="?", help="a QAT .keras file or its run folder (default: the newest *_int8 run)")
    p.add_argument("--sets", nargs="+", default=["Set5"])
    args = p.parse_args()
    file = Path(args.model) if args.model else newest_qat()
    model = zoo.load_file(file / "best.keras" if file.is_dir() else file)
    quants = [layer.name for layer in model.layers if isinstance(layer, FakeQuant)]
    if not quants:
        raise SystemExit(f"{file}: no FakeQuant layer (not a quantisation-aware model)")
    sets = {s: datasets.require(s) for s in args.sets}
    scale = math.prod(layer.scale for layer in model.layers if isinstance(layer, SubPixelUpscale))

    def score(m):
        return [r["psnr"] for r in benchmark_rows(ModelUpscaler(m, scale), scale, sets)]

    print(f"{paths.display(file)}: PSNR-Y (dB) x{scale}, {', '.join(args.sets)}")
    base = score(model)
    print(f"{'all quantisers on':32s} " + " ".join(f"{v:6.2f}" for v in base))
    for name in quants + ["every activation quantiser"]:
        off = quants if name.startswith("every") else [name]
        got = score(without(model, set(off)))
        print(f"{name + ' off':32s} " + " ".join(f"{v:6.2f} ({v - b:+.2f})" for v, b in zip(got, base, strict=True)))


if __name__ == "__main__":
    main()
