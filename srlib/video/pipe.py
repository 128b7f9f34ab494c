"""Stage threads joined by bounded queues: the plumbing of :mod:`srlib.video.pipeline`'s decode -> network -> encode.

A :class:`Pipe` holds the two queues, a shared stop flag, the first error any stage raised and the busy seconds of
each stage; :meth:`Pipe.put` and :meth:`Pipe.get` give up (:class:`Stopped`) as soon as another stage failed, so
one failure ends every thread and reaches the caller.
"""

import contextlib
import queue
import threading
import time


class Pipe:
    """Bounded queues between the stage threads, a shared stop flag and per-stage timers."""

    def __init__(self, queue_size, batch, out_batches=2):
        self.q_in = queue.Queue(queue_size)  # frames: reader -> network
        self.q_out = queue.Queue(out_batches)  # batches: network -> encoder
        # Frames alive at once: 1 held by the reader + q_in + 1 batch in the network
        # stage + q_out + 1 batch in the encoder.
        self.bound = 1 + queue_size + batch * (out_batches + 2)
        self.stop = threading.Event()
        self.error = None
        self.seconds = {}
        self.in_flight = self.peak = self.done = 0
        self.first_out = None  # perf_counter() when the first frame was encoded
        self._lock = threading.Lock()

    def fail(self, err):
        with self._lock:
            if self.error is None and not isinstance(err, Stopped):
                self.error = err
        self.stop.set()

    def put(self, q, item):
        while not self.stop.is_set():
            try:
                return q.put(item, timeout=0.05)
            except queue.Full:
                pass
        raise Stopped

    def get(self, q):
        while not self.stop.is_set():
            try:
                return q.get(timeout=0.05)
            except queue.Empty:
                pass
        raise Stopped

    def enter(self):
        """A frame was decoded."""
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)

    def leave(self):
        """A frame was encoded (or scored)."""
        with self._lock:
            self.in_flight -= 1
            self.done += 1
            if self.done == 1:
                self.first_out = time.perf_counter()

    def add(self, stage, seconds):
        with self._lock:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    @contextlib.contextmanager
    def timed(self, stage):
        t = time.perf_counter()
        yield
        self.add(stage, time.perf_counter() - t)

    def thread(self, target, name):
        def run():
            try:
                target()
            except BaseException as e:  # handed to the caller's thread
                self.fail(e)

        t = threading.Thread(target=run, name=name, daemon=True)
        t.start()
        return t


class Stopped(Exception):
    """Raised in a stage thread when another stage failed."""


END = object()  # the marker a stage puts after its last item
