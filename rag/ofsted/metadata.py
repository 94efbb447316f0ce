"""Read a report's metadata from its own text: authority, report type, dates, title.

File names of downloads say nothing, so nothing here looks at them. Where the text leaves the
answer uncertain, the confidence says so and the notes say why; `corpus/catalog.toml` lets a user
fix any field per file.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from rag.ofsted.authorities import find_mentions
from rag.ofsted.frameworks import classify
from rag.records import REPORT_TYPES

HEAD_LINES = 50             # the non-empty lines that make the title page
CATALOG_FIELDS = ("authority", "report_type", "date", "title", "inspection_start", "inspection_end", "published",
                  "variant", "lead_inspector")

_MONTHS = {m: i for i, m in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"), start=1)}
_MONTH = (r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?"
          r"|Nov(?:ember)?|Dec(?:ember)?)\.?")
_DATE = re.compile(rf"\b(?:(\d{{1,2}})(?:st|nd|rd|th)?\s+)?{_MONTH}\s+(20\d\d|19\d\d)\b", re.I)
_DASH = r"\s*(?:–|—|-|to)\s*"
_INSPECTION_DATES = re.compile(
    rf"inspection dates?\s*:?\s*(\d{{1,2}})(?:\s+{_MONTH})?(?:\s+(\d{{4}}))?{_DASH}(\d{{1,2}})\s+{_MONTH}\s+(\d{{4}})", re.I)
_NUMERIC_DATES = re.compile(r"inspection dates?\s*:?\s*(\d{1,2})/(\d{1,2})/(\d{4})" + _DASH + r"(\d{1,2})/(\d{1,2})/(\d{4})", re.I)
# 'Published: 23 August 2013', or a title page's two columns read across: 'Age group: Published: All 2 August 2013'
_PUBLISHED = re.compile(rf"(?:report )?published(?:\s*:\s*(?:[A-Za-z]{{1,10}}\s+)?|\s+)(?:(\d{{1,2}})\s+{_MONTH}\s+(\d{{4}})|(\d{{1,2}})/(\d{{1,2}})/(\d{{4}}))", re.I)
_FUTURE_CONTEXT = re.compile(r"\b(?:will|would|scheduled|planned|plan to|due|expected|anticipated|starting|from|"
                             r"by|until|before|launch(?:ed)? in|early|late|end of)\s+(?:in\s+|the\s+|on\s+)?$", re.I)
_SIF_TITLE = re.compile(r"inspection of services for children in need of help and protection", re.I)
_SLAC_TITLE = re.compile(r"inspection of safeguarding and looked after children services", re.I)
_SIF_BODY = re.compile(r"children looked after and achieving permanence|experiences and progress of care leavers"
                       r"|the graded judgement for adoption performance", re.I)
_OFSTED_VOICE = re.compile(r"\binspectors?\b|\bOfsted produces this report\b|\bHer Majesty's Inspectors?\b", re.I)
_COUNCIL_VOICE = re.compile(r"\b(?:we|our|us)\b", re.I)
_OVERVIEW = re.compile(r"\b(?:overview|self[- ]evaluation|self[- ]assessment|scrutiny|policy overview committee|"
                       r"state of the nation|annual report)\b", re.I)


@dataclass(frozen=True)
class Metadata:
    title: str
    authority: str | None
    report_type: str
    date: str | None
    year: int | None
    inspection_start: str | None = None
    inspection_end: str | None = None
    published: str | None = None
    confidence: str = "high"
    notes: tuple[str, ...] = ()
    variant: str = ""
    lead_inspector: str | None = None


def detect(text: str, known_authorities_in_text, made: str | None = None) -> Metadata:
    """`text` is the whole report; `known_authorities_in_text(text) -> [(canonical, count)]` finds authorities;
    `made`: the day the document says it was made (a PDF's own date), if it says."""
    head = "\n".join([line for line in text.splitlines() if line.strip()][:HEAD_LINES])
    notes: list[str] = []
    authority, authority_sure = _authority(text, head, known_authorities_in_text, notes)
    start, end = _inspection_dates(head)
    framework = classify(head, start, end)
    if framework is not None:
        report_type, variant, type_sure = framework.report_type, framework.variant, framework.sure
    else:
        (report_type, type_sure), variant = _report_type(text, head, notes), ""
    published = _published(head)
    made_after = made if made and end and end <= made <= _days_after(end, MAX_PUBLICATION_DELAY) else None
    if report_type.startswith("ofsted") and start and not published:
        notes.append(f"The report prints no publication date; the date its PDF was made, {made_after}, stands for it."
                     if made_after else "The report prints no publication date; its date is the last day of the inspection.")
    stated = published or made_after or end or start or _month_in_title(head)
    if stated:
        when, date_sure = stated, True
    else:
        when, date_sure = _latest_date(text), False
        notes.append(f"No date is stated; {when or 'none'} estimated from the latest date the text mentions."
                     if when else "No date is stated or mentioned.")
    title = _title(head, authority, report_type)
    sure = [authority_sure, type_sure, date_sure]
    confidence = "high" if all(sure) else "medium" if sum(sure) >= 2 else "low"
    return Metadata(title, authority, report_type, when, int(when[:4]) if when else None,
                    start, end, published, confidence, tuple(notes), variant, _lead_inspector(text))


def _authority(text: str, head: str, find, notes: list[str]) -> tuple[str | None, bool]:
    titled = _title_authority(head)
    if titled is not None:
        return titled, True
    counts = dict(find(text))
    if not counts:
        notes.append("No English local authority is named in the text.")
        return None, False
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    best, best_count = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0
    in_head = dict(find(head))
    if best in in_head and best_count >= 2:
        return best, True
    if best_count >= 3 and best_count >= 3 * runner_up:
        notes.append(f"Authority read from the body ({best} named {best_count} times); the title page names none.")
        return best, True
    notes.append(f"Authority uncertain: {', '.join(f'{a} ({c})' for a, c in ranked[:3])}.")
    return best, False


def _title_authority(head: str) -> str | None:
    """The one authority the title, above the inspection dates, names ('Inspection of Newcastle local
    authority children's services', 'Leicester City'): the report is about it, however often its
    neighbours are named in the body. Short forms count here, as in a question."""
    title = re.split(r"(?im)^.*\b(?:inspection dates?|reporting inspector|lead inspector|report published)\b",
                     head, maxsplit=1)[0]
    if title == head:
        return None             # no title page (no dates or inspector under a title)
    named = {m.authority for m in find_mentions(title, in_question=True)}
    return named.pop() if len(named) == 1 else None


def _report_type(text: str, head: str, notes: list[str]) -> tuple[str, bool]:
    if _SIF_TITLE.search(head):
        return "ofsted_sif", True
    if _SLAC_TITLE.search(head):
        return "ofsted_slac", True
    ofsted_voice = len(_OFSTED_VOICE.findall(text))
    council_voice = len(_COUNCIL_VOICE.findall(text))
    if _OVERVIEW.search(head) and council_voice > ofsted_voice:
        return "council_overview", True
    if len(_SIF_BODY.findall(text)) >= 2 and ofsted_voice >= 5:
        notes.append("Report type read from the body (single inspection framework judgements); no title page.")
        return "ofsted_sif", True
    if ofsted_voice >= 5 and ofsted_voice > council_voice:
        notes.append("An Ofsted report of a kind not recognised.")
        return "ofsted_other", False
    if council_voice > ofsted_voice:
        notes.append("Written in the council's own voice; taken as a council report.")
        return "council_overview", False
    notes.append("Report type not recognised.")
    return "other", False


_LEAD_INSPECTOR = re.compile(r"\b(?<![Dd]eputy )(?i:lead|reporting) (?i:inspector)\s*:?\s*((?:[A-Z][\w’'\-]*\.?,?\s*){1,4})")
_NOT_A_NAME = frozenset("Deputy Team Senior Quality Her His HMI Majesty Majesty’s Inspector Inspection Ofsted".split())


def _lead_inspector(text: str) -> str | None:
    """'Lead inspector: Sarah Canto, His Majesty’s Inspector' -> 'Sarah Canto' (the title page, or the
    list of the inspection team at the end)."""
    match = _LEAD_INSPECTOR.search(text)
    if not match:
        return None
    words = []
    for word in match.group(1).split():
        if word.rstrip(",.") in _NOT_A_NAME:
            break
        words.append(word.rstrip(","))
        if word.endswith(","):
            break
    return " ".join(words) if len(words) >= 2 else None


MAX_PUBLICATION_DELAY = 150     # days: a PDF made later than this after the inspection is not its publication


def _days_after(day: str, days: int) -> str:
    try:
        return (date.fromisoformat(day[:10]) + timedelta(days=days)).isoformat()
    except ValueError:
        return day


def _month_number(month: str) -> int:
    """'March', 'Mar', 'Sept.' -> 3, 3, 9."""
    key = month.lower().rstrip(".")[:3]
    return next(number for name, number in _MONTHS.items() if name.startswith(key))


def _iso(day: str | int | None, month: str, year: str | int) -> str:
    m = _month_number(month)
    return date(int(year), m, int(day)).isoformat() if day else f"{int(year):04d}-{m:02d}"


def _inspection_dates(head: str) -> tuple[str | None, str | None]:
    numeric = _NUMERIC_DATES.search(head)
    if numeric:                 # '12/09/2016 to 06/10/2016': day, month, year
        d1, m1, y1, d2, m2, y2 = (int(x) for x in numeric.groups())
        try:
            return date(y1, m1, d1).isoformat(), date(y2, m2, d2).isoformat()
        except ValueError:
            return None, None
    match = _INSPECTION_DATES.search(head)
    if not match:
        return None, None
    d1, m1, y1, d2, m2, y2 = match.groups()
    start_month, start_year = m1 or m2, y1 or y2
    # An inspection in two parts ('5 to 9 December 2022 and 14 to 15 February 2023') ends with its last part.
    for later in _LATER_PART.finditer(head, match.end()):
        if later.start() != match.end():
            break
        d2, m2, y2 = later.group(4), later.group(5), later.group(6)
        match = later
    try:
        return _iso(d1, start_month, start_year), _iso(d2, m2, y2)
    except ValueError:
        return None, None


_LATER_PART = re.compile(
    rf"\s*(?:and|,|&)\s*(\d{{1,2}})(?:\s+{_MONTH})?(?:\s+(\d{{4}}))?{_DASH}(\d{{1,2}})\s+{_MONTH}\s+(\d{{4}})", re.I)


def _published(head: str) -> str | None:
    match = _PUBLISHED.search(head)
    if not match:
        return None
    day, month, year, nd, nm, ny = match.groups()
    try:
        return _iso(day, month, year) if month else date(int(ny), int(nm), int(nd)).isoformat()
    except ValueError:
        return None


def _month_in_title(head: str) -> str | None:
    first = next((line for line in head.splitlines() if line.strip()), "")
    match = _DATE.search(first)
    return _iso(match.group(1), match.group(2), match.group(3)) if match else None


def _latest_date(text: str) -> str | None:
    """The latest month the report mentions as past or present (plans and deadlines excluded)."""
    best: tuple[int, int] | None = None
    for match in _DATE.finditer(text):
        if _FUTURE_CONTEXT.search(text[max(0, match.start() - 30):match.start()]):
            continue
        key = (int(match.group(3)), _month_number(match.group(2)))
        best = max(best, key) if best else key
    return f"{best[0]:04d}-{best[1]:02d}" if best else None


def _title(head: str, authority: str | None, report_type: str) -> str:
    for line in head.splitlines()[:15]:
        clean = re.sub(r"[#*]+|\$[^$]*\$|<[^>]+>", "", line).strip()
        if re.search(r"\binspection of\b|\boverview\b|\breport\b|\breview of\b", clean, re.I) and len(clean) < 200:
            if authority and authority.lower() not in clean.lower():
                return f"{authority}: {clean}"
            return clean
    kind = REPORT_TYPES.get(report_type, "Report")
    return f"{authority or 'Unknown authority'}: {kind} (no title page)"


# ---- catalog: the user's corrections ------------------------------------------------------------

def load_catalog(corpus_dir: Path) -> tuple[dict[str, dict[str, str]], list[str]]:
    """corpus/catalog.toml: one table per file name, e.g. ["report.pdf"] authority = "Wandsworth".
    Returns (entries, warnings); a broken catalog is reported and ignored, never fatal."""
    path = corpus_dir / "catalog.toml"
    if not path.exists():
        return {}, []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        return {}, [f"{path}: not valid TOML ({e}); the catalog is ignored."]
    entries: dict[str, dict[str, str]] = {}
    warnings: list[str] = []
    for name, fields in data.items():
        if not isinstance(fields, dict):
            warnings.append(f"{path}: [{name}] must be a table of fields; ignored.")
            continue
        unknown = sorted(set(fields) - set(CATALOG_FIELDS))
        if unknown:
            warnings.append(f"{path}: [{name}] has unknown fields {', '.join(unknown)}; "
                            f"known: {', '.join(CATALOG_FIELDS)}.")
        if "report_type" in fields and fields["report_type"] not in REPORT_TYPES:
            warnings.append(f"{path}: [{name}] report_type must be one of {', '.join(REPORT_TYPES)}; ignored.")
            fields = {k: v for k, v in fields.items() if k != "report_type"}
        entries[name] = {k: str(v) for k, v in fields.items() if k in CATALOG_FIELDS}
    return entries, warnings


def apply_catalog(meta: Metadata, entry: dict[str, str] | None) -> Metadata:
    if not entry:
        return meta
    changes: dict[str, object] = dict(entry)
    if "date" in entry:
        year = re.match(r"\d{4}", entry["date"])
        changes["year"] = int(year.group(0)) if year else meta.year
    notes = tuple(n for n in meta.notes if not _note_fixed_by(n, entry)) + (
        f"Set by catalog.toml: {', '.join(sorted(entry))}.",)
    remaining_doubt = any(not _note_fixed_by(n, entry) for n in meta.notes if "estimated" in n or "uncertain" in n)
    return replace(meta, **changes, notes=notes, confidence="medium" if remaining_doubt else "high")


def _note_fixed_by(note: str, entry: dict[str, str]) -> bool:
    lowered = note.lower()
    return ("authority" in lowered and "authority" in entry) or ("date" in lowered and "date" in entry) or \
        ("type" in lowered and "report_type" in entry)
