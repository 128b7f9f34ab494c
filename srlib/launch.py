"""Train a recipe on several workers: ``python -m srlib.launch [--workers N] RECIPE RUN_DIR``.

RECIPE is a JSON file holding a recipe (:meth:`srlib.training.experiment.Recipe.to_dict`), a run's ``run.json`` or a zoo
card.

* ``--workers N`` (one machine): starts N worker processes here, each with a ``TF_CONFIG`` that names all of them on
  free localhost ports and ``cores / N`` intra-op threads (``SRLIB_THREADS``); if one fails, the others are stopped.
* without it: this process is one worker of the cluster in the ``TF_CONFIG`` it was started with (the same command
  on every machine; worker 0 is the chief), or a plain single-process run when there is none.

Each worker calls :func:`srlib.training.experiment.train`, which trains through :mod:`srlib.training.distributed`. Run
the same command again after a worker died: the run resumes from the chief's last checkpoint.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_ports(n):
    """``n`` TCP ports free on 127.0.0.1 now."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def local_configs(workers):
    """The ``TF_CONFIG`` (JSON text) of each of ``workers`` processes on this machine."""
    cluster = {"worker": [f"127.0.0.1:{p}" for p in free_ports(workers)]}
    return [json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}) for i in range(workers)]


def start_workers(command, workers, threads=None):
    """Run ``command`` (argv) as ``workers`` local workers and wait; returns their exit codes (when one fails, the
    others, which would wait for it forever, are terminated). ``threads``: intra-op threads each (default:
    cores / N)."""
    threads = threads or max(1, (os.cpu_count() or 1) // workers)
    procs = [subprocess.Popen(command, env={**os.environ, "TF_CONFIG": config, "SRLIB_THREADS": str(threads)})
             for config in local_configs(workers)]
    while any(p.poll() is None for p in procs):
        if any(p.poll() not in (None, 0) for p in procs):
            for p in procs:
                if p.poll() is None:
                    p.terminate()
        time.sleep(0.5)
    return [p.returncode for p in procs]


def recipe_of(path):
    """The :class:`srlib.training.experiment.Recipe` in a JSON file: a recipe, a ``run.json`` or a card (its
    ``recipe``)."""
    from srlib.training.experiment import Recipe

    try:
        d = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise SystemExit(f"{path}: not a readable JSON file ({e})") from None
    return Recipe.from_dict(d.get("recipe", d))


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m srlib.launch", description=__doc__.splitlines()[0])
    p.add_argument("recipe", help="JSON file: a recipe, a run's run.json or a zoo card")
    p.add_argument("run_dir", help="run folder (the same path for every worker)")
    p.add_argument("--workers", type=int, default=1, help="start this many workers on this machine")
    p.add_argument("--threads", type=int, help="intra-op threads per worker (default: cores / workers)")
    p.add_argument("--data", nargs="+", help="image folders to train on instead of the recipe's sets")
    args = p.parse_args(argv)
    if args.workers > 1:
        if os.environ.get("TF_CONFIG"):
            raise SystemExit("--workers starts a cluster on this machine: unset TF_CONFIG")
        command = [sys.executable, "-m", "srlib.launch", args.recipe, args.run_dir, *(["--data", *args.data]
                                                                                          if args.data else [])]
        codes = start_workers(command, args.workers, args.threads)
        for i, code in enumerate(codes):
            print(f"worker {i}: exit status {code}", file=sys.stderr)
        return 1 if any(codes) else 0
    if args.threads:
        os.environ["SRLIB_THREADS"] = str(args.threads)
    from srlib.training.experiment import train

    _, log = train(recipe_of(args.recipe), args.run_dir, sources=args.data)
    print(log.tail(1).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
