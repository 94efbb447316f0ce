"""Planning an answer: which passages an engine sees (one group, or one per authority in a comparison),
or that the answer comes straight from data (rag.answer.from_data): graded judgements and questions about
the whole country. No language model here: rag.answer.chain runs the engines, rag.answer.finish turns what
they write into a checked Answer."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from rag.answer.earlier import from_earlier_report
from rag.answer.from_data import grade_phrase, judgement_plan, table_plan, year_of
from rag.answer.parts import areas_of_graded_parts, asks_a_figure_too, searched_by_part
from rag.answer.plans import Group, Plan, PlanMode
from rag.answer.reasons import improvement_items
from rag.answer.verify import Passage
from rag.answer.why import REASON_PASSAGES, asks_why, reasons_asked, reasons_first, why_areas
from rag.ofsted.grades import grades_area, same_area
from rag.ofsted.table import report_day
from rag.records import NOT_IN_REPORTS, Hit, Judgement
from rag.search.followup import standalone_question
from rag.search.grammar import MONTH, QUESTION_NOISE, YEAR, last_sentence, topic_words
from rag.search.national import national_question
from rag.search.question import Query, parse_query
from rag.search.reports import date_cue
from rag.search.retrieval import Searcher, SearchResult
from rag.text.words import MONTHS, STOP_WORDS, content_words

__all__ = ["Group", "Plan", "PlanMode", "grade_phrase", "plan", "table_plan"]


# A grade question that names no authority is about each one the corpus holds: a few are compared report
# by report (the bundled five), more are read from the judgements table like a national question.
MANY_AUTHORITIES = 12


def plan(searcher: Searcher, question: str, history: Sequence[dict] = (), *, k: int = 10, context_k: int = 5,
         authorities: Sequence[str] | None = None, year: int | None = None) -> Plan:
    standalone = standalone_question(question, history) if history else question
    parsed = parse_query(standalone, searcher.authorities)
    unnamed_many = not parsed.authorities and not parsed.unknown_authorities \
        and len(searcher.authorities) > MANY_AUTHORITIES
    national = None if authorities else national_question(standalone, parsed, unnamed_many=unnamed_many)
    if national is not None:
        # A question about many authorities is answered from the table: no search (a search per authority
        # of a national corpus would take seconds and add nothing).
        return table_plan(question, standalone, SearchResult(parsed, ()), national, searcher)
    result = searcher.search(standalone, k, authorities=authorities, year=year, query=parsed)
    query = result.query
    if query.unknown_authorities and not result.hits:
        covered = ", ".join(searcher.authorities) or "no authority yet"
        missing = " and ".join(query.unknown_authorities)
        text = f"{NOT_IN_REPORTS} The corpus has no report on {missing}; it covers {covered}."
        return Plan(question, standalone, result, PlanMode.ABSTAIN, text=text)
    if not result.hits:
        return Plan(question, standalone, result, PlanMode.ABSTAIN, text=NOT_IN_REPORTS)
    preface = " ".join(x for x in (result.conflict, *(c.note for c in result.choices if c.missing)) if x)
    notes = tuple(c.note for c in result.choices if c.note and not c.missing)
    # A grade and a figure asked together ('what did it conclude, and how many ...?'): the grades come from
    # the table beside prose that answers the rest, not from the table alone.
    figure_too = asks_a_figure_too(query, searcher)
    found = None if figure_too else _judgements_asked(searcher, query, result)
    # 'X was rated good in 2022. What did it need to improve?': the grade sets the scene; the list answers.
    improvements = _improvements_asked(searcher, query, result)
    if found is not None and not asks_why(standalone) and not improvements:
        return replace(judgement_plan(question, standalone, result, found, searcher), preface=preface,
                       notes=notes)
    course = found is None and _asks_course(query)
    if found is None and (_asks_summary(standalone) or _asks_overview(query) or course) \
            and not set(query.areas_named) - {"overall_effectiveness"}:
        # 'Summarise the 2022 inspection', 'how did X do?', 'how do X and Y compare?': each report's grades
        # and its own summary; 'what trajectory has X followed?': each report's overall grade.
        summary = [j for rid in dict.fromkeys(result.reports) for j in searcher.index.reports[rid].judgements
                   if not j.service and (not course or j.area in same_area("overall_effectiveness"))]
        if summary:
            return replace(judgement_plan(question, standalone, result, summary, searcher,
                                           areas=("overall_effectiveness",), earlier_years=_missing_years(result)),
                           preface=preface, notes=notes)
    if figure_too and not result.by_authority:
        result = searched_by_part(searcher, standalone, result, k)
    if result.by_authority:
        groups = []
        key = 1
        per = max(2, min(3, context_k))
        for authority, hits in result.by_authority.items():
            listed = improvements.get(authority, ())
            passages = tuple(Passage(key + i, h) for i, h in enumerate(listed[:IMPROVEMENTS] or hits[:per]))
            key += len(passages)
            groups.append(Group(authority, passages, _for_authority(query, authority), query.topic or query.text,
                                "improvements" if listed else ""))
        for i, group in enumerate(groups):
            groups[i] = _with_area_grade(searcher, query, result, group, figure_too, key)
            key += len(groups[i].passages) - len(group.passages)
        return Plan(question, standalone, result, PlanMode.COMPARE, tuple(groups), preface=preface, notes=notes)
    over_time = _per_report(searcher, standalone, query, result, context_k) if not improvements else ()
    if over_time:
        return Plan(question, standalone, result, PlanMode.COMPARE, over_time, preface=preface, notes=notes)
    reasons, reason_areas = reasons_asked(searcher, query, result)
    if reasons:
        result = reasons_first(searcher, standalone, result, reason_areas, reasons, k)
    seen = max(context_k, REASON_PASSAGES) if reasons else context_k
    if improvements and not reasons:
        # The report's own list is the answer: its items only, not the search's other paragraphs.
        listed = tuple(h for hits in improvements.values() for h in hits)[:IMPROVEMENTS]
        result = replace(result, hits=listed + tuple(h for h in result.hits if h not in listed))
        reasons, seen = "improvements", len(listed)
    if not reasons and (earlier := from_earlier_report(searcher, standalone, result, k)) is not None:
        result, notes = earlier, tuple(c.note for c in earlier.choices)     # the latest report does not say
    passages = tuple(Passage(i, h) for i, h in enumerate(result.hits[:seen], start=1))
    grades, graded = _area_grades(searcher, query, result, passages, figure_too)
    group = Group(None, passages + graded, standalone, query.topic or standalone, reasons)
    return Plan(question, standalone, result, PlanMode.SINGLE, (group,), preface=preface, notes=notes, grades=grades)


def _per_report(searcher: Searcher, question: str, query: Query, result: SearchResult,
                context_k: int) -> tuple[Group, ...]:
    """'Has Ofsted repeatedly raised concerns about return home interviews in X?', 'Had X got caseloads under
    control by 2018 compared with 2014?': one authority's topic over several of its reports, each report
    searched on its own and answered on its own line, so the report that matches best cannot crowd out the
    others. Empty for any other question."""
    choices = [c for c in result.choices if c.reports]
    if len(choices) != 1 or not choices[0].timeline or len(choices[0].reports) < 2 or asks_why(question):
        return ()
    per = max(2, min(3, context_k))
    about = " ".join(w for w in re.findall(r"[\w'’-]+", query.topic or question)
                     if w.lower() not in QUESTION_NOISE and w.lower() not in STOP_WORDS) or question
    groups: list[Group] = []
    key = 1
    for report in choices[0].reports:
        # The topic's own words: the question's years and 'inspection' would rank the report's dates first.
        hits = searcher.search(about, per, report_ids=[report.id]).hits[:per]
        if not hits:
            continue
        label = f"{choices[0].authority} ({year_of(report_day(report))})"
        passages = tuple(Passage(key + i, h) for i, h in enumerate(hits))
        key += len(passages)
        groups.append(Group(label, passages, _for_authority(query, label), query.topic or query.text))
    return tuple(groups) if len(groups) >= 2 else ()


def _missing_years(result: SearchResult) -> tuple[str, ...]:
    """The years the question asked for that no report of the corpus has (the nearest answers instead)."""
    return tuple(dict.fromkeys(str(y) for c in result.choices for y in c.missing_years))


_SUMMARY = re.compile(r"\bsummar(?:ise|ize|y)\b|\boverview\b|\b(?:main|key|overall) findings\b|\bconclu(?:de|sions?)\b"
                      r"|\b(?:outcome|result|verdict)s?\s+of\s+(?:the\s+|its\s+|their\s+)?(?:[\w'’-]+\s+){0,4}"
                      r"(?:inspection|report)s?\b|\binspection (?:outcome|result)s?\b"
                      # 'What did the 2017 inspection of Medway find?', 'What did Ofsted find when it inspected
                      # Bolton in 2021?': the whole report, when nothing follows but when it was.
                      r"|\bwhat did\b[^?]{0,100}\b(?:inspection|inspectors|ofsted|report|visit)\b[^?]{0,80}?"
                      r"\b(?:find|say|conclude)\b"
                      r"(?:\s+(?:when|at|in|during|from|on)\b(?![^?]*\babout\b)[^?]*)?\s*\??\s*$"
                      r"|\bhow did\b.{1,60}\bdo\b(?!\s+(?:on|for|with|about|in (?:relation|respect)))"
                      # 'What did Ofsted say about Nottingham's children's services in 2016?': the whole service.
                      r"|\bwhat did\b[^?]{0,60}\b(?:say|find|conclude|think)\s+(?:about|of)\s+(?:[\w'’,&-]+\s+){0,6}?"
                      r"children['’]?s\s+services\b(?:\s+(?:in|at|during)\b[^?]*)?\s*\??\s*$", re.I)


def _asks_summary(question: str) -> bool:
    """A question about a whole report: 'summarise', 'main findings', 'what did it conclude', 'how did X do'
    (a follow-up's bracketed context aside: 'what did the next inspection find (the inspection after 2020)?')."""
    return bool(_SUMMARY.search(re.sub(r"\s*\([^()]*\)", "", question)))


_GRADE_TALK = frozenset(content_words("grade grades graded judgement judgements judged rating ratings rated latest "
                                      "recent current most overall next previous prior before after result results "
                                      "outcome one better worse best worst fared higher lower "
                                      "ILACS SIF published inspected out both spring summer autumn winter early late "
                                      + " ".join(MONTHS)))


def _asks_overview(query: Query) -> bool:
    """'How did Kent and Essex compare?', 'Compare the latest grades for Dorset and Bristol.': authorities
    named and nothing asked about them but their grades, in the question's last sentence (one before it may
    only set the scene)."""
    # 'both had reports out on 13 January 2025': a date says which reports, not what about them.
    last = re.sub(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?={MONTH}\b)", " ", last_sentence(query.topic), flags=re.I)
    return bool(query.authorities) and not topic_words(last) - _GRADE_TALK


_COURSE_TALK = frozenset(content_words("trajectory course journey path history change changed changes moved trend "
                                       "progress progressed followed evolved across over time inspections each "
                                       "every all two three four five children's services service children things "
                                       "fared years ever since got gone improved improve better worse declined "
                                       "deteriorated"))


def _asks_course(query: Query) -> bool:
    """'What trajectory have X's children's services followed across its three inspections?': the course of
    the authority as a whole, asked of its reports over time and nothing else."""
    last = last_sentence(query.topic)
    return bool(query.authorities) and date_cue(query.text).timeline \
        and not topic_words(last) - _GRADE_TALK - _COURSE_TALK


_IMPROVEMENTS_ASKED = re.compile(
    r"\bneed(?:s|ed)? to (?:improve|do better|address|change)\b"
    r"|\bareas? (?:for|of|needing|requiring|that need) "
    r"(?:improvement|development|action)\b|\brecommend(?:ation)?s?\b|\bimprovements? (?:were |are |was |is )?"
    r"(?:needed|required|recommended|called for)\b|\bwhat (?:improvements|actions)\b"
    r"|\b(?:should|must|ought to) (?:\w+ ){0,3}improve\b|\bpriorit(?:y|ies) for (?:improvement|action)\b"
    r"|\b(?:had|has|have|having) to improve\b|\b(?:still\s+)?need(?:s|ed)?\s+(?:more\s+|further\s+)?work\b"
    r"|\b(?:want|wants|wanted|need|needs|needed)\s+(?:\w+\s+){0,2}improv(?:ed|ing)\b"
    r"|\banything\b[^?.]{0,40}\bimprov(?:e|ed|ing)\b"
    r"|\b(?:want|wants|wanted|ask|asks|asked|expect|expects|expected|tell|tells|told|advise[sd]?|urge[sd]?)\b"
    r"[^?.]{0,40}\bto improve\b", re.I)
_IMPROVEMENT_TALK = frozenset(content_words("need needs needed improve improvement improvements area areas action "
                                            "actions recommend recommended recommendation recommendations identify "
                                            "identified required priority priorities development each should must "
                                            "address change better"))
IMPROVEMENTS = 8        # items of a report's 'what needs to improve' an engine sees


def _improvements_asked(searcher: Searcher, query: Query, result: SearchResult) -> dict[str, tuple[Hit, ...]]:
    """'What did Ofsted say Medway needs to improve?', 'What were the recommendations for care leavers?': the
    items of each report's own list of what needs to improve, by authority; when the question names a topic
    that items name, only those items. Empty when the question asks something else."""
    if asks_why(query.text) or not _IMPROVEMENTS_ASKED.search(query.text) or not result.reports:
        return {}
    # What the last sentence asks about ('... rated good in 2022. What did each need to improve for care
    # leavers?'): the items that name most of it.
    last = last_sentence(query.topic or query.text)
    # 'the 2013 looked after children inspection' says which report, not what about.
    last = re.sub(rf"\b(?:the|its|their)\s+(?:{YEAR}\s+)?(?:[\w'’-]+\s+){{1,4}}?(?:inspection|report|review|visit)\b",
                  " ", last, flags=re.I)
    about = topic_words(last) - _IMPROVEMENT_TALK - _GRADE_TALK
    found: dict[str, tuple[Hit, ...]] = {}
    for rid in result.reports:
        report = searcher.index.reports[rid]
        items = improvement_items(report, about)
        if items:
            found[report.authority or rid] = found.get(report.authority or rid, ()) + tuple(
                Hit(p, report, 1.0) for p in items)
    return found


def _area_grades(searcher: Searcher, query: Query, result: SearchResult, given: tuple[Passage, ...],
                 figure_too: bool = False, start: int = 0, in_cell: bool = False) -> tuple[str, tuple[Passage, ...]]:
    """A question about an area Ofsted grades ('how did X do on care leavers?', 'why was it judged
    inadequate?') gets that grade from the judgements table beside the prose the engine writes, so a
    hopeful paragraph cannot hide an inadequate grade."""
    why = asks_why(query.text) and query.asks_judgement
    # 'Overall' in a question that asks no grade is a manner of speaking, not the overall judgement.
    areas = [a for a in (why_areas(searcher, query, result) if why else areas_of_graded_parts(query, searcher))
             if why or a != "overall_effectiveness"]
    if not areas or (query.asks_judgement and not why and not figure_too):
        return "", ()

    lines: list[str] = []
    passages: list[Passage] = []
    keys = {p.hit.paragraph.id: p.key for p in given}
    for rid in result.reports:
        report = searcher.index.reports[rid]
        for j in report.judgements:
            if j.service or not any(grades_area(j.area, j.label, a) for a in areas):
                continue
            if j.paragraph_id not in keys:      # a paragraph the engine sees already keeps its key
                paragraph = searcher.index.paragraph(j.paragraph_id)
                passages.append(Passage(max(start, len(given)) + len(passages) + 1, Hit(paragraph, report, 1.0)))
                keys[j.paragraph_id] = passages[-1].key
            year = year_of(report_day(report))
            # A comparison's cell names its authority already: the line keeps the year.
            lines.append(f"{j.label} — {grade_phrase(j)} ({year}) [{keys[j.paragraph_id]}]." if in_cell else
                         f"{report.authority} ({year}): {j.label} — {grade_phrase(j)} [{keys[j.paragraph_id]}].")
    return "\n".join(lines), tuple(passages)


def _with_area_grade(searcher: Searcher, query: Query, result: SearchResult, group: Group,
                     figure_too: bool, next_key: int) -> Group:
    """A comparison on an area Ofsted grades ('compare care leaver services in Peterborough and North
    Somerset') states each authority's grade of it in its own cell, beside the prose, as a single answer does.
    The grade's paragraph gets the next key free across the cells (`next_key`)."""
    mine = replace(result, reports=tuple(r for r in result.reports
                                         if searcher.index.reports[r].authority == group.authority))
    lines, graded = _area_grades(searcher, query, mine, group.passages, figure_too, start=next_key - 1, in_cell=True)
    return replace(group, passages=group.passages + graded, grades=lines.replace("\n", " ")) if lines else group


def _for_authority(query: Query, authority: str) -> str:
    topic = query.topic.strip().rstrip("?.") or query.text
    return f"{topic} ({authority})?"


# ---- graded judgements: answered from the judgements table ---------------------------------------------

def _judgements_asked(searcher: Searcher, query: Query, result: SearchResult) -> list[Judgement] | None:
    """The table rows a judgement question asks for, or None when the table is not the way to answer it."""
    areas = query.judgement_areas or ((query.judgement_area,) if query.judgement_area else ())
    every_area = query.asks_judgement and _asks_every_area(query.text)
    if not query.asks_judgement or not (areas or every_area):
        return None
    reports = [searcher.index.reports[rid] for rid in dict.fromkeys(result.reports or
                                                                    [h.report.id for h in result.hits])]
    inspected = [r for r in reports if r.report_type.startswith("ofsted")]
    if not inspected:
        return None
    if every_area:
        scope = query.judgement_scope
        return [j for r in inspected for j in r.judgements if not j.service or not scope or j.service == scope]
    # 'How did their judgements compare, especially for care leavers?': the area stressed, and the overall
    # grade the question also asks about.
    overall_too = bool(_STRESSED_AREA.search(query.text))
    return [j for r in inspected for j in r.judgements
            if query.asks_for(j) or overall_too and not j.service and j.area == "overall_effectiveness"]


_STRESSED_AREA = re.compile(r"\b(?:their|its|the)\s+(?:overall\s+)?(?:judge?ments|grades|ratings|results)\b"
                            r"[^?]{0,40}\b(?:especially|particularly|in particular|notably|above all)\b", re.I)


_EVERY_AREA = re.compile(r"\bwhich\s+(?:\w+\s+){0,2}(?:judge?ments?|areas?|grades?|ratings?|services?)\b"
                         r"|\bany (?:other )?(?:parts?|areas?|aspects?|judge?ments?)\b[^?]{0,40}?"
                         r"\b(?:rated|judged|graded)\b"
                         r"|\b(?:top|highest|lowest|best|worst|weakest|strongest|only)\s+(?:\w+\s+)?"
                         r"(?:grade|judge?ment|rating)s?\b"
                         r"|\b(?:each|every|all|the other)\s+(?:of\s+(?:its|the|their)\s+)?(?:\w+\s+)?"
                         r"(?:judge?ments?|areas?|grades?)\b", re.I)


def _asks_every_area(question: str) -> bool:
    """'Which judgement was not outstanding?', 'which area got the top grade?', 'and the other grades?':
    the answer is found among all of a report's grades, so all of them are given."""
    return bool(_EVERY_AREA.search(question))


