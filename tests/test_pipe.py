"""srlib.pipe: a failure in one stage thread stops the others and reaches the caller; queues stay bounded."""

import time

import pytest

from srlib.pipe import END, Pipe, Stopped


def test_items_flow_and_stages_are_timed():
    pipe = Pipe(queue_size=2, batch=1)
    got = []

    def produce():
        for i in range(20):
            with pipe.timed("produce"):
                pipe.put(pipe.q_in, i)
        pipe.put(pipe.q_in, END)

    thread = pipe.thread(produce, "producer")
    while (item := pipe.get(pipe.q_in)) is not END:
        got.append(item)
        assert pipe.q_in.qsize() <= 2
    thread.join()
    assert got == list(range(20)) and pipe.error is None and pipe.seconds["produce"] > 0


def test_a_failing_stage_stops_the_others():
    pipe = Pipe(queue_size=1, batch=1)

    def fail():
        time.sleep(0.05)
        raise OSError("disk full")

    thread = pipe.thread(fail, "encoder")
    with pytest.raises(Stopped):
        while True:  # a producer blocked on a full queue gives up instead of waiting forever
            pipe.put(pipe.q_in, 0)
    thread.join()
    assert isinstance(pipe.error, OSError) and str(pipe.error) == "disk full"
