"""Run the numbered notebooks top to bottom with papermill, under a profile.

Each notebook has one cell tagged ``parameters`` holding ``profile = "quick"``;
papermill injects the chosen profile after it. Executed copies go to
``runs/<profile>/`` (git-ignored); the notebooks write what the report shows
under ``results/``.
"""

import time
from pathlib import Path

PROFILES = ("smoke", "quick", "full")
ROOT = Path(__file__).resolve().parent.parent


class NotebookFailed(RuntimeError):
    """A notebook raised; ``str()`` names the notebook, the cell and the error in one line."""


def notebooks(folder=None):
    """The numbered notebooks, in order."""
    folder = Path(folder or ROOT / "notebooks")
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


def run_notebook(path, profile, out_dir, parameters=None):
    """Execute one notebook with papermill; raise :class:`NotebookFailed` on an error."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    out = Path(out_dir) / Path(path).name
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        pm.execute_notebook(
            str(path),
            str(out),
            parameters={"profile": profile, **(parameters or {})},
            cwd=str(Path(path).parent),
            kernel_name="python3",
            progress_bar=False,
        )
    except PapermillExecutionError as e:
        first = (e.evalue or "").strip().splitlines()
        msg = first[0] if first else ""
        raise NotebookFailed(f"{Path(path).name}: cell {e.exec_count} failed: {e.ename}: {msg} (see {out})") from None
    return out


def reproduce(profile="quick", only=None, out_root=None, log=print):
    """Run every notebook (or those whose name contains one of ``only``) in order.

    Returns the list of executed notebook paths; raises :class:`NotebookFailed` at the first failure.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; one of {', '.join(PROFILES)}")
    out_dir = Path(out_root or ROOT / "runs") / profile
    books = [p for p in notebooks() if not only or any(o in p.name for o in only)]
    done = []
    for i, nb in enumerate(books, 1):
        t = time.perf_counter()
        log(f"[{i}/{len(books)}] {nb.name} ({profile}) ...", end="", flush=True)
        done.append(run_notebook(nb, profile, out_dir))
        log(f" ok in {time.perf_counter() - t:.0f} s")
    return done
