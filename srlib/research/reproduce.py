"""Run the numbered notebooks top to bottom with papermill, under a profile.

Each notebook has one cell tagged ``parameters`` holding ``profile = "quick"``;
papermill injects the chosen profile after it. Executed copies go to
``runs/<profile>/`` (git-ignored); what the report shows goes under ``results/``
through :class:`srlib.outputs.Outputs`, so a smaller profile never replaces
what a bigger one produced. The kernels run in ``notebooks/``, so location
settings (``SRLIB_DATA_DIR``, ...) are made absolute before they start.
"""

import contextlib
import logging
import os
import sys
import time
from pathlib import Path

from srlib import paths
from srlib.outputs import write_timing
from srlib.sources import datasets

ROOT = paths.ROOT
TRAIN_SETS, TEST_SETS = ("T91", "BSD200"), ("Set5", "Set14", "BSD100")

log = logging.getLogger(__name__)


class NotebookFailed(RuntimeError):
    """A notebook raised; ``str()`` names the notebook, the cell and the error in one line."""


def notebooks(folder=None):
    """The numbered notebooks, in order."""
    folder = Path(folder or ROOT / "notebooks")
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


@contextlib.contextmanager
def _quiet_kernel():
    """Kernels started inside get /dev/null as their OS-level stderr, where TensorFlow's C++ start-up messages go
    (no environment variable hides them in TF 2.21); this process keeps its stderr as ``sys.stderr``.
    Python errors in a kernel still reach papermill through the kernel protocol. Off with ``SRLIB_VERBOSE``."""
    if os.environ.get("SRLIB_VERBOSE"):
        yield
        return
    sys.stderr.flush()
    saved, old = os.dup(2), sys.stderr
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        sys.stderr = os.fdopen(os.dup(saved), "w", buffering=1)
        yield
    finally:
        sys.stderr.flush()
        sys.stderr.close()
        sys.stderr = old
        os.dup2(saved, 2)
        os.close(saved)


def run_notebook(path, profile, out_dir, parameters=None, progress=False):
    """Execute one notebook with papermill; raise :class:`NotebookFailed` on an error.

    ``progress``: a per-cell progress bar on stderr.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    out = Path(out_dir) / Path(path).name
    out.parent.mkdir(parents=True, exist_ok=True)
    os.environ.update(paths.absolute_env())  # the kernel inherits this process's environment
    # The kernel's own OS-level output is not copied into the notebook (ipykernel's capture_fd_output):
    # C++ libraries' messages stay out of the cells; print() and Python warnings still show there.
    quiet = [] if os.environ.get("SRLIB_VERBOSE") else ["--IPKernelApp.capture_fd_output=False"]
    try:
        with _quiet_kernel():
            pm.execute_notebook(
                str(path),
                str(out),
                parameters={"profile": profile, **(parameters or {})},
                cwd=str(Path(path).parent),
                kernel_name="python3",
                progress_bar=progress,
                extra_arguments=quiet,
            )
    except PapermillExecutionError as e:
        first = (e.evalue or "").strip().splitlines()
        msg = first[0] if first else ""
        raise NotebookFailed(f"{Path(path).name}: cell {e.exec_count} failed: {e.ename}: {msg} (see {out})") from None
    return out


def check_data():
    """Warn (in the terminal, before any notebook runs) about what the notebooks will do without some data.

    Returns the missing sets of :data:`TRAIN_SETS` and :data:`TEST_SETS`.
    """
    missing = [name for name in (*TRAIN_SETS, *TEST_SETS) if not datasets.is_present(name)]
    if set(missing) & set(TRAIN_SETS) or set(TEST_SETS) <= set(missing):
        log.warning("missing %s under %s: the notebooks fall back to scikit-image photos, and their numbers are "
                    "NOT benchmark numbers (see data/README.md; srlib data get %s)",
                    ", ".join(missing), paths.data_dir(), " ".join(missing))
    elif missing:
        log.warning("missing %s under %s: the tables leave those sets out (srlib data get %s)",
                    ", ".join(missing), paths.data_dir(), " ".join(missing))
    return missing


def reproduce(profile="quick", only=None, out_root=None, progress=True):
    """Run every notebook (or those whose name contains one of ``only``) in order.

    Returns the list of executed notebook paths; raises :class:`NotebookFailed` at the first failure. Each
    notebook's seconds go to ``<out_root>/<profile>/reproduce_timing.csv`` (outside ``results/``).
    """
    if profile not in paths.PROFILES:
        raise ValueError(f"unknown profile {profile!r}; one of {', '.join(paths.PROFILES)}")
    out_dir = Path(out_root or ROOT / "runs") / profile
    books = [p for p in notebooks() if not only or any(o in p.name for o in only)]
    log.info("data: %s", paths.data_dir())
    check_data()
    unmatched = [o for o in only or () if not any(o in p.name for p in notebooks())]
    if unmatched:
        raise ValueError(f"no notebook matches {', '.join(unmatched)} (notebooks: "
                         f"{', '.join(p.stem for p in notebooks())})")
    done, rows = [], []
    for i, nb in enumerate(books, 1):
        t = time.perf_counter()
        log.info("[%d/%d] %s (%s)", i, len(books), nb.name, profile)
        done.append(run_notebook(nb, profile, out_dir, progress=progress))
        rows.append({"notebook": nb.name, "seconds": round(time.perf_counter() - t, 1)})
        log.info("[%d/%d] %s ok in %.0f s", i, len(books), nb.name, rows[-1]["seconds"])
    write_timing(out_dir / "reproduce_timing.csv", rows, notes={"profile": profile})
    return done
