"""What BM25 sees: the text indexed for a paragraph. Indexing and querying tokenize alike, with
rag.text.words.tokenize."""
from __future__ import annotations

from rag.records import Paragraph, Report

TOKENIZER = "words-numbers-lightstem-v2"   # recorded in the manifest: BM25 must be rebuilt if it changes


def lexical_text(report: Report, paragraph: Paragraph) -> str:
    """What BM25 indexes: headings, lead-in and text (searches are filtered by authority, not matched on it)."""
    return "\n".join(x for x in (*paragraph.headings, paragraph.lead_in, paragraph.text) if x)
