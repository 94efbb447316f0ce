"""Prompt files in prompts/, checked when loaded, and the quoting of report text as data."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rag.answer.extractive import findings
from rag.answer.verify import Passage
from rag.errors import PromptError
from rag.text.words import content_words, split_sentences

REQUIRED = {
    "answer_system.txt": ("not_in_reports",),
    "answer_user.txt": ("passages", "question"),
}


@dataclass(frozen=True)
class Prompts:
    system: str
    user: str


def load_prompts(folder: Path) -> Prompts:
    texts: dict[str, str] = {}
    for name, placeholders in REQUIRED.items():
        path = Path(folder) / name
        if not path.is_file():
            raise PromptError(f"Prompt file {path} is missing; restore it from the repository or set RAG_PROMPTS.")
        text = path.read_text(encoding="utf-8")
        present = set(re.findall(r"(?<!\{)\{([a-z_]+)\}(?!\})", text))
        missing = [p for p in placeholders if p not in present]
        if missing:
            raise PromptError(f"Prompt file {path} lacks the placeholder {{{missing[0]}}}"
                              + (f" (and {', '.join('{' + m + '}' for m in missing[1:])})" if missing[1:] else "")
                              + "; the answer chain fills it.")
        unknown = sorted(present - set(placeholders))
        if unknown:
            raise PromptError(f"Prompt file {path} has an unknown placeholder {{{unknown[0]}}}; "
                              f"known: {', '.join('{' + p + '}' for p in placeholders)}. Write literal braces as {{{{ }}}}.")
        texts[name] = text
    return Prompts(texts["answer_system.txt"], texts["answer_user.txt"])


def format_passages(passages: list[Passage] | tuple[Passage, ...], question: str = "", max_words: int = 90,
                    reasons: str = "") -> str:
    """Each passage under its key, with where it comes from, its text fenced as a quotation. Long
    paragraphs are cut to their sentences nearest the question (for a why-question, `reasons`, to those
    stating the most findings of that kind): a small model reads a short prompt faster and loses the
    thread less (the citation checks still use the whole paragraph)."""
    blocks = []
    for passage in passages:
        paragraph, report = passage.hit.paragraph, passage.hit.report
        where = ", ".join(x for x in (report.authority, f"{report.label.split(', ')[1] if ', ' in report.label else ''}",
                                      report.date[:4] if report.date else "",
                                      paragraph.headings[-1] if paragraph.headings else "",
                                      f"paragraph {paragraph.number}" if paragraph.number else "") if x)
        text = excerpt(paragraph.text, question, max_words, reasons) if question else paragraph.text
        blocks.append(f"[{passage.key}] ({where})\n\"\"\"\n{quote_as_data(text)}\n\"\"\"")
    return "\n".join(blocks)


def excerpt(text: str, question: str, max_words: int, reasons: str = "") -> str:
    """The paragraph's sentences that share most words with the question (or, with `reasons`, state most
    findings of that kind), in reading order, within max_words; gaps are marked with an ellipsis."""
    if len(text.split()) <= max_words:
        return text
    sentences = split_sentences(text)
    wanted = content_words(question)

    def weight(i: int) -> int:
        return findings(sentences[i], reasons) if reasons else len(wanted & content_words(sentences[i]))
    ranked = sorted(range(len(sentences)), key=lambda i: (-weight(i), i))
    keep: list[int] = []
    words = 0
    for i in ranked:
        n = len(sentences[i].split())
        if keep and words + n > max_words:
            continue
        keep.append(i)
        words += n
    keep.sort()
    out = []
    for j, i in enumerate(keep):
        if j and i != keep[j - 1] + 1:
            out.append("…")
        out.append(sentences[i])
    return " ".join(out)


def quote_as_data(text: str) -> str:
    """Report text cannot close its own quotation or forge a passage key."""
    text = text.replace('"""', "''")
    return re.sub(r"\[(\d{1,2})\]", r"(\1)", text)
