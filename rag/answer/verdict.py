"""Yes or no, from the grades an answer states. 'Was Knowsley rated inadequate at its last inspection?',
'Did Hampshire keep its outstanding rating in 2024?', 'Has Cheshire West and Chester improved since 2019?':
the judgements table decides, so every engine opens such an answer with the same word, and the lines after
it (each citing the paragraph that states its grade) show why. A question the grades do not settle (two
grades asked, a mixed result, a report with no such grade) gets no verdict rather than a guess."""
from __future__ import annotations

import re
from collections.abc import Sequence

from rag.ofsted.grades import GRADE_WORD, normalise_grade
from rag.records import Judgement
from rag.search.grammar import asks_yes_no, last_sentence

_BETTER = re.compile(r"\b(?:improv(?:e|ed|es|ing|ement)|better|progress(?:ed)?|mov(?:e|ed) up|g(?:o|one|ot) up"
                     r"|went up|upgraded)\b", re.I)
_WORSE = re.compile(r"\b(?:declin(?:e|ed|ing)|deteriorat(?:e|ed|ing)|worse|slipp?(?:ed)?|g(?:o|one) down|went down"
                    r"|fallen|fell|downgraded|dropped|drop)\b", re.I)
_EVER = re.compile(r"\b(?:ever|any|at any (?:point|time)|once)\b", re.I)
# Rank on one scale: the 2009-13 frameworks' 'adequate' is where 'requires improvement' is.
_RANK = {"outstanding": 0, "good": 1, "requires improvement": 2, "adequate": 2, "inadequate": 3}
_NEGATED = re.compile(r"n['’]t\b|\bnot\b|\bnever\b", re.I)


def verdict(question: str, rows: Sequence[Judgement]) -> str:
    """'Yes.' or 'No.' (with the change, for a question about one), or '' when the grades do not settle it.
    `rows`: the judgements the answer states for the areas asked."""
    last = last_sentence(question)
    if not rows or not asks_yes_no(last) or _NEGATED.search(last):
        return ""       # 'Wasn't it good?' is answered 'yes' and 'no' alike: the grades say it plainly instead
    asked = {normalise_grade(m.group(1)) for m in GRADE_WORD.finditer(last)}
    plain = GRADE_WORD.sub(" ", last)       # 'requires improvement' is a grade, not a change
    better, worse = bool(_BETTER.search(plain)), bool(_WORSE.search(plain))
    if better != worse:
        return _change(rows, better)
    if len(asked) != 1 or better:
        return ""
    wanted = asked.pop()
    matched = [j.grade == wanted for j in rows]
    if all(matched) or (_EVER.search(last) and any(matched)):
        return "Yes."
    return "No." if not any(matched) else ""


def _change(rows: Sequence[Judgement], better: bool) -> str:
    """'Has it improved?' / 'Has it declined?': the area's grade at the first report asked about against its
    grade at the last."""
    ranked = sorted((j for j in rows if j.grade in _RANK), key=lambda j: j.date)
    if len({j.area for j in rows}) != 1 or len({j.report for j in ranked}) < 2:
        return ""
    first, last = ranked[0], ranked[-1]
    step = _RANK[first.grade] - _RANK[last.grade]       # > 0: better
    then, now = f"{first.grade} in {first.date[:4]}", f"{last.grade} in {last.date[:4]}"
    if step == 0:
        return f"No: {then} and {now}."
    return f"Yes: from {then} to {now}." if (step > 0) == better else f"No: it went from {then} to {now}."
