"""Silence what TensorFlow's C++ code writes straight to the process's stdout / stderr (absl and oneDNN start-up
lines, the SavedModel exporter, the TFLite delegate notice): Python's own ``sys.stdout`` cannot catch those.

Nothing is hidden when ``SRLIB_VERBOSE`` is set (``srlib --verbose``).
"""

import contextlib
import os
import sys


@contextlib.contextmanager
def silenced(fds=(1, 2)):
    """File descriptors ``fds`` point at /dev/null inside the block, and back where they were after it."""
    if os.environ.get("SRLIB_VERBOSE"):
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(fd) for fd in fds]
    try:
        with open(os.devnull, "w") as null:
            for fd in fds:
                os.dup2(null.fileno(), fd)
            yield
    finally:
        for fd, copy in zip(fds, saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)
