"""Cleaning rules, each pinned to the real snippet of a seed report that motivated it: a unit check of the
rule on the exact line (which must still be in the corpus file) and a check on the parsed seed report."""
from __future__ import annotations

import re

import pytest

from rag.ingest.cleaning import (
    BREAK,
    BULLET,
    DROPPED,
    HEADING,
    SUBBULLET,
    TABLE,
    TEXT,
    classify_lines,
    clean_inline,
    contents_entries,
    contents_lines,
    fix_tab_broken_words,
    is_junk,
    running_headers,
    strip_footnote_marks,
    strip_html,
    strip_latex,
    strip_markdown_marks,
    uses_space_page_marks,
)
from rag.ingest.readers import SourceLine, read_source
from tests.conftest import CORPUS, SEEDS


def raw(report_id: str) -> str:
    return (CORPUS / SEEDS[report_id]).read_text(encoding="utf-8")


def real(report_id: str, snippet: str) -> str:
    """The snippet, after checking it is really in the seed (so these tests stay pinned to the corpus)."""
    assert snippet in raw(report_id), f"snippet no longer in {report_id}: {snippet!r}"
    return snippet


def paragraph_with(report, text: str):
    found = [p for p in report.paragraphs if text in p.text]
    assert len(found) == 1, f"{text!r} is in {len(found)} paragraphs of {report.id}"
    return found[0]


def kinds(lines):
    return [(line.kind, line.text) for line in lines]


# ---- inline rules -------------------------------------------------------------------------------

def test_tab_broken_word_in_hillingdon_judgement_table(seed_reports):
    line = real("hillingdon-2013", "1. Child\tren who need help and protection\tRequires improvement\t")
    assert fix_tab_broken_words(line) == "1. Children who need help and protection\tRequires improvement\t"
    [classified] = classify_lines([SourceLine(line)])
    assert (classified.kind, classified.text) == (TABLE, "1. Children who need help and protection | Requires improvement")
    # A tab between two cells is kept: only a tab inside a word (lower case after it) is a break.
    assert fix_tab_broken_words("Adoption performance\tGood") == "Adoption performance\tGood"

    table = paragraph_with(seed_reports["hillingdon-2013"], "Children who need help and protection | Requires")
    assert table.kind == "table"
    assert table.text.split("\n") == [
        "1. Children who need help and protection | Requires improvement",
        "2. Children looked after and achieving permanence | Requires improvement",
        "2.1 Adoption performance | Good",
        "2.2 Experiences and progress of care leavers | Requires improvement",
        "3. Leadership, management and governance | Requires improvement",
    ]
    assert "Child\tren" in table.original


def test_windsor_latex_fragment():
    line = real("windsor-and-maidenhead-2015",
                r"Review of the effectiveness of the Local Safeguarding Children  $\ensuremath{\mathsf{Board}}^1$ ")
    assert clean_inline(line) == "Review of the effectiveness of the Local Safeguarding Children Board"
    assert strip_latex(r"$\textbf{\textit{good}}$ and 10\% of \_cases") == "good and 10% of _cases"
    assert strip_latex("no latex here") == "no latex here"


def test_windsor_garbled_footnote_kept_as_its_number(seed_reports):
    line = real("windsor-and-maidenhead-2015", "<sup>&</sup>lt;sup>1</sup> Ofsted produces this report under its "
                                               "power to combine reports")
    assert strip_html(line).startswith("[1] Ofsted produces this report under its power")
    windsor = seed_reports["windsor-and-maidenhead-2015"]
    assert paragraph_with(windsor, "Ofsted produces this report under its power to combine").text.startswith(
        "[1] Ofsted produces this report")
    assert paragraph_with(windsor, "residential special schools that look after children for 295 days").text \
        .startswith("[4] These are")


def test_windsor_fraction_and_footnote_references(seed_reports):
    line = real("windsor-and-maidenhead-2015", "only three care leavers aged 17<sup>1</sup>/<sub>2</sub> and over")
    assert strip_html(line) == "only three care leavers aged 17½ and over"
    assert strip_html("aged 3<sup>3</sup>/<sub>4</sub>") == "aged 3¾"
    assert strip_html("1<sup>5</sup>/<sub>8</sub> miles") == "1 5/8 miles"      # no glyph: written out
    heading = real("windsor-and-maidenhead-2015", "## Information about this local authority area<sup>3</sup>")
    assert clean_inline(heading) == "## Information about this local authority area"
    p = paragraph_with(seed_reports["windsor-and-maidenhead-2015"], "care leavers aged 17½ and over")
    assert "17<sup>1</sup>/<sub>2</sub>" in p.original


def test_markdown_bold_and_escapes(seed_reports):
    line = real("hillingdon-2013", "The overall judgement is **requires improvement.**")
    assert strip_markdown_marks(line) == "The overall judgement is requires improvement."
    assert clean_inline(real("windsor-and-maidenhead-2015", "GCSE grades A\\*-C")) == "GCSE grades A*-C"
    assert strip_markdown_marks("An *outstanding* LSCB") == "An outstanding LSCB"
    assert strip_markdown_marks("2 * 3 = 6") == "2 * 3 = 6"
    hillingdon = seed_reports["hillingdon-2013"]
    # The front page's judgement opens its judgement box (its dates before it, its explanation after).
    assert any("The overall judgement is requires improvement." in p.text.split("\n") for p in hillingdon.paragraphs)
    assert paragraph_with(hillingdon, "An LSCB requires improvement if").text == \
        "An LSCB requires improvement if it does not yet demonstrate the characteristics of good."


def test_footnote_superscripts_after_words(seed_reports):
    line = real("hillingdon-2013", "Review of the effectiveness of the Local Safeguarding Children Board¹")
    assert strip_footnote_marks(line) == "Review of the effectiveness of the Local Safeguarding Children Board"
    assert strip_footnote_marks("aged 17¹") == "aged 17¹"      # after a digit it may be a power: kept
    lines = classify_lines(read_source(CORPUS / SEEDS["hillingdon-2013"]))
    assert any(line.text == "Review of the effectiveness of the Local Safeguarding Children Board" for line in lines)
    assert not any("Board¹" in h for p in seed_reports["hillingdon-2013"].paragraphs for h in p.headings)


def test_ocr_debris_before_first_word():
    # Wandsworth's judgement box came out as ') . Inadequate' between the two halves of its area name.
    line = real("wandsworth-2015", ") . Inadequate")
    assert clean_inline(line) == "Inadequate"


def test_no_markup_residue_in_any_seed(seed_reports):
    residue = re.compile(r"<[a-z/]|&[a-z]+;|\\[a-z*_&%]|\$|\*\*|\t|\u2060|\u00ad|\^\d|ensuremath")
    for report in seed_reports.values():
        for p in report.paragraphs:
            for text in (p.text, p.lead_in, *p.headings):
                assert not residue.search(text), (report.id, text[:120])


# ---- line classification ------------------------------------------------------------------------

def test_ocr_bullets_in_wandsworth(seed_reports):
    lines = [real("wandsworth-2015", "B The local authority operates one children’s home. This was judged to be"),
             real("wandsworth-2015", "m Approximately 60,000 children and young people under the age of 18 years live"),
             real("wandsworth-2015", "® Children and young people from minority ethnic groups account for 43% of all")]
    classified = classify_lines([SourceLine(t) for t in lines])
    assert [line.kind for line in classified] == [BULLET, BULLET, BULLET]
    assert [line.text.split()[0] for line in classified] == ["The", "Approximately", "Children"]
    # A capital B that starts a sentence is not a bullet.
    [sentence] = classify_lines([SourceLine("By March 2015 most plans had been reviewed.")])
    assert sentence.kind == TEXT

    wandsworth = seed_reports["wandsworth-2015"]
    for start in ("The local authority operates one children’s home. This was judged to be outstanding at its "
                  "most recent Ofsted inspection.",
                  "Approximately 60,000 children and young people under the age of 18 years live in Wandsworth.",
                  "Children and young people from minority ethnic groups account for 43% of all children"):
        p = paragraph_with(wandsworth, start)
        assert p.kind == "bullet" and p.text.startswith(start)


def test_sub_bullets_stay_with_their_item(seed_reports):
    lines = classify_lines([SourceLine("B The proportion of children entitled to free school meals:"),
                            SourceLine("  - in primary schools is 20.3% (the national average is 15.6%)")])
    assert [line.kind for line in lines] == [BULLET, SUBBULLET]
    p = paragraph_with(seed_reports["wandsworth-2015"], "The proportion of children entitled to free school meals:")
    assert p.kind == "bullet"
    assert "\n- in primary schools is 20.3% (the national average is 15.6%)" in p.text


def test_grade_glued_to_heading_in_hammersmith(seed_reports):
    line = real("hammersmith-and-fulham-2011", "Quality of provision**Grade 2 (good)**")
    [heading] = classify_lines([SourceLine(line)])
    assert (heading.kind, heading.text) == (HEADING, "Quality of provision | Grade 2 (good)")
    spaced = real("hammersmith-and-fulham-2011",
                  "The contribution of health agencies to keeping children and young people safe **Grade 2 (good)**")
    assert classify_lines([SourceLine(spaced)])[0].text == \
        "The contribution of health agencies to keeping children and young people safe | Grade 2 (good)"

    hf = seed_reports["hammersmith-and-fulham-2011"]
    p24 = next(p for p in hf.paragraphs if p.number == "24")
    assert p24.headings == ("Safeguarding services", "Quality of provision | Grade 2 (good)")
    assert p24.text.startswith("The quality of provision, which includes service responsiveness")


def test_lone_page_number_lines_are_page_breaks_not_text(seed_reports):
    source = [SourceLine(real("wandsworth-2015", "Children living in private foster care arrangements are protected "
                                                 "effectively. The")),
              SourceLine(""), SourceLine("11"), SourceLine(" service is overseen and monitored by a named social worker.")]
    assert [(line.kind, line.text) for line in classify_lines(source)][:3] == [
        (TEXT, source[0].text), ("blank", ""), (BREAK, "11")]
    assert is_junk("2011.") is False                      # a number ending a wrapped sentence is text

    for report in seed_reports.values():
        for p in report.paragraphs:
            assert not re.fullmatch(r"[\d\s.]*", p.text), (report.id, p.text)
    # The Wandsworth paragraph cut by the page-number line '11' reads on across it.
    p = paragraph_with(seed_reports["wandsworth-2015"], "private foster care arrangements are protected effectively.")
    assert p.text.endswith("protected effectively. The service is overseen and monitored by a named social worker. "
                           "Responses to notifications and visits to children are timely.")


def test_space_marked_page_starts_only_trusted_when_rare():
    wandsworth = raw("wandsworth-2015").split("\n")
    assert uses_space_page_marks(wandsworth)
    assert not uses_space_page_marks([" indented line"] * 30 + ["text"] * 30)


def test_running_header_ofsted(seed_reports):
    lines = raw("wandsworth-2015").split("\n")
    assert "Ofsted" in lines and "Ofsted" in running_headers(lines)
    # A short line repeated next to page numbers is a running header too, wherever it comes from.
    page = ["Sometown children's services", "Text of the page that goes on for a while.", "", "1", ""]
    doc = [line.replace("1", str(n)) for n in range(1, 5) for line in page]
    assert "Sometown children's services" in running_headers(doc)
    wandsworth = seed_reports["wandsworth-2015"]
    real("wandsworth-2015", "\n\nOfsted\n\nLinks to the Health and Wellbeing Board (HWBB)")
    real("wandsworth-2015", "\n\nOfsted\n132. An extensive and appropriate range")
    assert not any(re.search(r"Ofsted (?:Links|The experiences|\d)", p.text) for p in wandsworth.paragraphs)
    assert any(p.text.startswith("Links to the Health and Wellbeing Board (HWBB) and Local Safeguarding Children "
                               "Board (LSCB) are strong.") and p.page == 34 for p in wandsworth.paragraphs)
    assert next(p for p in wandsworth.paragraphs if p.number == "132").text.startswith("An extensive")
    heading = "The experiences and progress of children looked after and achieving permanence | Requires improvement"
    assert any(p.headings[:1] == (heading,) for p in seed_reports["wandsworth-2015"].paragraphs)


def test_garbled_contents_page_of_hillingdon_is_dropped(seed_reports):
    debris = [real("hillingdon-2013", "C\tN\tn\tT\t٦r\t٦T\tC"), real("hillingdon-2013", "\tU\t\tU\t- 1\tIL\tر."),
              real("hillingdon-2013", "\t_\t\tL .\t\t\t_")]
    for line in debris:
        assert is_junk(clean_inline(line.replace("\t", " "))), line
    assert [line.kind for line in classify_lines([SourceLine(t) for t in debris])] == [DROPPED] * 3

    source = read_source(CORPUS / SEEDS["hillingdon-2013"])
    entries = contents_entries(source)
    assert entries["summary of key findings"] == 3 and entries["inspection judgements about the local authority"] == 10
    text = "\n".join(p.text for p in seed_reports["hillingdon-2013"].paragraphs)
    assert "٦" not in text and "Summary of key findings | 3" not in text


def test_contents_pages_are_dropped_in_every_seed(seed_reports):
    hf_lines = raw("hammersmith-and-fulham-2011").split("\n")
    dropped = contents_lines(hf_lines)
    assert hf_lines.index("Contents") in dropped
    assert hf_lines.index(real("hammersmith-and-fulham-2011", "Record of main findings\t40")) in dropped
    windsor_lines = raw("windsor-and-maidenhead-2015").split("\n")
    assert windsor_lines.index("# Contents") in contents_lines(windsor_lines)
    for report in seed_reports.values():
        for p in report.paragraphs:
            assert not re.search(r"\| \d{1,2}$", p.text, re.M), (report.id, p.text[:80])  # 'Title | page'
            assert p.text.strip().lower() != "contents"


def test_hard_wrapped_wandsworth_lines_join_and_keep_real_hyphens(seed_reports):
    wandsworth = seed_reports["wandsworth-2015"]
    real("wandsworth-2015", "via the sexually exploited multi-\nagency panels (SEMAP)")
    assert any("operationally via the sexually exploited multi-agency panels (SEMAP)." in p.text
               for p in wandsworth.paragraphs)
    for compound in ("post-permanence support is good", "Ninety-eight per cent", "re-referral figures",
                     "The out-of-hours service", "high-risk domestic violence", "three-year period 2012-15",
                     "eight-week independence"):
        assert any(compound in p.text for p in wandsworth.paragraphs), compound
    p18 = next(p for p in wandsworth.paragraphs if p.number == "18")
    assert p18.text.startswith("The experiences and progress of children who need help and protection are "
                               "inadequate. Serious failings across the service have been identified")
    assert "\n" not in p18.text and p18.original.count("\n") >= 5
    assert all("\n" not in p.text for p in wandsworth.paragraphs if p.kind == "paragraph")


@pytest.mark.parametrize("cut, expected", [
    ("organisa-|tion", "organisation"),     # the second part is a bare suffix: a break
    ("signifi-|cant", "significant"),       # the report writes 'significant' elsewhere: a break
    ("satis-|factory", "satis-factory"),    # no evidence either way: the hyphen is kept, words are not lost
])
def test_line_break_hyphenation_in_hard_wrapped_text(cut, expected):
    """No seed has a word really broken at a line end (Wandsworth's 13 line-end hyphens are all compounds),
    so one is made in a copy of Wandsworth's real executive summary."""
    from rag.ingest.chunking import chunk

    lines = raw("wandsworth-2015").split("\n")[:70]
    index = next(i for i, line in enumerate(lines) if len(line) > 60 and not line.startswith(" ")
                 and cut[:4] not in line)
    left, right = cut.split("|")
    lines[index] = lines[index].rstrip() + f" {left}"
    lines[index + 1] = f"{right} " + lines[index + 1]
    joined = " ".join(c.text for c in chunk(classify_lines([SourceLine(t) for t in lines])))
    assert f" {expected} " in joined
    assert "multi-agency panels" in joined                    # the real hyphen a few lines away stays


def test_page_broken_paragraph_47_of_hammersmith_continues(seed_reports):
    real("hammersmith-and-fulham-2011", "good and better outcomes for\n\nchildren and young people. Leaders")
    hf = seed_reports["hammersmith-and-fulham-2011"]
    p47 = next(p for p in hf.paragraphs if p.number == "47")
    assert "laid the foundations for achieving many of the good and better outcomes for children and young " \
           "people. Leaders and managers have also generated a dynamic culture" in p47.text
    assert not any(p.text.startswith("children and young people. Leaders") for p in hf.paragraphs)


def test_false_bullets_after_page_breaks_in_hillingdon(seed_reports):
    real("hillingdon-2013", "at a local level. For\n\n\n\n- example, following consultation")
    real("hillingdon-2013", "engagement with partner\n\n\n\n- agencies and through the London Safeguarding Board")
    hillingdon = seed_reports["hillingdon-2013"]
    p = paragraph_with(hillingdon, "following consultation with a young person's champion")
    assert p.kind == "bullet" and p.text.startswith("Children with disabilities and their families")
    assert "involved in planning services at a local level. For example, following consultation" in p.text
    q = paragraph_with(hillingdon, "through the London Safeguarding Board")
    assert q.text.startswith("Safeguarding is a priority for all key partners.")
    assert "significant engagement with partner agencies and through the London" in q.text
    # The same page break without a bullet: 'It does' / 'not make sure ...'.
    assert "is not clear enough. It does not make sure they are informed" in paragraph_with(
        hillingdon, "It does not make sure").text
    assert not any(p.text[:1].islower() for p in hillingdon.paragraphs if p.kind == "paragraph")
