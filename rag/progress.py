"""The one shape of a progress callback in the package, progress(stage, done, total), and the printer
that draws it for a person.

`stage` names the step in words a user reads ("joining the local model (MB)", "embedding"); `done` and
`total` count its units (MB, files, paragraphs). Every long step calls it.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable

from rag.text.sanitize import terminal_safe

Progress = Callable[[str, int, int], None]


def progress_printer(label: str = "", *, stream=None, tty: bool | None = None, clock=time.monotonic,
                     every: float = 10.0) -> Progress:
    """A progress callback (stage, done, total) a person can follow: on a terminal one line redrawn with a
    bar, the rate and the time left; in a log (not a terminal) a line when a stage starts, then at most
    every `every` seconds, and when it ends."""
    out = stream or sys.stderr
    tty = out.isatty() if tty is None else tty
    state = {"stage": None, "started": 0.0, "shown": 0.0, "first": 0}

    def show(stage: str, done: int, total: int) -> None:
        stage = terminal_safe(stage or label)
        now = clock()
        if stage != state["stage"]:
            state.update(stage=stage, started=now, shown=float("-inf"), first=done)
        finished = done >= total
        if not tty and not finished and now - state["shown"] < every and done != state["first"]:
            return
        state["shown"] = now
        line = f"{stage}: {done:,}/{total:,}{_rate(done - state['first'], total - done, now - state['started'])}"
        if tty:
            width = 24
            filled = int(width * done / max(1, total))
            print(f"\r{stage[:40]:<40} [{'#' * filled}{'.' * (width - filled)}] {line[len(stage) + 2:]}\033[K",
                  end="\n" if finished else "", file=out, flush=True)
        else:
            print(line, file=out, flush=True)
    return show


def _rate(done: int, left: int, seconds: float) -> str:
    """', 37.2/s, 4 min 10 s left' once there is something to measure."""
    if seconds < 0.5 or done <= 0:
        return ""
    rate = done / seconds
    text = f", {rate:,.1f}/s" if rate < 100 else f", {rate:,.0f}/s"
    if left > 0:
        text += f", {_duration(left / rate)} left"
    else:
        text += f", {_duration(seconds)}"
    return text


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
