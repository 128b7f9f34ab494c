"""srlib.video.pipe: a failure in one stage thread stops the others and reaches the caller; queues stay bounded."""

import time

import pytest

from srlib.video.pipe import END, Pipe, Stopped


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


def test_the_first_frame_out_is_stamped_once():
    """upscale_video's steady_fps counts from the first encoded frame: leave() stamps it once, not per frame."""
    pipe = Pipe(queue_size=2, batch=1)
    assert pipe.first_out is None
    before = time.perf_counter()
    pipe.enter()
    pipe.leave()
    first = pipe.first_out
    pipe.enter()
    pipe.leave()
    assert before <= first <= time.perf_counter() and pipe.first_out == first and pipe.done == 2
