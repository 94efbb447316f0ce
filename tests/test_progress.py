"""The one progress printer: a bar with rate and time left on a terminal, sparse lines in a log."""
from __future__ import annotations

import io

from rag.progress import progress_printer


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_log_gets_a_line_per_stage_start_then_every_interval_and_the_end():
    out, clock = io.StringIO(), Clock()
    show = progress_printer(stream=out, tty=False, clock=clock, every=10)
    for done in range(0, 1001, 10):                  # 100 calls over 100 s
        clock.now = done / 10
        show("embedding", done, 1000)
    lines = out.getvalue().splitlines()
    assert lines[0] == "embedding: 0/1,000"
    assert len(lines) == 11                           # one every 10 s, not one per call, not one in all
    assert lines[3] == "embedding: 300/1,000, 10.0/s, 1 min 10 s left"
    assert lines[-1] == "embedding: 1,000/1,000, 10.0/s, 1 min 40 s"


def test_a_terminal_line_is_redrawn_with_rate_and_time_left():
    out, clock = io.StringIO(), Clock()
    show = progress_printer(stream=out, tty=True, clock=clock)
    show("reading", 0, 4)
    clock.now = 2.0
    show("reading", 1, 4)
    clock.now = 8.0
    show("reading", 4, 4)
    text = out.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n")
    assert "0.5/s, 6 s left" in text                 # 1 file in 2 s, 3 to go
    assert "[########################]" in text


def test_escape_sequences_in_a_stage_name_are_not_printed():
    out = io.StringIO()
    progress_printer(stream=out, tty=False)("reading \x1b[2Jevil.pdf", 1, 1)
    assert "\x1b" not in out.getvalue()
