"""The one shape of a progress callback in the package: progress(stage, done, total).

`stage` names the step in words a user reads ("joining the local model", "embedding"); `done` and `total`
count its units (bytes, files, paragraphs). Every long step calls it; rag.render.progress_printer draws it.
"""
from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], None]
