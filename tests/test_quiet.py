"""srlib.quiet: what C++ code writes to file descriptors 1 and 2 is dropped inside the block, and only there."""

import os

from srlib.quiet import silenced


def test_descriptors_are_silenced_and_restored(capfd, monkeypatch):
    monkeypatch.delenv("SRLIB_VERBOSE", raising=False)
    with silenced():
        os.write(1, b"hidden out\n")
        os.write(2, b"hidden err\n")
    os.write(2, b"shown\n")
    out, err = capfd.readouterr()
    assert out == "" and err == "shown\n"


def test_verbose_hides_nothing(capfd, monkeypatch):
    monkeypatch.setenv("SRLIB_VERBOSE", "1")
    with silenced((2,)):
        os.write(2, b"kept\n")
    assert capfd.readouterr().err == "kept\n"
