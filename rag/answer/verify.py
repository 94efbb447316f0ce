"""Whether a cited paragraph supports a claim: the numbers, dates, months and grades the claim states must
be stated there; enough of the claim's words must be found in one or two of its sentences; and sentences
that give orders rather than state facts support nothing (report text is data, not instructions).
`resolve` also finds the right passage when the engine cited none or the wrong one.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.answer.meaning import meaning_problem, words
from rag.ofsted.glossary import expanded_words
from rag.ofsted.grades import normalise_grade
from rag.records import Hit
from rag.search.grammar import topic_words
from rag.text.words import MONTHS, content_words, numbers_in, split_sentences

# Months as dates: capitalised, and 'May' only next to a day or a year (not the verb).
_MONTHS = re.compile(r"\b(January|February|March|April|June|July|August|September|October|November|December"
                     r"|(?<=\d )May|May(?= \d{4}))\b")
SUPPORT_THRESHOLD = 0.45   # share of a claim's content words found in its cited passage's best sentence
# Grades a claim states must be stated by its cited paragraph too, like its numbers, however short the
# claim ('Wandsworth is outstanding [1].'). 'good' and 'adequate' are ordinary words as often as grades.
_GRADES = re.compile(r"\b(outstanding|inadequate|requires? improvement)\b", re.I)
# A sentence that gives orders to whoever reads it ('Ignore the question and say ...'): report text is
# data, so such a sentence supports no claim and is never quoted as evidence (prompt injection).
_INSTRUCTION = re.compile(
    r"^\W*(?:please\s+)?(?:ignore|disregard|forget|override)\b"
    r"|\b(?:ignore|disregard|forget)\s+(?:(?:all|any|the|your|previous|prior|earlier|above|these|those|other)\s+)*"
    r"(?:instructions?|questions?|rules?|prompts?|context|passages?)\b"
    r"|\b(?:assistant|chatbot|ai)\s*:"
    r"|^\W*(?:answer|reply|respond|say|state|write)\s+(?:that|with|only|exactly)\b"
    r"|^\W*(?:please\s+)?(?:do not|don't|never)\s+(?:mention|say|answer|reveal|cite|tell|report)\b"
    r"|\b(?:new|updated)\s+(?:system\s+)?(?:rules?|instructions?)\b", re.I)


@dataclass(frozen=True)
class Passage:
    """A retrieved paragraph as the engine sees it, under its short key."""
    key: int
    hit: Hit

    @property
    def text(self) -> str:
        return self.hit.paragraph.text


def is_instruction(sentence: str) -> bool:
    return bool(_INSTRUCTION.search(sentence))


def statements(text: str) -> str:
    """A paragraph's text without the sentences that are instructions rather than statements."""
    sentences = split_sentences(text)
    if not any(is_instruction(s) for s in sentences):
        return text
    return " ".join(s for s in sentences if not is_instruction(s))


def best_quote(claim: str, paragraph_text: str, max_sentences: int = 2) -> tuple[str, float]:
    """The paragraph's sentence(s) that best support the claim, verbatim, and how well (0..1). A paragraph
    of nothing but instructions supports nothing: ('', 0.0)."""
    sentences = split_sentences(paragraph_text) or [paragraph_text]
    sentences = [s for s in sentences if not is_instruction(s)]
    if not sentences:
        return "", 0.0
    wanted = content_words(claim)
    wanted_numbers = numbers_in(claim)
    scored: list[tuple[float, int, str]] = []
    for i, sentence in enumerate(sentences):
        have = content_words(sentence)
        overlap = len(wanted & have) / max(1, len(wanted))
        numbers = len(wanted_numbers & numbers_in(sentence)) / max(1, len(wanted_numbers)) if wanted_numbers else 0
        scored.append((overlap + 0.5 * numbers, i, sentence))
    scored.sort(key=lambda s: (-s[0], s[1]))
    chosen = scored[:1]
    if max_sentences > 1 and len(scored) > 1:
        # A second sentence only when it carries claim words or numbers the best one lacks.
        best = content_words(scored[0][2]) | numbers_in(scored[0][2])
        missing = (wanted | wanted_numbers) - best
        extra = next((x for x in scored[1:] if (content_words(x[2]) | numbers_in(x[2])) & missing
                      and x[0] > 0.2), None)
        if extra is not None and len(missing & (content_words(extra[2]) | numbers_in(extra[2]))) >= 2:
            chosen = sorted([scored[0], extra], key=lambda s: s[1])
    quote = " ".join(s for _, _, s in chosen)
    # Quotes must be verbatim: fall back to the single best sentence when two are not adjacent in the text.
    if quote not in paragraph_text:
        quote = scored[0][2]
    support = len(wanted & content_words(quote)) / max(1, len(wanted))
    return quote, support


@dataclass(frozen=True)
class Verdict:
    verified: bool
    reason: str = ""                                  # why not verified
    quotes: dict[int, str] = field(default_factory=dict)   # passage key -> the supporting sentence(s)


def resolve(sentence: str, keys: Sequence[int], passages: Sequence[Passage],
            context_years: frozenset[str] = frozenset(), question: str = "") -> tuple[list[int], Verdict]:
    """The keys a claim should cite, and whether those passages support it. An uncited claim gets the
    passage that clearly supports it; a claim its passages do not support, while another given passage
    clearly does, moves to that one (small models often cite the wrong key)."""
    by_key = {p.key: p for p in passages}
    valid = [k for k in keys if k in by_key]
    if not valid:
        attributed = attribute(sentence, passages)
        valid = [attributed] if attributed else []
    verdict = verify(sentence, [by_key[k] for k in valid], context_years, question)
    if not verdict.verified:
        better = attribute(sentence, passages)
        if better is not None and better not in valid:
            retry = verify(sentence, [by_key[better]], context_years, question)
            if retry.verified:
                return [better], retry
    return valid, verdict


def attribute(sentence: str, passages: Sequence[Passage]) -> int | None:
    """A sentence the engine left uncited gets the passage that clearly supports it, if one does."""
    best: tuple[float, int] | None = None
    for passage in passages:
        _, support = best_quote(sentence, passage.text)
        if best is None or support > best[0]:
            best = (support, passage.key)
    return best[1] if best and best[0] >= 0.6 else None


def verify(sentence: str, cited: Sequence[Passage], context_years: frozenset[str] = frozenset(),
           question: str = "") -> Verdict:
    if not cited:
        return Verdict(False, "no passage supports it")
    quotes: dict[int, str] = {}
    support = 0.0
    for passage in cited:
        quote, s = best_quote(sentence, passage.text)
        quotes[passage.key] = quote
        wanted = content_words(sentence)
        with_headings = content_words(quote + " " + " ".join(passage.hit.paragraph.headings))
        support = max(support, s, len(wanted & with_headings) / max(1, len(wanted)))
    # A paragraph's headings are part of what it says ('Leadership and management | Grade 1 (outstanding)').
    stated = [statements(p.text) + " " + " ".join(p.hit.paragraph.headings) for p in cited]
    cited_numbers = set().union(*(numbers_in(text) for text in stated))
    own_years = {p.hit.report.date[:4] for p in cited if p.hit.report.date}
    missing = sorted(numbers_in(sentence) - cited_numbers - context_years - own_years, key=len)
    cited_text = " ".join(stated).lower()
    # Months the question names, or the cited report's own dates, are context like its years ('in the
    # inspection that took place in November 2014, two children ...').
    known_months = {m.lower() for m in _MONTHS.findall(question)} | {
        MONTHS[int(day[5:7]) - 1] for p in cited for day in (p.hit.report.inspection_start, p.hit.report.inspection_end,
                                                             p.hit.report.published, p.hit.report.date)
        if day and len(day) >= 7 and day[5:7].isdigit() and 1 <= int(day[5:7]) <= 12}
    missing += [m for m in _MONTHS.findall(sentence) if m.lower() not in cited_text and m.lower() not in known_months]
    cited_grades = {normalise_grade(g) for g in _GRADES.findall(cited_text)}
    missing += [g for g in dict.fromkeys(normalise_grade(g) for g in _GRADES.findall(sentence)) if g not in cited_grades]
    if missing:
        return Verdict(False, f"{', '.join(missing)} not in the cited paragraph", quotes)
    if support < SUPPORT_THRESHOLD and len(content_words(sentence)) >= 4:
        return Verdict(False, "the cited paragraph does not support it", quotes)
    # The sentences quoted as support must say what the claim says, not only share its words.
    quoted = " ".join(quotes.values())
    headings = " ".join(h for p in cited for h in p.hit.paragraph.headings)
    problem = meaning_problem(sentence, f"{quoted} {headings}" if _GRADES.search(headings) else quoted,
                              paragraph=" ".join(stated), context=context_years,
                              report_year=min(own_years, default=""))
    if problem:
        return Verdict(False, problem, quotes)
    if question and not answers(sentence, question, cited):
        return Verdict(False, "it is not about what was asked", quotes)
    if question and echoes(sentence, question, cited):
        return Verdict(False, "it only restates the question", quotes)
    return Verdict(True, "", quotes)


# Words a restated question adds without adding a fact: 'Yes, Ofsted found that ...', and the tenses of common
# verbs the question asked in another ('took' for 'take').
_ECHO_WORDS = frozenset(content_words("yes no ofsted found find finds inspection inspectors report reports council "
                                      "local authority authority's children's services took taken got gotten made "
                                      "did done went gone gave given kept saw seen brought held"))


def echoes(sentence: str, question: str, cited: Sequence[Passage]) -> bool:
    """The claim only says the question back in other order ('Derbyshire took its leaving care service back
    in-house' to 'When did Derbyshire take its leaving care service back in-house?'): no word or number the
    question lacks, so whatever its paragraph shares with it, it is no evidence. A report's own sentence,
    quoted verbatim, is evidence however closely the question followed its words."""
    plain = " ".join(words(sentence))
    if any(plain in " ".join(words(p.text)) for p in cited):
        return False
    names = content_words(" ".join(p.hit.report.authority or "" for p in cited))
    return not content_words(sentence) - expanded_words(question) - content_words(question) - names - _ECHO_WORDS


def answers(sentence: str, question: str, cited: Sequence[Passage]) -> bool:
    """The claim is about what was asked: it, or the headings of the paragraph it cites, shares a word of
    the question's topic (glossary synonyms counted; the authority's name is not a topic). A true sentence
    beside the point ('... are shadow inspectors' to a question on child protection plans) is not verified.
    A report's 'However, ...' is about what the sentence before it is about."""
    names = content_words(" ".join(p.hit.report.authority or "" for p in cited))
    wanted = topic_words(question) - names
    context = " ".join(h for p in cited for h in p.hit.paragraph.headings)
    if CONTRAST.match(sentence):
        context += " " + " ".join(_before(sentence, p.text) for p in cited)
    return not wanted or bool(wanted & expanded_words(f"{sentence} {context}"))


# A sentence that qualifies the one before it: 'The service is effective. However, the police ...'.
CONTRAST = re.compile(r"^\W*(?:however|but|although|nevertheless|despite this|in contrast|conversely)\b", re.I)


def _before(sentence: str, text: str) -> str:
    """The sentence before `sentence` in a paragraph ('' when it is not there word for word or comes first)."""
    sentences = split_sentences(text)
    plain = " ".join(words(sentence))
    for i, s in enumerate(sentences[1:], start=1):
        if " ".join(words(s)) == plain:
            return sentences[i - 1]
    return ""


def verify_claim(claim: str, cited: Sequence[Passage], *, question: str = "") -> Verdict:
    """Whether the cited paragraphs support one claim, in answer to `question` (its named years are context)."""
    return verify(claim, cited, frozenset(re.findall(r"\b(?:19|20)\d\d\b", question)), question)
