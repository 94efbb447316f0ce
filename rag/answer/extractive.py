"""The extractive engine: no language model. The answer is the retrieved paragraphs' best supporting
sentences, each with its [n] key, so it goes through the same citation checks as a generated answer.

It abstains when no sentence covers enough of the question or when none holds the kind of thing asked
for (a number for 'how many', a name for 'what is X called').
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from math import fsum  # exact: a sum over a set is the same whatever its order (hash seed)

from rag.answer.verify import CONTRAST, Passage, is_instruction
from rag.index.weights import UNSEEN_WORD_WEIGHT
from rag.ofsted.glossary import expand, expanded_words
from rag.ofsted.grades import GRADE_WORD
from rag.records import NOT_IN_REPORTS
from rag.search.grammar import topic_words
from rag.text.words import MONTHS, NUMBER_WORDS, content_words, numbers_in, split_sentences

MIN_COVERAGE = 0.2        # weighted share of the question's content words a sentence must contain
MAX_SENTENCES = 3
MAX_WORDS = 110


# 'When' asks a date only as a question word ('when did', 'and when was'): 'why ..., when the other areas
# were good?' and 'When Ofsted visited, what ...?' ask no date.
_WHEN_ASKED = r"\bwhen\s+(?:did|do|does|was|were|is|are|has|have|had|will|would|could|can)\b"


def expected_kinds(question: str) -> set[str]:
    """What sorts of thing answer the question: numbers, dates, names (several for a two-part question)."""
    q = question.lower()
    kinds: set[str] = set()
    if re.search(r"\bhow (?:much|big|large)\b.*\b(?:spend|spent|cost|budget|fund|funding|pay|paid|invest|money"
                 r"|savings?|gap|deficit|overspend)\b"
                 r"|\bwhat (?:was|is|were|are) (?:[\w'’-]+ ){0,4}(?:budgets?|spend|spending|expenditure)\b", q):
        return {"money"}
    if re.search(r"\bhow (?:many|much|big|large)\b"
                 r"|\bwhat (?:[\w'’-]+ ){0,3}(?:percentage|proportion|share|number|rate|ratio)s?\b"
                 r"|\bby how much\b"
                 r"|\bwhat (?:was|is|were|are) (?:the |its |their )?(?:[\w'’-]+ ){0,4}(?:rate|number|percentage"
                 r"|proportion|ratio)s?\b"
                 r"|\bwhat (?:was|is|were|are) (?:the |its |their )?(?:average|mean|median)\b", q):
        kinds.add("number")
    if re.search(rf"(?:^|[,;] |\band )(?:since )?{_WHEN_ASKED}|\bwhat (?:year|date|month)\b|\bhow long\b", q):
        kinds.add("date")
    if re.search(r"\bname of\b|\bcalled\b|\bwhat is the name\b|\bwho (?:is|was|were) the\b"
                 r"|^\W*who (?:is|was|were)\b", q):
        kinds.add("name")
    return kinds


def asks_two_things(question: str) -> bool:
    """'What did the review conclude, and how many children ...?': two question words, two things asked."""
    return len(re.findall(rf"\b(?:what|how|why|which|who|where)\b|{_WHEN_ASKED}", question.lower())) > 1


_PHRASE_END = frozenset("""are were is was be been being have has had did do does in on at by with for of who which
that than this these those across per during under over from into""".split())


@lru_cache(maxsize=256)
def counted_words(question: str) -> frozenset[str]:
    """What a 'how many' question counts, as stemmed words of the (up to three-word) phrase after 'how
    many': 'How many looked after children ...' -> {look, children}; empty for other questions."""
    match = re.search(r"\bhow many\s+((?:[\w'’-]+\s*){1,3})", question.lower())
    if not match:
        return frozenset()
    phrase: list[str] = []
    for word in match.group(1).split():
        if word in _PHRASE_END:
            break
        phrase.append(word)
    return frozenset(content_words(" ".join(phrase)))


_COUNT = re.compile(r"(?<![\w.,])(?:\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?%?|" + "|".join(NUMBER_WORDS) + r")\b"
                    r"((?:\s+[\w'’()-]+){1,4})", re.I)


_MONTH_YEAR = re.compile(r"\b(" + "|".join(MONTHS) + r")\s+(?:\d{1,2}(?:st|nd|rd|th)?,?\s+)?((?:19|20)\d\d)\b", re.I)


def month_years(text: str) -> set[tuple[str, str]]:
    """The months a text dates ('31 March 2013', 'September 2017') as (month, year)."""
    return {(m.group(1).lower(), m.group(2)) for m in _MONTH_YEAR.finditer(text)}


def counts(sentence: str, counted: frozenset[str]) -> bool:
    """Whether the sentence gives a number of what is counted ('220 children are ...', 'seven looked
    after children'): one of the counted words within the four words after a number."""
    return bool(counted) and any(counted & content_words(m.group(1)) for m in _COUNT.finditer(sentence))


_ROLE_WORDS = frozenset("""chief executive director deputy assistant head heads manager managers officer officers
lead member members principal social worker workers service services team teams council councils board boards
local authority authorities children children's young people ofsted inspector inspectors chair chairs
committee panel group forum partnership trust school schools virtual the a an this these in of for and
mr mrs ms dr""".split())


def has_kind(sentence: str, kind: str, question: str, known: frozenset[str] = frozenset()) -> bool:
    """Whether the sentence holds a thing of the kind asked for. `known`: words that are not an answer
    to 'what is it called' (the question's own words, authority names)."""
    if kind == "number":
        # '14 to 18 March 2022' counts nothing; nor do an age or a length of time ('over 21 years', 'aged
        # 16') when the question counts something else.
        text = _DATES.sub(" ", sentence)
        if not _ASKS_TIME.search(re.sub(r"\bat the time\b", " ", question, flags=re.I)):
            text = _SPANS.sub(" ", text)
        # 'How many children ...?': not 'two forums' or 'Year 11', numbers of something else.
        counted = counted_words(question)
        if counted:
            text = _SCHOOL_YEAR.sub(" ", text)
            text = _OTHER_COUNT.sub(lambda m: m.group(0) if content_words(m.group(2)) & (counted | _PEOPLE)
                                    or not _PLURAL_NOUN.fullmatch(m.group(2).split()[0]) else " ", text)
        return bool(numbers_in(text))
    if kind == "money":
        return bool(re.search(r"£\s?\d|\b\d[\d,.]*\s?(?:million|m|k|bn|billion|pounds)\b", sentence, re.I))
    if kind == "date":
        # 'between four and eight months' is a length of time as much as '4-8 months' is.
        return bool(re.search(r"\b(?:19|20)\d\d\b|\b(?:%s)\b|\b(?:\d+|%s)[\s-]+(?:years?|months?|weeks?|days?)\b"
                              % ("|".join(MONTHS), "|".join(NUMBER_WORDS)), sentence, re.I))
    asked = _question_words(question) | known
    if re.search(r"['‘\"“][A-Z][^'’\"”]{1,40}['’\"”]", sentence):
        return True                                   # a quoted name: 'Kickback'
    naming = _NAMING.search(sentence)
    if naming and _plain(naming.group(1) or naming.group(2)) not in asked:
        return True                                   # a name given in words: 'known as care-experienced ...'
    text = sentence.strip()
    for run in _CAPITALISED_RUN.finditer(text):
        before = text[:run.start()].rstrip().lower()
        if not before or before.endswith((".", "!", "?")):
            continue                                  # a capital that only starts the sentence
        words = [w for w in re.findall(r"[A-Za-z][\w'’-]*", run.group(0)) if w[0].isupper()]
        fresh = [w for w in words if _plain(w) not in asked and _plain(w) not in _ROLE_WORDS
                 and _plain(w) not in MONTHS]
        if any(w.isupper() and len(w) >= 3 for w in fresh):
            return True                               # an acronym the question did not use: CLICK
        if fresh and not re.search(r"\b(?:the|a|an)$", before):
            return True                               # 'the Local Safeguarding Children Board' is a body, not a name
    return False


@lru_cache(maxsize=256)
def _question_words(question: str) -> frozenset[str]:
    """The question's words, and their abbreviations: 'DCS' names no one when 'director of children's
    services' is asked about. Cached: asked of every sentence of the passages."""
    return frozenset(_plain(w) for w in re.findall(r"[A-Za-z][\w'’-]*", " ".join((question, *expand(question)))))


# A report's front matter: its dates and inspectors, never a finding.
FRONT_MATTER = re.compile(r"^\s*(?:inspection dates?|report published|lead inspector)\b", re.I)
_ANAPHOR = re.compile(r"^\W*(?:this|these|of these|of those|such)\b", re.I)   # not "it": most often the council
_DATES = re.compile(rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:(?:to|and|-|–)\s+\d{{1,2}}(?:st|nd|rd|th)?\s+)?)?"
                    rf"(?:{'|'.join(MONTHS)})\b|\b(?:19|20)\d\d(?:\s*[-–/]\s*\d{{2,4}})?\b", re.I)
_ASKS_TIME = re.compile(r"\b(?:time|timescales?|timel\w+|years?|months?|weeks?|days?|hours?|long|quick\w*|fast\w*"
                        r"|slow\w*|wait\w*|delay\w*|short\w*|age|ages|aged|old|older|younger)\b", re.I)
_SPANS = re.compile(r"\baged?\s+(?:\d+|\w+teen|twenty[\w-]*)(?:\s*(?:-|–|to|and)\s*\d+)?\b"
                    r"|\b\d+(?:\s*(?:-|–|to|and)\s*\d+)?[\s-]*(?:years?|months?|weeks?|days?|hours?)(?:[\s-]+old)?\b",
                    re.I)
_SCHOOL_YEAR = re.compile(r"\b(?:year|key stage|ks)\s*\d{1,2}\b", re.I)
# A number written in words and the words after it ('two forums'): what it counts, when the first is a plural
# noun ('not in contact with eight despite efforts' counts what the sentence before names). Figures are left
# alone: reports count in other words than questions ('94 cases' of assessments).
_OTHER_COUNT = re.compile(r"(?<![\w.,])(" + "|".join(NUMBER_WORDS) + r")((?:\s+[A-Za-z][\w'’-]*){1,6})", re.I)
_PLURAL_NOUN = re.compile(r"(?!(?:is|was|has|does|this|thus|always|perhaps|across|less|unless)$)[a-z][\w'’-]*s", re.I)
_PEOPLE = frozenset(content_words("children child young people person persons family families carers adults "
                                  "babies parents leavers"))
_TABLE_HEADER = re.compile(r"^\s*(?:key\s+)?judge?ments?(?:\s+grades?)?\s*\|\s*(?:judge?ment\s+)?grades?\s*$", re.I)
_NAMING = re.compile(r"\b(?:known|referred to|badged|branded) as\s+(?:the\s+|an?\s+)?([\w'’-]+)"
                     r"|\b(?:called|termed|named)\s+(?:the\s+|an?\s+)?([\w'’-]+)", re.I)
_CAPITALISED_RUN = re.compile(r"[A-Z][\w'’-]*(?:\s+(?:of|and|for|&)?\s*[A-Z][\w'’-]*)*")


def _plain(word: str) -> str:
    return word.lower().replace("’", "'").removesuffix("'s")


def on_topic(sentence: str, question: str) -> bool:
    """A sentence that shares no content word with the question (glossary synonyms counted) is about
    something else, however true it is."""
    wanted = topic_words(question)
    return not wanted or bool(wanted & expanded_words(sentence))


# The findings behind a grade, in the words inspectors use for them: weaknesses below good, strengths above.
_WEAKNESS = re.compile(
    r"\b(?:not|no|too (?:many|few|long|slow|high|low|often)|insufficient(?:ly)?|lack(?:s|ing)?|weak(?:ness(?:es)?)?"
    r"|poor(?:ly)?|delays?|delayed|drift|inconsistent(?:ly)?|variable|underdeveloped|limited|absent|ineffective"
    r"|fail(?:s|ed|ing|ures?)?|gaps?|deficits?|shortfalls?|unclear|unable|unsafe|does not|do not"
    r"|yet to|concerns?|remain(?:s)? (?:too|high|low))\b", re.I)
_STRENGTH = re.compile(
    r"\b(?:good|strong(?:ly)?|effective(?:ly)?|well|timely|robust|consistent(?:ly)?|high[- ]quality|improved"
    r"|thorough|exceptional|skilled|swift(?:ly)?|prompt(?:ly)?|benefit|purposeful|comprehensive"
    r"|sustained|embedded)\b", re.I)
REASON_SENTENCES = 4
IMPROVEMENT_ITEMS = 6      # of a report's list of what needs to improve, quoted in full


# The headings of what a report says must improve (its recommendations).
IMPROVE = re.compile(r"\bwhat needs to improve\b|\bneed to improve\b"
                     r"|\bareas? for (?:priority )?(?:action|improvement)\b"
                     r"|\brecommendations?\b", re.I)


def findings(text: str, reasons: str) -> int:
    """How many findings of the kind that explain a grade ("weaknesses" or "strengths") a text states; an
    item of a report's list of what needs to improve ("improvements") is one."""
    if reasons == "improvements":
        return 1
    return len((_WEAKNESS if reasons == "weaknesses" else _STRENGTH).findall(text))


def reason_sentences(passages: Sequence[Passage], reasons: str, *, limit: int = REASON_SENTENCES,
                     max_words: int = MAX_WORDS + 40) -> list[tuple[str, int, float]]:
    """(sentence, key, score) of the findings that explain a grade ("weaknesses" or "strengths"), taken from
    the passages in their order (the plan puts the area's own section first): a sentence counts by the
    findings it states, not by the question's words, which reasons rarely share."""
    scored: list[tuple[float, int, int, str]] = []
    for rank, passage in enumerate(passages):
        if reasons == "improvements" and not any(IMPROVE.search(h) for h in passage.hit.paragraph.headings):
            continue                                # the list's items only, not the grade beside them
        for position, sentence in enumerate(split_sentences(passage.text)):
            if is_instruction(sentence) or _TABLE_HEADER.match(sentence) or len(sentence.split()) < 6 \
                    or "|" in sentence or GRADE_WORD.search(sentence) and len(sentence.split()) <= 15:
                continue                            # a grade-table row or heading states the grade, not its reasons
            found = findings(sentence, reasons)
            if found:
                scored.append((min(found, 3) / 3 + 1.0 / (1 + rank) + 0.05 / (1 + position), rank, position, sentence))
    scored.sort(key=lambda s: (-s[0], s[1], s[2]))
    chosen: list[tuple[str, int, float]] = []
    words = 0
    for score, rank, _, sentence in scored:
        n = len(sentence.split())
        if chosen and words + n > max_words or sum(key == passages[rank].key for _, key, _ in chosen) >= 2:
            continue                                # two findings a paragraph: the reasons, not one topic
        chosen.append((sentence, passages[rank].key, score))
        words += n
        if len(chosen) >= limit:
            break
    return chosen


def best_sentences(question: str, passages: Sequence[Passage], *, limit: int = MAX_SENTENCES,
                   max_words: int = MAX_WORDS, weights: Mapping[str, float] | None = None,
                   reasons: str = "") -> list[tuple[str, int, float]]:
    """(sentence, key, score) of the sentences that best answer the question, best first; empty when the
    passages do not hold the kind of thing asked for. `weights` (word -> IDF) make rare words count more.
    `reasons`: a why-question about a grade, answered by the findings behind it (reason_sentences)."""
    if reasons:
        return reason_sentences(passages, reasons, limit=IMPROVEMENT_ITEMS if reasons == "improvements"
                                else REASON_SENTENCES) or best_sentences(question, passages, limit=limit,
                                                                     max_words=max_words, weights=weights)
    core = topic_words(question)
    weight = (lambda w: weights.get(w, UNSEEN_WORD_WEIGHT)) if weights else (lambda w: 1.0)
    total = fsum(weight(w) for w in core) or 1.0
    kinds = expected_kinds(question)
    counted = counted_words(question)
    asked_dates = month_years(question)
    two_part = asks_two_things(question)
    scored: list[tuple[float, int, int, str, set[str]]] = []
    known = frozenset(_plain(w) for p in passages for w in (p.hit.report.authority or "").split())
    for rank, passage in enumerate(passages):
        paragraph = passage.hit.paragraph
        context = content_words(" ".join(paragraph.headings) + " " + paragraph.lead_in)
        previous: set[str] = set()
        for position, sentence in enumerate(split_sentences(passage.text)):
            if is_instruction(sentence) or _TABLE_HEADER.match(sentence):
                continue                            # orders inside a report, a table's header row: not an answer
            if FRONT_MATTER.match(sentence) and not kinds & {"date", "name"}:
                continue                            # 'Inspection dates: ... Lead inspector: ...' answers when/who only
            words = expanded_words(sentence)
            coverage = fsum(weight(w) for w in core & words) / total
            context_bonus = 0.15 * fsum(weight(w) for w in core & context - words) / total
            # The sentence before says what this one is about: 'Children in care wait for mental health
            # support. ... waits of up to 30 weeks' answers 'how long do children in care wait'. It makes
            # the sentence eligible; its rank is still its own words'.
            lead_in = fsum(weight(w) for w in core & previous - words) / total
            previous = words
            if _ANAPHOR.match(sentence):
                coverage += 0.5 * lead_in   # 'This accounts for 27% ...': its subject is the sentence before
            if coverage + context_bonus + 0.5 * lead_in < MIN_COVERAGE:
                continue
            matched = {k for k in kinds if has_kind(sentence, k, question, known)}
            if kinds and not matched and not two_part:
                continue                            # 'how many' answered by a sentence without a number
            # 'How many children ...': a sentence that gives a number of children beats one with any number.
            count_bonus = 0.15 if counts(sentence, counted) else 0.0
            # 'between March 2013 and September 2017': a sentence stating one of those dates is about them.
            date_bonus = 0.15 if asked_dates & month_years(sentence) else 0.0
            score = coverage + context_bonus + 0.08 / (1 + rank) + 0.1 * len(matched) + count_bonus + date_bonus
            scored.append((score, rank, position, sentence, matched))
    scored.sort(key=lambda s: (-s[0], s[1], s[2]))
    if kinds and not any(s[4] for s in scored):
        return []                                   # nothing of the kind asked for: abstain
    chosen: list[tuple[str, int, float]] = []
    words = 0
    for score, rank, _, sentence, _ in scored:
        n = len(sentence.split())
        if chosen and (words + n > max_words or score < 0.6 * chosen[0][2]):
            continue
        if any(sentence == c[0] for c in chosen):
            continue
        chosen.append((sentence, passages[rank].key, score))
        words += n
        # 'The LADO service is effective and well managed. However, the police ...': the report's own
        # counterpoint comes with the sentence it qualifies, so a finding is not quoted rosier than it is.
        after = _counterpoint(passages[rank].text, sentence) if not kinds else None
        if after and not any(after == c[0] for c in chosen) and words + len(after.split()) <= max_words:
            chosen.append((after, passages[rank].key, score))
            words += len(after.split())
        if len(chosen) >= limit:
            break
    return chosen


def _counterpoint(text: str, sentence: str) -> str | None:
    """The sentence right after `sentence` in its paragraph when it opens with 'However' (or the like)."""
    sentences = split_sentences(text)
    for i, s in enumerate(sentences[:-1]):
        if s == sentence and CONTRAST.match(sentences[i + 1]):
            return sentences[i + 1]
    return None


def compose(question: str, passages: Sequence[Passage], *, limit: int = MAX_SENTENCES,
            max_words: int = MAX_WORDS, weights: Mapping[str, float] | None = None, reasons: str = "") -> str:
    """The extractive answer with [n] keys, or the shared not-in-the-reports phrase."""
    chosen = best_sentences(question, passages, limit=limit, max_words=max_words, weights=weights, reasons=reasons)
    if not chosen:
        return NOT_IN_REPORTS
    return " ".join(_cite(sentence, key) for sentence, key, _ in chosen)


def _cite(sentence: str, key: int) -> str:
    sentence = sentence.strip()
    # A list item written in lower case ('improve the quality of supervision') starts a sentence of the answer:
    # capitalised, it reads as one and is checked as one, not run into the item before it.
    sentence = sentence[:1].upper() + sentence[1:]
    match = re.search(r"([.!?])[\"'”’)]?$", sentence)
    if match:
        return f"{sentence[:match.start()]} [{key}]{sentence[match.start():]}"
    return f"{sentence} [{key}]."
