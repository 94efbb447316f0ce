"""Planning an answer and finishing it: which passages an engine sees, answers that come straight from
data (graded judgements, authorities the corpus does not cover), and turning an engine's text into a
checked Answer. No language model and no LangChain here: chain.py runs the engines."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from rag.citations import Passage, check
from rag.followup import standalone_question
from rag.grades import AREAS
from rag.query import Query
from rag.records import NOT_IN_REPORTS, Answer, Hit, Judgement
from rag.retrieval import SearchResult, Searcher

REPORT_SILENT = "The report does not say."   # a comparison cell for an authority without evidence


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
    mode: str                               # abstain | judgement | compare | single
    groups: tuple[Group, ...] = ()
    text: str = ""                          # the answer itself when it comes from data (abstain, judgement)
    judgements: tuple[Judgement, ...] = field(default=())

    @property
    def query(self) -> Query:
        return self.result.query


def plan(searcher: Searcher, question: str, history: Sequence[dict] = (), *, k: int = 10, context_k: int = 5,
         authorities: Sequence[str] | None = None, year: int | None = None) -> Plan:
    standalone = standalone_question(question, history) if history else question
    result = searcher.search(standalone, k, authorities=authorities, year=year)
    query = result.query
    if query.unknown_authorities and not result.hits:
        covered = ", ".join(searcher.authorities) or "no authority yet"
        missing = " and ".join(query.unknown_authorities)
        text = f"{NOT_IN_REPORTS} The corpus has no report on {missing}; it covers {covered}."
        return Plan(question, standalone, result, "abstain", text=text)
    if not result.hits:
        return Plan(question, standalone, result, "abstain", text=NOT_IN_REPORTS)
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
        return Plan(question, standalone, result, "compare", tuple(groups))
    passages = tuple(Passage(i, h) for i, h in enumerate(result.hits[:context_k], start=1))
    return Plan(question, standalone, result, "single", (Group(None, passages, standalone, query.topic or standalone),))


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
    rows = [j for r in inspected for j in r.judgements if j.area in areas
            and (not query.judgement_scope or not j.service or j.service == query.judgement_scope)]
    return rows


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
            lines.append(f"{authority} ({_year(j.date)}): {j.label} — {_grade_phrase(j)} [{passage.key}].")
    text = "\n".join(lines)
    group = Group(None, tuple(passages), standalone)
    return Plan(question, standalone, result, "judgement", (group,), text=text, judgements=tuple(rows))


def _year(when: str) -> str:
    return when[:4] if when else "undated"


def _grade_phrase(j: Judgement) -> str:
    grade = j.grade
    if j.grade_number:
        return f"{grade} (Grade {j.grade_number})"
    return grade


# ---- finishing: from engine text to a checked Answer -------------------------------------------------

def finish(p: Plan, texts: Sequence[str], *, engine: str, seconds: float = 0.0) -> Answer:
    """`texts` holds one engine output per group (ignored for abstain/judgement plans)."""
    answer = _finish(p, texts, engine=engine, seconds=seconds)
    missing = p.query.unknown_authorities
    if missing and p.mode != "abstain":
        # Named but not in the corpus: say so, or a comparison reads as if that authority had been covered.
        covered = _and(answer.authorities) or "the reports found"
        note = f"The corpus has no report on {_and(missing)}, so this answer covers {covered} only."
        table = answer.table
        if table:
            table = (table[0] + tuple(missing),) + tuple(row + ("No report in the corpus.",) * len(missing)
                                                           for row in table[1:])
        answer = replace(answer, text=f"{answer.text}\n\n{note}", table=table)
    return answer


def _and(names: Sequence[str]) -> str:
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)


def _finish(p: Plan, texts: Sequence[str], *, engine: str, seconds: float) -> Answer:
    hits = p.result.hits
    authorities = p.query.authorities
    if p.mode == "abstain":
        return Answer(p.question, p.text, True, (), hits, (), engine, p.standalone, authorities, (), seconds)
    if p.mode == "judgement":
        checked = check(p.text, p.groups[0].passages, question=p.standalone)
        abstained = not checked.citations
        return Answer(p.question, checked.text, abstained, checked.citations, hits, checked.claims, engine,
                      p.standalone, authorities, _judgement_table(p), seconds)
    if p.mode == "compare":
        lines = []
        for group, text in zip(p.groups, texts):
            body = text.strip() if text.strip() and NOT_IN_REPORTS.lower() not in text.lower() else REPORT_SILENT
            lines.append(f"{group.authority}: {_one_line(body)}")
        passages = [pa for g in p.groups for pa in g.passages]
        checked = check("\n".join(lines), passages, question=p.standalone)
        cells = _cells_by_authority(checked.text, [g.authority for g in p.groups])
        table = (("Aspect", *cells.keys()), (_aspect(p.query), *cells.values()))
        abstained = all(REPORT_SILENT in c for c in cells.values())
        return Answer(p.question, checked.text, abstained, checked.citations, hits, checked.claims, engine,
                      p.standalone, authorities, table, seconds)
    checked = check(texts[0] if texts else "", p.groups[0].passages, question=p.standalone)
    if not any(c.verified for c in checked.claims) or not _answers_the_kind_asked(p, checked.claims):
        # Nothing the engine wrote is borne out by the paragraphs: say so, keep the failed claims for the record.
        return Answer(p.question, NOT_IN_REPORTS, True, (), hits, checked.claims, engine, p.standalone,
                      authorities, (), seconds)
    return Answer(p.question, checked.text.strip(), False, checked.citations, hits, checked.claims, engine,
                  p.standalone, authorities, (), seconds)


def _answers_the_kind_asked(p: Plan, claims) -> bool:
    """A 'how many' question needs a number, a 'what is it called' one a name: verified sentences that
    hold none do not answer it (they only say something true nearby)."""
    from rag.extractive import expected_kinds, has_kind
    kinds = expected_kinds(p.groups[0].topic or p.standalone)
    if not kinds:
        return True
    known = frozenset(w.lower() for a in p.query.authorities for w in a.split())
    return any(has_kind(c.sentence, kind, p.standalone, known) for c in claims if c.verified for kind in kinds)


def _one_line(text: str) -> str:
    return re.sub(r"\s*\n+\s*", " ", text)


def _cells_by_authority(text: str, authorities: Sequence[str | None]) -> dict[str, str]:
    cells: dict[str, str] = {}
    for line in text.split("\n"):
        for authority in authorities:
            if authority and line.startswith(f"{authority}:"):
                cells[authority] = line[len(authority) + 1:].strip()
    return {a: cells.get(a, REPORT_SILENT) for a in authorities if a}


def _aspect(query: Query) -> str:
    topic = query.topic.strip().rstrip("?.")
    return topic[:1].upper() + topic[1:] if topic else "Answer"


def _judgement_table(p: Plan) -> tuple[tuple[str, ...], ...]:
    """Areas x authorities, grades in the cells, for a judgement question about several authorities."""
    authorities = tuple(dict.fromkeys(j.authority for j in p.judgements))
    if len(authorities) < 2:
        return ()
    labels = tuple(dict.fromkeys(j.label for j in p.judgements))
    rows = [("Judgement", *authorities)]
    for label in labels:
        row = [label]
        for authority in authorities:
            grades = [_grade_phrase(j) for j in p.judgements if j.authority == authority and j.label == label]
            row.append(grades[0] if grades else REPORT_SILENT)
        rows.append(tuple(row))
    return tuple(rows)
