"""Planning an answer: which passages an engine sees (one group, or one per authority in a comparison),
and the answers that come straight from data: graded judgements (from the judgements table) and questions
about authorities the corpus does not cover. No language model here: rag.answer.chain runs the engines,
rag.answer.finish turns what they write into a checked Answer."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from rag.answer.verify import Passage
from rag.ofsted.grades import AREAS
from rag.records import NOT_IN_REPORTS, Hit, Judgement
from rag.search.followup import standalone_question
from rag.search.question import Query
from rag.search.retrieval import Searcher, SearchResult


class PlanMode(StrEnum):
    ABSTAIN = "abstain"         # nothing to answer from: the text says why
    JUDGEMENT = "judgement"     # graded judgements, answered from the table
    COMPARE = "compare"         # one group of passages per authority
    SINGLE = "single"           # one group of passages


@dataclass(frozen=True)
class Group:
    """Passages for one part of an answer: one authority in a comparison, or the whole answer."""
    authority: str | None
    passages: tuple[Passage, ...]
    question: str                           # what the engine is asked for this group
    topic: str = ""                         # the question without authority names and years (for scoring)


@dataclass(frozen=True)
class Plan:
    question: str
    standalone: str
    result: SearchResult
    mode: PlanMode
    groups: tuple[Group, ...] = ()
    text: str = ""                          # the answer itself when it comes from data (abstain, judgement)
    judgements: tuple[Judgement, ...] = field(default=())

    @property
    def query(self) -> Query:
        return self.result.query

    @property
    def engine_writes(self) -> bool:
        """Whether an engine writes this answer (otherwise it comes from data)."""
        return self.mode in (PlanMode.SINGLE, PlanMode.COMPARE)


def plan(searcher: Searcher, question: str, history: Sequence[dict] = (), *, k: int = 10, context_k: int = 5,
         authorities: Sequence[str] | None = None, year: int | None = None) -> Plan:
    standalone = standalone_question(question, history) if history else question
    result = searcher.search(standalone, k, authorities=authorities, year=year)
    query = result.query
    if query.unknown_authorities and not result.hits:
        covered = ", ".join(searcher.authorities) or "no authority yet"
        missing = " and ".join(query.unknown_authorities)
        text = f"{NOT_IN_REPORTS} The corpus has no report on {missing}; it covers {covered}."
        return Plan(question, standalone, result, PlanMode.ABSTAIN, text=text)
    if not result.hits:
        return Plan(question, standalone, result, PlanMode.ABSTAIN, text=NOT_IN_REPORTS)
    found = _judgements_asked(searcher, query, result)
    if found is not None:
        return _judgement_plan(question, standalone, result, found, searcher)
    if result.by_authority:
        groups = []
        key = 1
        per = max(2, min(3, context_k))
        for authority, hits in result.by_authority.items():
            passages = tuple(Passage(key + i, h) for i, h in enumerate(hits[:per]))
            key += len(passages)
            groups.append(Group(authority, passages, _for_authority(query, authority), query.topic or query.text))
        return Plan(question, standalone, result, PlanMode.COMPARE, tuple(groups))
    passages = tuple(Passage(i, h) for i, h in enumerate(result.hits[:context_k], start=1))
    group = Group(None, passages, standalone, query.topic or standalone)
    return Plan(question, standalone, result, PlanMode.SINGLE, (group,))


def _for_authority(query: Query, authority: str) -> str:
    topic = query.topic.strip().rstrip("?.") or query.text
    return f"{topic} ({authority})?"


# ---- graded judgements: answered from the judgements table ---------------------------------------------

def _judgements_asked(searcher: Searcher, query: Query, result: SearchResult) -> list[Judgement] | None:
    """The table rows a judgement question asks for, or None when the table is not the way to answer it."""
    areas = query.judgement_areas or ((query.judgement_area,) if query.judgement_area else ())
    if not query.asks_judgement or not areas:
        return None
    reports = [searcher.index.reports[rid] for rid in dict.fromkeys(result.reports or
                                                                    [h.report.id for h in result.hits])]
    inspected = [r for r in reports if r.report_type.startswith("ofsted")]
    if not inspected:
        return None
    return [j for r in inspected for j in r.judgements if query.asks_for(j)]


def _judgement_plan(question: str, standalone: str, result: SearchResult, rows: list[Judgement],
                    searcher: Searcher) -> Plan:
    query = result.query
    authorities = query.authorities or tuple(dict.fromkeys(r.authority for r in
                                                          (searcher.index.reports[i] for i in result.reports)
                                                          if r.authority))
    areas = query.judgement_areas or (query.judgement_area,)
    passages: list[Passage] = []
    lines: list[str] = []
    for authority in authorities:
        mine = [j for j in rows if j.authority == authority]
        if not mine:
            label = " or ".join(AREAS[a][0].lower() for a in areas if a in AREAS)
            lines.append(f"{authority}: the report does not state a grade for {label}.")
            continue
        for j in mine:
            paragraph = searcher.index.paragraph(j.paragraph_id)
            passage = Passage(len(passages) + 1, Hit(paragraph, searcher.index.report_of(paragraph), 1.0))
            passages.append(passage)
            lines.append(f"{authority} ({_year(j.date)}): {j.label} — {grade_phrase(j)} [{passage.key}].")
    group = Group(None, tuple(passages), standalone)
    return Plan(question, standalone, result, PlanMode.JUDGEMENT, (group,), text="\n".join(lines),
                judgements=tuple(rows))


def _year(when: str) -> str:
    return when[:4] if when else "undated"


def grade_phrase(j: Judgement) -> str:
    return f"{j.grade} (Grade {j.grade_number})" if j.grade_number else j.grade
