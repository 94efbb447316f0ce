"""The one ingest path (CLI and web uploads): read the corpus into Reports, embed their paragraphs while
the next reports are still being read, and write a new index version when anything changed.

With nothing changed nothing is parsed, embedded or written. Reading runs in worker processes
(rag.ingest.corpus); embedding runs here, a report at a time as each arrives, so reading adds little to
a large ingest.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError
from rag.index.embedding import Embedder, LazyEmbedder
from rag.index.prepare import Prepared
from rag.index.reader import Index
from rag.index.writer import IndexStats, write_index
from rag.ingest.corpus import PIPELINE_VERSION, ParsedCorpus, parse_corpus
from rag.progress import Progress
from rag.records import Report

# With `auto`, an ingest that reads at least this many reports embeds with the bulk backend (PyTorch
# here); a few new reports are embedded by the query backend, which starts without importing torch.
BULK_REPORTS = 20
READ_STAGE = "reading and embedding reports"


@dataclass(frozen=True)
class IngestResult:
    corpus: ParsedCorpus
    stats: IndexStats
    seconds: float


def ingest(corpus_dir: Path, index_dir: Path, embedder: Embedder, progress: Progress | None = None,
           max_bytes: int | None = None, rebuild: bool = False) -> IngestResult:
    """Parse the corpus and update the index.

    max_bytes: files larger than this are skipped unread (settings.max_file_mb).
    rebuild: parse every report and write a new version even if nothing changed (vectors are still
    reused when they were made by this very model, which is then loaded to check its dimension)."""
    started = time.perf_counter()
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    lazy = isinstance(embedder, LazyEmbedder)
    previous = [] if rebuild else _live_reports(index_dir, embedder, lazy)
    # A lazy embedder is checked by name only: asking its dimension would load the model even when
    # nothing changed. A same-named model of another dimension then needs `rag ingest --rebuild`.
    # What the live index offers (its vectors, counts, tokens: seconds to read at national size) is read
    # only when a report is to be read, so an unchanged corpus costs nothing.
    work: dict[str, Prepared] = {}

    def prepared() -> Prepared:
        if "prepared" not in work:
            work["prepared"] = Prepared.from_live(index_dir, embedder,
                                                  embedder.dimension if rebuild or not lazy else None)
        return work["prepared"]

    def on_plan(to_read: int) -> None:
        if lazy:
            embedder.purpose = "ingest" if to_read >= BULK_REPORTS else "query"
        if to_read:
            prepared()

    def on_report(report: Report, done: int, total: int) -> None:
        if "prepared" in work:
            work["prepared"].queue(report)      # the reading line is the one to follow meanwhile
        if progress:
            progress(READ_STAGE, done, total)

    parsed = parse_corpus(corpus_dir, progress, {r.file: r for r in previous}, max_bytes,
                          on_plan=on_plan, on_report=on_report)
    if previous and list(parsed.reports) == previous:
        count = sum(len(r.paragraphs) for r in previous)
        stats = IndexStats(len(previous), count, 0, count, 0, time.perf_counter() - started)
    else:
        stats = write_index(index_dir, parsed.reports, embedder, pipeline_version=PIPELINE_VERSION,
                            progress=progress, prepared=prepared())
    return IngestResult(parsed, stats, time.perf_counter() - started)


def _live_reports(index_dir: Path, embedder: Embedder, lazy: bool) -> list[Report]:
    """The reports of the live index when it was built by this pipeline and embedder, else none."""
    try:
        return Index.load_reports(index_dir, embedder_name=embedder.name,
                                  dimension=None if lazy else embedder.dimension,
                                  pipeline_version=PIPELINE_VERSION)
    except RagError:
        return []
