"""Why-questions about a grade ('Why was help and protection judged inadequate?', 'What held care leavers
back?'): whether a question asks the reasons for a grade, which areas' grades, whether the findings that
answer it are weaknesses or strengths, and the paragraphs where a report gives them."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from rag.answer.parts import areas_of_graded_parts
from rag.answer.reasons import AREA_FACTS, IMPROVE, area_patterns, reason_paragraphs
from rag.ofsted.grades import GRADE_WORD, grades_area, normalise_grade
from rag.records import Hit
from rag.search.question import Query
from rag.search.retrieval import Searcher, SearchResult

def asks_why(question: str) -> bool:
    """'Why was it judged inadequate?', 'what were the reasons', 'what led to': the reasons, not the grade."""
    return bool(re.search(r"\bwhy\b|\breasons?\b|\bwhat led to\b|\bexplains?\b|\bon what (?:basis|grounds)\b"
                          r"|\bwhat (?:was|is|were|lay|lies) behind\b"
                          r"|\bhow come\b|\bwhat (?:held|kept|stopped|prevented)\b|\bwhat (?:caused|lay behind)\b",
                          question, re.I))


REASONS_DEPTH = 60         # paragraphs of the report searched for the findings behind a grade
REASON_PASSAGES = 10       # and how many of them an engine sees


def reasons_asked(searcher: Searcher, query: Query, result: SearchResult) -> tuple[str, list[str]]:
    """'Why was help and protection judged inadequate?': which findings explain the grade, weaknesses for a
    grade below good and strengths for good or better (weaknesses too when it asks why the grade was not
    higher: 'what held care leavers back?', 'why only good?'), and the areas the question grades (whose
    sections hold them); "" when the question asks no reason for a grade."""
    held_back = bool(query.areas_named) and bool(re.search(r"\bwhat (?:held|kept|stopped)\b", query.text, re.I))
    if not (asks_why(query.text) and result.reports and (query.asks_judgement or held_back)):
        return "", []       # 'Why had Slough not set up a MASH?' asks about a fact, not a grade
    graded = why_areas(searcher, query, result)
    areas = [a for a in graded if a != "overall_effectiveness"] or graded
    grades = [j.grade for rid in result.reports for j in searcher.index.reports[rid].judgements
              if not j.service and any(grades_area(j.area, j.label, a) for a in areas)]
    if not grades:
        return "", []
    short = held_back or bool(_SHORT_OF.search(query.text))
    return ("strengths" if all(g in ("outstanding", "good") for g in grades) and not short else "weaknesses"), graded


_SHORT_OF = re.compile(r"\bonly\s+(?:been\s+)?(?:rated\s+|judged\s+|graded\s+)?(?:good|requires?\s+improvement)\b"
                       r"|\bwhy\s+(?:was|were|is|are|did|does)n['’]?t\b|\bnot\s+(?:rated\s+|judged\s+)?outstanding\b"
                       r"|\bfell short\b|\bshort of\b", re.I)


def why_areas(searcher: Searcher, query: Query, result: SearchResult) -> list[str]:
    """The areas whose grade a why-question asks about: those it names. 'Why was Darlington judged inadequate
    in 2015?' names none: the overall grade, or, in a report that gives none, the areas that got the grade
    the question names."""
    named = areas_of_graded_parts(query, searcher)
    if named or query.areas_named or not query.asks_judgement:
        return named
    judgements = [j for rid in result.reports for j in searcher.index.reports[rid].judgements if not j.service]
    if not judgements or any(j.area == "overall_effectiveness" for j in judgements):
        return ["overall_effectiveness"]
    asked = {normalise_grade(m.group(1)) for m in GRADE_WORD.finditer(query.text)}
    return list(dict.fromkeys(j.area for j in judgements if j.grade in asked)) or ["overall_effectiveness"]


def reasons_first(searcher: Searcher, question: str, result: SearchResult, areas: Sequence[str], reasons: str,
                   k: int) -> SearchResult:
    """A why-question: where each report gives the reasons for the grade (rag.answer.reasons: a 'because:'
    list, its opening summary, the graded area's own section), then what the report says needs to improve,
    ahead of the rest: the reasons for a grade are rarely in the question's words, but they are there."""
    patterns = area_patterns(areas)
    ranked = searcher.search(question, REASONS_DEPTH, report_ids=result.reports).hits
    reports = searcher.index.reports
    own = [Hit(p, reports[rid], 0.0) for rid in result.reports
           for p in reason_paragraphs(reports[rid], areas, reasons)]
    improve = [h for h in ranked if any(IMPROVE.search(x) for x in h.paragraph.headings)
               and not any(p.search(x) for x in h.paragraph.headings for p in patterns)][:2]
    hits: dict[str, Hit] = {}
    for hit in (*own, *improve, *result.hits, *ranked):
        if not any(AREA_FACTS.search(h) for h in hit.paragraph.headings):
            hits.setdefault(hit.paragraph.id, hit)
    return replace(result, hits=tuple(hits.values())[:max(k, len(own) + len(improve))])
