"""The core records that flow through the pipeline.

Report -> Paragraph (the unit of citation) -> Hit (a retrieved paragraph) -> Citation -> Answer.
All are frozen: a stage never mutates what an earlier stage produced.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# One phrase, shared by the prompt, the code and the tests, for "the reports do not answer this".
NOT_IN_REPORTS = "The reports in the corpus do not say."
REPORT_SILENT = "The report does not say."   # a comparison cell for an authority without evidence

# The values of Report.report_type, and how a reader names them.
REPORT_TYPES = {
    "ofsted_ilacs": "Ofsted inspection of local authority children's services",
    "ofsted_sif": "Ofsted inspection",          # the single inspection framework, 2013-2018
    "ofsted_lac": "Ofsted inspection of looked after children services",
    "ofsted_cp": "Ofsted inspection of arrangements for the protection of children",
    "ofsted_slac": "Ofsted safeguarding and looked after children inspection",
    "ofsted_focused_visit": "Ofsted focused visit",
    "ofsted_monitoring_visit": "Ofsted monitoring visit",
    "ofsted_jtai": "Ofsted joint targeted area inspection",
    "ofsted_other": "Ofsted report",
    "council_overview": "Council overview",
    "other": "Report",
}
# Frameworks whose reports carry no graded judgements at all.
UNGRADED_TYPES = frozenset({"ofsted_focused_visit", "ofsted_monitoring_visit", "ofsted_jtai", "council_overview", "other"})


@dataclass(frozen=True)
class Paragraph:
    id: str                      # stable, derived from the report id and the paragraph's own text
    report: str                  # Report.id
    ordinal: int                 # position in the report, 0-based
    text: str                    # cleaned text, what is searched and quoted
    original: str                # the text as the source printed it (before cleaning)
    headings: tuple[str, ...] = ()   # heading path, outermost first
    number: str | None = None    # the report's own paragraph number ("47"), if it has one
    page: int | None = None
    kind: str = "paragraph"      # paragraph | bullet | table
    lead_in: str = ""            # for bullets: the sentence that introduces the list

    @property
    def section(self) -> str:
        return " > ".join(self.headings)


@dataclass(frozen=True)
class Judgement:
    report: str                  # Report.id
    authority: str
    date: str                    # the report's date (ISO, may be partial "2015-11")
    area: str                    # canonical area key, e.g. "adoption_performance"
    label: str                   # the area as the report names it
    grade: str                   # on the report's own scale, e.g. "requires improvement"
    paragraph_id: str            # the paragraph that states the grade
    framework: str = ""          # "ilacs" (2018-), "sif" (2013-2018), "lac" (2012-13), "slac" (2009-2012)
    service: str = ""            # SLAC only: "safeguarding" or "looked_after"
    grade_number: int | None = None   # 2009-13 grades also have a number: 1 outstanding ... 4 inadequate
    grade_text: str = ""         # the grade in the report's own words: "Requires improvement to be good"


@dataclass(frozen=True)
class Report:
    id: str                      # short slug from metadata, e.g. "hillingdon-2013"
    file: str                    # file name inside the corpus folder
    sha256: str                  # of the file's bytes
    title: str
    authority: str | None
    report_type: str             # see metadata.REPORT_TYPES
    date: str | None             # the report's representative date, ISO (may be "2015" or "2015-11")
    year: int | None
    inspection_start: str | None = None
    inspection_end: str | None = None
    published: str | None = None
    confidence: str = "high"     # high | medium | low: how sure metadata detection is
    notes: tuple[str, ...] = ()  # why confidence is not high, or what the catalog overrode
    variant: str = ""            # of the framework: "standard", "short", "with LSCB review", "re-inspection"...
    lead_inspector: str | None = None
    paragraphs: tuple[Paragraph, ...] = field(default=(), repr=False)
    judgements: tuple[Judgement, ...] = field(default=(), repr=False)

    @property
    def label(self) -> str:
        """How a reader names this report: 'Hillingdon, Ofsted inspection, 2013'."""
        kind = REPORT_TYPES.get(self.report_type, self.report_type)
        return ", ".join(x for x in (self.authority or "Unknown authority", kind, self.date or "") if x)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id, "file": self.file, "title": self.title, "authority": self.authority,
            "report_type": self.report_type, "date": self.date, "year": self.year,
            "inspection_start": self.inspection_start, "inspection_end": self.inspection_end,
            "published": self.published, "variant": self.variant, "lead_inspector": self.lead_inspector,
            "paragraphs": len(self.paragraphs),
            "judgements": len(self.judgements), "confidence": self.confidence, "notes": list(self.notes),
        }


def paragraph_json(p: Paragraph, report: Report | None) -> dict[str, Any]:
    """The JSON shape used everywhere (CLI, batch, UI): fixed field names."""
    return {
        "id": p.id,
        "authority": report.authority if report else None,
        "report": p.report,
        "title": report.title if report else None,
        "date": report.date if report else None,
        "section": p.section,
        "paragraph": p.number,
        "page": p.page,
        "text": p.text,
    }


@dataclass(frozen=True)
class Hit:
    paragraph: Paragraph
    report: Report
    score: float
    dense_rank: int | None = None    # 1-based ranks in each list before fusion, None if absent
    lexical_rank: int | None = None
    rerank_score: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {**paragraph_json(self.paragraph, self.report), "score": round(self.score, 6)}


@dataclass(frozen=True)
class Citation:
    n: int                        # the key shown in the answer: [n]
    paragraph: Paragraph
    report: Report
    quote: str                    # verbatim sentence(s) of the paragraph that support the claim

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, **paragraph_json(self.paragraph, self.report), "quote": self.quote}


@dataclass(frozen=True)
class Claim:
    sentence: str
    keys: tuple[int, ...]         # citation keys the sentence carries
    verified: bool                # every number/date in it occurs in a cited paragraph, and it has support
    reason: str = ""              # why not verified


@dataclass(frozen=True)
class Answer:
    """A checked answer. `text` is what the user reads (every claim verified or marked); `raw_text` is what
    the engine wrote before the checks, kept for the record."""
    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    hits: tuple[Hit, ...] = ()
    claims: tuple[Claim, ...] = ()
    engine: str = ""
    standalone_question: str = ""
    authorities: tuple[str, ...] = ()
    table: tuple[tuple[str, ...], ...] = ()   # comparison: header row then one row per aspect
    seconds: float = 0.0
    notice: str = ""              # why the answer is not the chosen engine's (it failed: extracted instead)
    raw_text: str = ""            # the engine's own text, before citation checks

    @property
    def verified_claims(self) -> int:
        return sum(c.verified for c in self.claims)

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer": self.text,
            "raw_answer": self.raw_text,
            "abstained": self.abstained,
            "engine": self.engine,
            "notice": self.notice,
            "authorities": list(self.authorities),
            "claims": {"total": len(self.claims), "verified": self.verified_claims,
                       "unsupported": [c.sentence for c in self.claims if not c.verified]},
            "citations": [c.to_json() for c in self.citations],
            "table": [list(r) for r in self.table],
            "hits": [h.to_json() for h in self.hits],
            "seconds": round(self.seconds, 3),
        }
