"""From what an engine wrote to a checked Answer: each group's text is checked once against its own
passages (rag.answer.citations), a comparison becomes a table with one cell per authority, a reply with
no verified claim becomes the refusal, and authorities the corpus lacks are named."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from rag.answer.citations import Checked, check, merge
from rag.answer.extractive import asks_two_things, expected_kinds, has_kind
from rag.answer.plan import Plan, PlanMode, grade_phrase
from rag.ofsted.grades import find_statements
from rag.records import NOT_IN_REPORTS, REPORT_SILENT, Answer, Claim
from rag.search.question import Query
from rag.text.words import join_names, split_sentences


def check_groups(p: Plan, texts: Sequence[str]) -> list[Checked]:
    """Each group's text checked against the group's passages (a comparison cell with nothing to say
    becomes REPORT_SILENT). Empty for plans whose answer comes from data."""
    if not p.engine_writes:
        return []
    checked = []
    for group, text in zip(p.groups, texts):
        if p.grades:
            text = f"{p.grades}\n{_without_grade_lines(text, p.grades)}"   # the table's grade first, then the prose
        if p.mode == PlanMode.COMPARE:
            body = text.strip() if text.strip() and NOT_IN_REPORTS.lower() not in text.lower() else REPORT_SILENT
            if group.grades:        # the cell's grade from the table first; a silent report's cell is its grade
                body = _without_grade_lines(body, group.grades)
                body = group.grades if body in (REPORT_SILENT, "") else f"{group.grades} {body}"
            text = re.sub(r"\s*\n+\s*", " ", body)
        # What reaches the reader is borne out by a paragraph: an unsupported sentence is left out of the
        # text and kept, with why, among the answer's claims.
        # The findings behind a grade rarely share the question's words ('drift and delay' for 'why was help
        # and protection inadequate'): their passages were chosen as those reasons, so no topic check.
        checked.append(check(text, group.passages, question=p.standalone, unsupported="drop",
                             topic=not group.reasons))
    return checked


def _without_grade_lines(text: str, grades: str) -> str:
    """The prose without its sentences that only state a grade the table's line already gives ('The
    experiences and progress of care leavers: good [2].' after 'Experiences and progress of care leavers —
    good (2023) [1].')."""
    given = {(s.area, s.grade) for s in find_statements(_KEYS.sub("", grades).replace(" — ", ": "))}
    kept = [sentence for sentence in split_sentences(text)
            if not ((found := find_statements(_KEYS.sub("", sentence))) and len(sentence.split()) <= 15
                    and {(s.area, s.grade) for s in found} <= given)]
    return " ".join(kept)


_KEYS = re.compile(r"\s*\[\d{1,2}\]")


def finish(p: Plan, checked: Sequence[Checked], *, engine: str, raw_text: str = "", seconds: float = 0.0) -> Answer:
    """`checked`: check_groups of what the engine wrote (ignored for abstain and judgement plans);
    `raw_text`: the engine's own text, kept beside the checked answer."""
    common = {"question": p.question, "hits": _hits(p), "engine": engine, "standalone_question": p.standalone,
              "authorities": p.query.authorities, "seconds": seconds, "raw_text": raw_text}
    if p.mode == PlanMode.ABSTAIN:
        answer = Answer(text=p.text, abstained=True, **common)
    elif p.mode in (PlanMode.JUDGEMENT, PlanMode.TABLE):
        done = check(p.text, p.groups[0].passages, question=p.standalone, topic=False)   # lines built from data
        # A table question that no authority matches is answered ("none"), not refused.
        # A yes/no question the grades settle: the word first, then the cited lines that show it.
        text = f"{p.verdict}\n{done.text}" if p.verdict and done.citations else done.text
        answer = Answer(text=text, abstained=p.mode == PlanMode.JUDGEMENT and not done.citations,
                        citations=done.citations, claims=done.claims, table=p.table or _judgement_table(p), **common)
    elif p.mode == PlanMode.COMPARE:
        done = merge([(f"{g.authority}: ", c) for g, c in zip(p.groups, checked)])
        cells = _cells_by_authority(done.text, [g.authority for g in p.groups])
        table = (("Aspect", *cells.keys()), (_aspect(p.query), *cells.values()))
        answer = Answer(text=done.text, abstained=all(REPORT_SILENT in c for c in cells.values()),
                        citations=done.citations, claims=done.claims, table=table, **common)
    else:
        done = checked[0] if checked else check("", ())
        if not any(c.verified for c in done.claims) or not _answers_the_kind_asked(p, done.claims):
            # Nothing the engine wrote is borne out by the paragraphs: say so, keep the failed claims for the record.
            answer = Answer(text=NOT_IN_REPORTS, abstained=True, claims=done.claims, **common)
        else:
            answer = Answer(text=done.text.strip(), abstained=False, citations=done.citations, claims=done.claims,
                            **common)
    return _with_notes(p, _name_missing(p, answer))


def _hits(p: Plan) -> tuple:
    """What the answer rests on, best first: for an answer from data, the paragraphs that state its grades,
    then what search found; otherwise what search found."""
    if p.mode not in (PlanMode.JUDGEMENT, PlanMode.TABLE):
        return p.result.hits
    first = [passage.hit for passage in p.groups[0].passages]
    seen = {h.paragraph.id for h in first}
    return tuple(first + [h for h in p.result.hits if h.paragraph.id not in seen])


def _with_notes(p: Plan, answer: Answer) -> Answer:
    """What the plan says about its data around the checked answer: first that a report asked for is not
    in the corpus (so the rest is not misread as about it), last which report was used."""
    if answer.abstained and p.mode != PlanMode.ABSTAIN and not p.preface:
        return answer
    parts = [p.preface, answer.text if not (p.preface and answer.abstained and p.mode == PlanMode.TABLE) else "",
             *p.notes]
    return replace(answer, text="\n\n".join(x for x in parts if x))


def _name_missing(p: Plan, answer: Answer) -> Answer:
    """Named but not in the corpus: say so, or a comparison reads as if that authority had been covered."""
    missing = p.query.unknown_authorities
    if not missing or p.mode == PlanMode.ABSTAIN:
        return answer
    covered = join_names(answer.authorities) or "the reports found"
    note = f"The corpus has no report on {join_names(missing)}, so this answer covers {covered} only."
    table = answer.table
    if table:
        table = (table[0] + tuple(missing),) + tuple(row + ("No report in the corpus.",) * len(missing)
                                                       for row in table[1:])
    return replace(answer, text=f"{answer.text}\n\n{note}", table=table)


def _answers_the_kind_asked(p: Plan, claims: Sequence[Claim]) -> bool:
    """A 'how many' question needs a number, a 'what is it called' one a name: verified sentences that
    hold none do not answer it (they only say something true nearby)."""
    kinds = expected_kinds(p.groups[0].topic or p.standalone)
    if not kinds or asks_two_things(p.standalone):
        return True         # two things asked ('how many ..., and how were they judged?'): one answered is an answer
    known = frozenset(w.lower() for a in p.query.authorities for w in a.split())
    return any(has_kind(c.sentence, kind, p.standalone, known) for c in claims if c.verified for kind in kinds)


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
            grades = [grade_phrase(j) for j in p.judgements if j.authority == authority and j.label == label]
            row.append(grades[0] if grades else REPORT_SILENT)
        rows.append(tuple(row))
    return tuple(rows)
