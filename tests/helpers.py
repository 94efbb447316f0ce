"""Small builders for records, so unit tests read as data."""
from __future__ import annotations

from rag.answer.verify import Passage
from rag.records import Hit, Paragraph, Report


def make_report(rid: str = "testshire-2015", authority: str = "Testshire", texts: list[str] | None = None,
                report_type: str = "ofsted_sif", date: str = "2015-06-01", **kw) -> Report:
    paragraphs = tuple(Paragraph(id=f"{rid}:{i:08x}", report=rid, ordinal=i, text=t, original=t,
                                 headings=("Section",), number=str(i + 1), page=i + 1)
                       for i, t in enumerate(texts or []))
    return Report(id=rid, file=f"{rid}.txt", sha256="0" * 64, title=f"{authority} report", authority=authority,
                  report_type=report_type, date=date, year=int(date[:4]), paragraphs=paragraphs, **kw)


def hits_of(report: Report) -> list[Hit]:
    return [Hit(p, report, 1.0 / (i + 1)) for i, p in enumerate(report.paragraphs)]


def number_passages(hits: list[Hit]) -> list[Passage]:
    """Hits under the keys an engine sees: [1], [2], ..."""
    return [Passage(i, hit) for i, hit in enumerate(hits, start=1)]


def cli_runner(capsys, *flags: str):
    """`rag ARGS... FLAGS...` run in this process: returns run(*args) -> (exit code, stdout, stderr)."""
    from rag.cli.main import main

    def run(*args: str) -> tuple[int, str, str]:
        code = main([*args, *flags])
        out, err = capsys.readouterr()
        return code, out, err
    return run
