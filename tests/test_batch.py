"""srlib.app.batch: every input gets an output or a one-line reason, decided before any work."""

from pathlib import Path

from srlib.app.batch import plan


def _touch(*paths):
    for p in paths:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")


def test_folder_outputs_and_collisions(tmp_path):
    a, b, c, v = tmp_path / "a" / "x.png", tmp_path / "b" / "x.jpg", tmp_path / "a" / "y.png", tmp_path / "a" / "y.mp4"
    _touch(a, b, c, v)
    jobs, failures = plan([str(a), str(b), str(tmp_path / "a")], tmp_path / "out", 2.5)
    assert [(j.src.name, j.dst.name, j.video) for j in jobs] == [
        ("x.png", "x_x2p5.png", False), ("y.mp4", "y_x2p5.mp4", True), ("y.png", "y_x2p5.png", False)]
    assert len(failures) == 1 and failures[0].startswith(f"{b}: its output {tmp_path / 'out' / 'x_x2p5.png'}")


def test_an_input_is_never_an_output(tmp_path):
    src = tmp_path / "p.png"
    _touch(src)
    (tmp_path / "link.png").symlink_to(src)
    assert plan([str(src)], src, 2) == ([], [f"{src}: refusing to write over the input {src}"])
    jobs, failures = plan([str(src)], tmp_path / "link.png", 2)
    assert not jobs and "refusing to write over the input" in failures[0]


def test_nothing_to_upscale(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    jobs, failures = plan([str(tmp_path / "empty"), str(tmp_path / "*.png")], tmp_path / "out", 2)
    assert jobs == [] and len(failures) == 2
    kinds = ".png .jpg .jpeg .bmp .tif .tiff .webp .gif .heic .heif .avif .mp4 .mov .avi .mkv .webm"
    assert failures[0] == f"{tmp_path / 'empty'}: no images or videos in this folder ({kinds})"
    assert failures[1] == f"{tmp_path / '*.png'}: no file matches this pattern"


def test_one_input_one_file(tmp_path):
    src = tmp_path / "p.png"
    _touch(src)
    jobs, _ = plan([str(src)], tmp_path / "big.tif", 3)
    assert jobs[0].dst == Path(tmp_path / "big.tif")
