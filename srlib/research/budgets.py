"""Equal-time budgets stated in steps: training steps per second of several recipes measured side by side
(:func:`step_rates`), and the steps each gets in the same time (:func:`steps_for_equal_time`), cached in a study's
``step_rates.json`` (:data:`RATES`) so the budget stays fixed as the study grows across sessions.
"""

import json
import logging
import time
from pathlib import Path

import keras

from srlib.io import write_json
from srlib.precision import machine, set_precision
from srlib.training import experiment

log = logging.getLogger(__name__)

RATES = "step_rates.json"  # in a study's folder: the step rates its equal-time budget was converted with


def step_rates(recipes, probe_steps=300, rounds=5, sources=None):
    """Training steps per second of each of ``recipes`` ({name: Recipe}), measured side by side in this process.

    Every model is built, compiled and warmed up (5 untimed steps: tracing), then ``rounds`` times in turn
    each runs ``probe_steps / rounds`` steps on its own training data (``train_on_batch``: one compiled step
    per Python call, as ``fit`` runs them), so a change in machine load hits all variants alike.
    Returns {name: steps per second}.
    """
    runs = {}
    for name, recipe in recipes.items():
        set_precision(recipe.precision)
        try:
            model = experiment.build(recipe)
            model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=experiment.loss_fn(recipe.loss))
        finally:
            set_precision("fp32")
        batches = iter(experiment.datasets_for(recipe, sources)[0])
        for _ in range(5):
            model.train_on_batch(*next(batches))
        runs[name] = (model, batches)
    seconds = dict.fromkeys(recipes, 0.0)
    chunk = max(1, probe_steps // rounds)
    for _ in range(rounds):
        for name, (model, batches) in runs.items():
            t = time.perf_counter()
            for _ in range(chunk):
                model.train_on_batch(*next(batches))
            seconds[name] += time.perf_counter() - t
    return {name: chunk * rounds / s for name, s in seconds.items()}


def steps_for_equal_time(recipes, seconds, probe_steps=300, multiple=1, sources=None, cache=None):
    """{name: training steps that fit in ``seconds`` of training at the rate :func:`step_rates` measures},
    rounded down to a multiple of ``multiple`` (a study's ``epochs``): an equal-time budget stated in steps, so
    the study is reproducible on any machine (the rates, and so the steps, are this machine's: state them).

    ``seconds``: a number, or (name, steps): as long as ``steps`` steps of ``recipes[name]`` take, which then keeps
    exactly ``steps`` (the budget depends only on the ratio of the rates, not on the machine's speed or load).
    ``cache``: a JSON file (a study's ``step_rates.json``, :data:`RATES`): when it exists the rates are read from it,
    so a study that grows across sessions keeps the budget it started with; else they are measured and written
    there with the recipes and the machine. Different recipes than the cached ones raise ValueError.
    """
    path = Path(cache) if cache is not None else None
    want = {name: r.to_dict() for name, r in recipes.items()}
    if path is not None and path.exists():
        probe = json.loads(path.read_text())
        if probe["recipes"] != want:
            raise ValueError(f"{path}: holds the rates of other recipes; delete it to measure them again")
        rates = probe["steps_per_s"]
    else:
        rates = step_rates(recipes, probe_steps, sources=sources)
        if path is not None:
            write_json(path, {"steps_per_s": rates, "probe_steps": probe_steps, "machine": machine(), "recipes": want})
    log.info("training steps per second: %s", ", ".join(f"{n} {r:.1f}" for n, r in rates.items()))
    if isinstance(seconds, tuple | list):
        anchor, steps = seconds
        seconds = steps / rates[anchor]
    # rounded to 1e-6 first: the anchor's steps / rate * rate may come back a hair below ``steps``
    return {name: max(multiple, int(round(seconds * rate, 6)) // multiple * multiple) for name, rate in rates.items()}
