"""What BM25 sees: the indexed text of a paragraph and the tokenizer."""
from __future__ import annotations

from rag.index.lexical import lexical_text
from rag.records import Paragraph, Report
from rag.text.words import stem, tokenize


def test_lexical_text_has_headings_and_lead_in_but_not_the_report_label():
    bullet = Paragraph(id="h-p4", report="h", ordinal=4, original="Leaders use a zanzibarite diagnostic",
                       text="Leaders use a zanzibarite diagnostic to drive improvement.",
                       headings=("Section 1", "Topic 1"), kind="bullet", lead_in="Inspectors found that:")
    report = Report(id="h", file="h.txt", sha256="0" * 64, title="Hillingdon report", authority="Hillingdon",
                    report_type="ofsted_sif", date="2013-11", year=2013, paragraphs=(bullet,))
    lexical = lexical_text(report, bullet)
    assert "Topic 1" in lexical and "Inspectors found that:" in lexical and "Hillingdon" not in lexical


def test_tokenizer_keeps_numbers_and_percentages_drops_stopwords_and_stems():
    assert tokenize("The rate was 4.6% (1,234 children) in 2013.") == [
        "rate", "4.6", "4.6%", "1234", "children", "2013"]
    assert {stem(w) for w in ("improves", "improved", "improving", "improve")} == {"improv"}
    assert stem("families") == stem("family") and stem("planning") == stem("plan")
    assert stem("process") == "process" and stem("status") == "status"
