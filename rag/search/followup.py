"""Rewriting a follow-up into a question that stands alone ("And Wandsworth?" after a question about
Hillingdon), from the chat history. Rules only, no model: the previous question is retargeted to a new
authority, year, report or topic, or a short question gains the previous authority and topic.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from rag.ofsted.authorities import Mention, find_mentions

# The question grammar, shared with parse_query, so the two read questions alike.
from rag.search.grammar import GROUP, KIND_WORD, YEAR, cut_topic, mention_span, year_mentions
from rag.search.question import parse_query
from rag.search.reports import date_cue
from rag.text.words import STOP_WORDS, content_words, join_names, singular, stem

_FOLLOW_LEAD = re.compile(r"^\s*(?:(?:and|but|so|also|now|ok(?:ay)?|then)\b[\s,]*)*"
                          r"(?:(?:what|how)\s+about\b|what\s+of\b|(?:the\s+)?same\s+(?:question\s+|thing\s+)?for\b"
                          r"|likewise(?:\s+for)?\b)?\s*(?:(?:on|for|in|with|regarding|about)\b\s*)?", re.I)
_FILLER = re.compile(r"\b(?:too|also|as well|instead|then|please|again|now)\b", re.I)
_KIND_VOCABULARY = frozenset("ofsted inspection inspections report reports overview council councils own review "
                             "judgement judgements self-assessment self-evaluation latest most recent last first "
                             "earliest newest current".split())
_SMALL_TALK = re.compile(r"^\W*(?:thanks?(?: you)?(?: very much)?|cheers|ok(?:ay)?|great|cool|hello|hi|yes|no|sure"
                         r"|good|nice|perfect)\W*$", re.I)
_MORE = re.compile(r"^\W*(?:please\s+)?(?:explain|elaborate|more(?: detail)?|go on|continue|tell me more)"
                   r"(?:\s+please)?\W*$", re.I)
_QUESTION_WORDS = frozenset("""what which who whom whose when where why how many much did does do is are was were
has have had can could would should will""".split())
_VERBS = frozenset("""is are was were be been being do does did has have had get gets got give gives gave given set sets
make makes made use uses used say says said show shows showed find finds found provide provides provided receive
receives received take takes took carry carries carried see sees saw seen meet met reach reached achieve achieved
need needs needed include includes included draft drafted lead leads led share shares shared happen happened
change changed compare compared describe described mean means meant stand stands go goes went gone according
""".split())
_REFERENT = re.compile(r"\b(those|these|this|that|such|similar|same|comparable|equivalent|corresponding)\s+"
                       r"([A-Za-z][\w\-]*)", re.I)
_SIMILARITY = {"similar", "same", "comparable", "equivalent", "corresponding"}
# A report named relative to the one the conversation was about: 'its next inspection', 'when it was next
# inspected', 'its previous inspection' ('since the previous inspection' is what changed, not which report).
_NEXT_REPORT = re.compile(r"\b(?:next|following|subsequent|later)\s+(?:\w+\s+){0,2}(?:inspection|report|visit)s?\b"
                          r"|\bnext inspected\b|\b(?:inspection|report|one)\s+after\s+(?:that|this|it)\b", re.I)
_PRIOR_REPORT = re.compile(r"(?<!since the )(?<!since its )(?<!since their )\b(?:previous|prior|earlier)\s+"
                           r"(?:\w+\s+)?(?:inspection|report)s?\b"
                           r"|\b(?:inspection|report|one)\s+before\s+(?:that|this|it)\b"
                           r"|\b(?:inspection|report)\s+before\s*(?=[?.!]|$)", re.I)
# 'Was that also a problem?', 'Why was that?', 'Had that changed?', 'What was behind that grade?': 'that' standing
# for the last turn's topic.
_BARE_THAT = re.compile(r"\b(?:that|this|the same)\s+(?:ofsted\s+)?(?:grade|judge?ment|rating)s?\b"
                        r"|\b(?:that|this)\b(?=\s*(?:[?.,!]|$|\s+(?:also|still|ever|really|is|was|were|are|be|been"
                        r"|change[sd]?|happen(?:ed)?|improve[sd]?|get|got|remain(?:ed)?|compare[sd]?"
                        r"|at|in|on|by|before|after|during|since|too|again|better|worse)\b))", re.I)


def standalone_question(question: str, history: Sequence[dict]) -> str:
    """Rewrite a follow-up into a question that stands alone, using the chat history (dicts with
    "role" and "content"). Each earlier user turn is first made standalone in turn, so a chain of
    follow-ups keeps its subject. A question that already names its authority and topic comes back
    unchanged."""
    turns = [(t.get("role"), str(t.get("content") or "").strip()) for t in history]
    turns = [(r, c) for r, c in turns if c]
    if turns and turns[-1] == ("user", question.strip()):
        turns = turns[:-1]      # a history that already holds this question
    previous, answer = None, ""
    for role, content in turns:
        if role == "user":
            previous, answer = (_rewrite(content, previous, answer) if previous else content), ""
        elif role == "assistant":
            answer = content
    return _rewrite(question.strip(), previous, answer) if previous else question


def _named(text: str) -> list[Mention]:
    return find_mentions(text, in_question=True)


def _with_years(text: str, names: Sequence[str]) -> list[str]:
    query = parse_query(text, ())
    return [f"{n} ({query.year_for(n)})" if query.year_for(n) else n for n in names]


def _rewrite(question: str, previous: str, answer: str) -> str:
    if _SMALL_TALK.match(question):
        return question
    if _MORE.match(question):
        return previous
    question = _since_when(question, previous, answer)
    lead = _FOLLOW_LEAD.match(question)
    rest = question[lead.end():]
    mentions = _named(rest)
    cut = cut_topic(rest, [mention_span(rest, m) for m in mentions], [(y.start, y.end) for y in year_mentions(rest)])
    cut = _FILLER.sub("", cut)
    words = re.findall(r"[A-Za-z][\w\-']*", cut)
    led = bool(lead.group(0).strip())
    if not led:     # "Adoption?": capitalised only because it starts the sentence
        cut = re.sub(r"^(?!Ofsted\b)[A-Z][a-z]+\b", lambda m: m.group(0).lower(), cut)
    if not (_QUESTION_WORDS & {w.lower() for w in words}) and len(words) <= (6 if led else 2):
        return _elliptic(rest, cut, mentions, previous, answer)     # "And on adoption?", "Wandsworth too?"
    return _completed(question, previous, answer)


def _elliptic(rest: str, topic: str, mentions: Sequence[Mention], previous: str, answer: str = "") -> str:
    """'What about Wandsworth?', 'And in 2017?', 'And on adoption?', 'What about its next inspection?': the
    previous question, retargeted."""
    anchor = "" if mentions else _relative_report(rest, previous, answer)
    if anchor:
        return _before_end(_drop_report_years(previous), anchor)
    new_names = list(dict.fromkeys(m.authority for m in mentions))
    paired = dict(parse_query(rest, ()).authority_years)
    new_years = [y.year for y in year_mentions(rest) if y.role != "data" and y.year not in paired.values()]
    kind_words = re.sub(rf"\b(?:the|{YEAR})\b", "", topic, flags=re.I).strip(" ?.!,")
    # 'What about at the most recent inspection?': another report of the same authority, same topic.
    kind_words = re.sub(r"^(?:at|in|from|for|on|according to)\s+", "", kind_words, flags=re.I)
    if kind_words and not {w.lower().strip("'’s") for w in kind_words.split()} <= _KIND_VOCABULARY:
        return _new_topic(kind_words, new_names, new_years, rest, previous)
    labelled = [f"{n} ({paired[n]})" if n in paired else n for n in new_names]
    text = _swap_authorities(previous, labelled) if new_names else previous
    if kind_words:      # another report: the previous one's year and name no longer apply
        text = re.sub(rf",?\s+(?:according to|in) the (?:{YEAR}\s+)?(?:[\w'’]+\s+)?{KIND_WORD}\b", "", text,
                      flags=re.I)
    if new_years or new_names or kind_words:
        text = _drop_report_years(text, keep=labelled)
    end = re.search(r"[?.!]*\s*$", text).start()
    if kind_words:      # "What about the 2017 overview?"
        phrase = cut_topic(rest, [mention_span(rest, m) for m in mentions], [])
        phrase = re.sub(r"^(?:at|in|from|for|on|according to)\s+", "", phrase.strip(), flags=re.I)
        return f"{text[:end]}, according to the {_strip_lead_article(phrase)}?"
    if new_years:
        return f"{text[:end]} in {new_years[0]}{text[end:] or '?'}"
    return text


def _strip_lead_article(text: str) -> str:
    return re.sub(r"^(?:the|a|an|their|its|his|her|our)\s+", "", text.strip(" ?.!,"), flags=re.I)


def _new_topic(topic: str, names: list[str], years: list[int], rest: str, previous: str) -> str:
    before = parse_query(previous, ())
    if names:
        labelled = [f"{n} ({years[0]})" for n in names] if years else _with_years(rest, names)
    else:
        names = list(dict.fromkeys(m.authority for m in _named(previous)))
        labelled = [f"{n} ({years[0]})" for n in names] if years else _with_years(previous, names)
    topic = _strip_lead_article(topic)
    if not names:
        return f"What do the reports say about {topic}?"
    if len(names) > 1 or before.is_comparison:
        return f"Compare {join_names(labelled)} on {topic}."
    if before.asks_judgement:
        return f"What judgement did {labelled[0]} get for {topic}?"
    return f"What do the reports say about {topic} in {labelled[0]}?"


def _swap_authorities(text: str, names: Sequence[str]) -> str:
    mentions = _named(text)
    distinct = list(dict.fromkeys(m.authority for m in mentions))
    if not distinct:
        return f"In {join_names(names)}, {_lower_first(text)}"
    if len(distinct) == 1:      # every mention of the one authority becomes the new one(s)
        for m in reversed(mentions):
            text = text[:m.start] + join_names(names) + text[m.end:]
        return text
    first, last = mentions[0], mentions[-1]
    if len(names) == 1:         # a comparison narrowed to one authority: ask its topic of that one
        return _ask_topic_of(text, names)
    between = text[first.start:last.end]
    for m in mentions:
        between = between.replace(text[m.start:m.end], "")
    if re.fullmatch(rf"(?:[\s,&()]|\band\b|{YEAR})*", between):     # one list: "X (2013), Y and Z"
        return text[:first.start] + join_names(names) + text[last.end:]
    return _ask_topic_of(text, names)


def _ask_topic_of(text: str, names: Sequence[str]) -> str:
    topic = parse_query(text, ()).topic.rstrip(" ?.")
    if topic.split(" ", 1)[0].lower() in _QUESTION_WORDS:
        return f"{topic[:1].upper()}{topic[1:]} in {join_names(names)}?"
    about = "" if re.match(r"(?:on|about)\b", topic) else "about "
    return f"What do the reports say {about}{topic} in {join_names(names)}?"


def _drop_report_years(text: str, keep: Sequence[str] = ()) -> str:
    """Remove the report year of the previous question ('(2013)', 'in 2013', 'the 2013 inspection'),
    since another authority's report has another year; dates about data, and the years inside the
    new names (`keep`: "Hillingdon (2013)"), stay."""
    kept = [(m.start(), m.end()) for k in keep for m in re.finditer(re.escape(k), text)]
    for y in sorted(year_mentions(text), key=lambda y: -y.start):
        if y.role == "data" or any(s <= y.start < e for s, e in kept):
            continue
        wrap = re.search(r"(?:\s*\(\s*|\s+in\s+)$", text[:y.start], re.I)
        close = re.match(r"\s*\)", text[y.end:]) if wrap and "(" in wrap.group(0) else None
        start = wrap.start() if wrap else y.start
        end = y.end + (close.end() if close else 0) + (0 if wrap else len(re.match(r"\s*", text[y.end:]).group(0)))
        text = text[:start] + text[end:]
    return text


def _lower_first(text: str) -> str:
    first = re.match(r"[A-Z][a-z]*\b", text)
    if first and (first.group(0).lower() in STOP_WORDS | _QUESTION_WORDS or first.group(0) in ("Name", "List")):
        return text[0].lower() + text[1:]
    return text


def _completed(question: str, previous: str, answer: str) -> str:
    """A full question that leans on the previous turn: give it the previous authority if it names
    none, and spell out what 'those assessments', 'a similar target' or 'it' refer to."""
    text = _resolve_referents(question, previous, answer)
    if not _named(question) and not GROUP.search(question):
        names = list(dict.fromkeys(m.authority for m in _named(previous)))
        if names:
            own = content_words(question)
            if text == question and len(own) <= 3:
                text = _replace_pronoun(text, previous)
            if text == question and len(own) <= 3 and not own & content_words(previous) \
                    or _BARE_THAT.search(question):
                # "What was the national average?", "Why?", "Was that also a problem?": too short to search
                # without the old topic
                runs = _key_phrase(previous, exclude=own, count=2)
                end = re.search(r"[?.!]*\s*$", text).start()
                text = f"{text[:end]} ({runs}){text[end:]}" if runs else text
            text = f"In {join_names(_report_of(question, previous, names))}, {_lower_first(_drop_conjunction(text))}"
            anchor = _relative_report(question, previous, answer)
            if anchor:
                text = _before_end(text, anchor)
    return _drop_conjunction(text) if text != question else text


def _relative_report(question: str, previous: str, answer: str = "") -> str:
    """'Its next inspection' after a question about the 2017 report: ' (the inspection after 2017)', which
    picks the one report after it (rag.search.reports); '' when the question names no report relative to
    the last one, or the last turn named no report year of one authority. A question that named no year
    ('its first inspection', 'the latest') is dated by the answer it got, when that names one report's year."""
    relative = "after" if _NEXT_REPORT.search(question) else "before" if _PRIOR_REPORT.search(question) else ""
    year = _report_year(previous, answer) if relative else None
    return f" (the inspection {relative} {year})" if year else ""


def _report_year(previous: str, answer: str) -> int | None:
    """The year of the one report the last turn was about: the year its question gave its one authority, or
    else the one its answer gives; None when it named several authorities or no year."""
    names = list(dict.fromkeys(m.authority for m in _named(previous)))
    if len(names) != 1:
        return None
    return parse_query(previous, ()).year_for(names[0]) or _answer_year(answer)


_SINCE_THEN = re.compile(r"\bsince(?:\s+then)?(?=\s*[?.!]*\s*$)", re.I)


def _since_when(question: str, previous: str, answer: str) -> str:
    """'Has that improved since?' after a question about the 2018 report: 'since 2018', the reports from then
    on; unchanged when the last turn named no one report's year."""
    if not _SINCE_THEN.search(question):
        return question
    year = _report_year(previous, answer)
    return _SINCE_THEN.sub(f"since {year}", question) if year else question


def _answer_year(answer: str) -> int | None:
    """The report year an answer gives: the year it says the report was published or inspected in, or the
    one year it names."""
    published = re.search(rf"\b(?:published|inspected|inspection)\b[^.;()]{{0,40}}?\b({YEAR})\b", answer, re.I)
    if published:
        return int(published.group(1))
    years = {int(y) for y in re.findall(rf"\b{YEAR}\b", answer)}
    return years.pop() if len(years) == 1 else None


def _before_end(text: str, addition: str) -> str:
    """The text with `addition` before its final punctuation (a question mark if it had none)."""
    end = re.search(r"[?.!]*\s*$", text).start()
    return f"{text[:end]}{addition}{text[end:] or '?'}"


def _report_of(question: str, previous: str, names: Sequence[str]) -> list[str]:
    """The names to put before a follow-up: with the previous turn's report year, unless the follow-up names
    its own report ('at the 2019 inspection', 'its most recent inspection', 'its next inspection')."""
    if date_cue(question).named or _NEXT_REPORT.search(question) or _PRIOR_REPORT.search(question):
        return list(names)
    return _with_years(previous, names)


def _drop_conjunction(text: str) -> str:
    """'And in Hammersmith, ...' -> 'In Hammersmith, ...' once the question stands alone."""
    stripped = re.sub(r"^(?:and|but|so|also|then)\b[\s,]*", "", text, flags=re.I)
    return stripped[:1].upper() + stripped[1:] if stripped != text else text


_JOINERS = frozenset({"and", "in", "of"})
# Words that say a grade or a report was asked about, not what about: 'Why was it rated so highly?' after 'What
# grade did adoption get?' asks about adoption, not about 'grade'.
_NOT_A_TOPIC = frozenset(stem(w) for w in "grade grades graded rating ratings rated judgement judgements judged "
                                          "report reports inspection inspections ofsted".split())


def _key_phrase(text: str, exclude: frozenset[str] = frozenset(), count: int = 1) -> str:
    """The longest run(s) of content words in a question's topic: 'fostering recruitment strategy'."""
    topic = parse_query(text, ()).topic
    runs, run = [], []
    for word in re.findall(r"[A-Za-z0-9][\w\-'’]*", topic) + [""]:
        plain = re.sub(r"['’]s$", "", word.lower())
        if word and plain not in STOP_WORDS | _QUESTION_WORDS | _VERBS and stem(plain) not in exclude:
            run.append(word)
        elif plain in _JOINERS and run and run[-1].lower() not in _JOINERS:
            run.append(word)        # 'help and protection', 'children in care' are one phrase
        else:
            if run and run[-1].lower() in _JOINERS:
                run.pop()
            runs.append(run)
            run = []
    longest = sorted((r for r in runs if r), key=len, reverse=True)[:count]
    return ", ".join(" ".join(r) for r in sorted(longest, key=runs.index))


def _modifiers(head: str, context: str) -> str:
    """Words that qualify `head` where the earlier turn said it: 'early help' for 'assessments' in
    '... to draft early help assessments (EHAs)'."""
    base = singular(head.lower())
    head_pattern = "child(?:ren)?" if base == "child" else re.escape(base) + "(?:s|es)?"
    for m in re.finditer(rf"\b{head_pattern}\b", context, re.I):
        before = re.findall(r"[A-Za-z][\w\-]*", context[:m.start()])[-4:]
        words: list[str] = []
        for i in range(len(before) - 1, -1, -1):
            word = before[i]
            if word.lower() in STOP_WORDS | _QUESTION_WORDS | _VERBS or (i > 0 and before[i - 1].lower() == "to"):
                break
            words.insert(0, word)
            if len(words) == 3:
                break
        if words:
            return " ".join(words)
    return ""


def _resolve_referents(question: str, previous: str, answer: str) -> str:
    text = question
    for m in reversed(list(_REFERENT.finditer(question))):
        head = m.group(2)
        if head.lower() in STOP_WORDS | _QUESTION_WORDS | _VERBS:
            continue        # a pronoun: "how many of those were open"
        if re.fullmatch(KIND_WORD, head, re.I):
            continue        # 'that report' is the report the conversation was about, not a phrase to copy
        modifiers = _modifiers(head, previous) or _modifiers(head, answer)
        if modifiers and modifiers.lower() not in question.lower():
            text = text[:m.start(2)] + modifiers + " " + text[m.start(2):]
        elif m.group(1).lower() in _SIMILARITY:
            key = _key_phrase(previous, exclude=content_words(question))
            if key:
                text = text[:m.end(2)] + f" ({key})" + text[m.end(2):]
    return text


def _replace_pronoun(question: str, previous: str) -> str:
    """'When was it set up?' after 'What is EHITS?' -> 'When was EHITS set up?'."""
    key = _key_phrase(previous, exclude=frozenset(content_words(question)) | _NOT_A_TOPIC)
    if not key or len(key.split()) > 4:
        return question
    return re.sub(r"\bit\b(?!['’])", key, question, count=1)
