"""Chunking on the seeds: paragraph numbers, heading paths, bullets with lead-ins, tiny fragments, tables,
stable ids, original text; and every gold evidence quote inside one paragraph. Pages: test_pages.py."""
from __future__ import annotations

import json
import re

from rag.ingest.chunking import chunk, infer_numbers, is_hard_wrapped
from rag.ingest.cleaning import classify_lines
from rag.ingest.corpus import parse_report
from rag.ingest.readers import SourceLine, read_source
from rag.ofsted.grades import is_grade_statement
from tests.conftest import CORPUS, GOLD, SEEDS


def numbered(report) -> dict[str, object]:
    return {p.number: p for p in report.paragraphs if p.number}


def explicit_numbers(report_id: str) -> set[int]:
    """Paragraph numbers printed in the source file (OCR lost some of Wandsworth's)."""
    text = (CORPUS / SEEDS[report_id]).read_text(encoding="utf-8")
    return {int(n) for n in re.findall(r"^\s*(?:-\s+)?(\d{1,3})\.\s", text, re.M)}


# ---- paragraph numbers --------------------------------------------------------------------------

def test_hammersmith_numbers_1_to_106_in_order(seed_reports):
    hf = seed_reports["hammersmith-and-fulham-2011"]
    numbers = [int(p.number) for p in hf.paragraphs if p.number]
    assert numbers == list(range(1, 107))
    assert numbered(hf)["29"].text == "The contribution of health agencies to keeping children and young safe is good."


def test_wandsworth_numbers_kept_and_inferred_after_ocr_loss(seed_reports):
    wandsworth = seed_reports["wandsworth-2015"]
    numbers = [int(p.number) for p in wandsworth.paragraphs if p.number]
    assert numbers == list(range(1, 136))
    printed = explicit_numbers("wandsworth-2015")
    assert len(printed) < 100 and printed <= set(numbers)       # many were lost, all came back
    by_number = numbered(wandsworth)
    # Inferred: the printed number of these paragraphs is missing from the text file.
    for number, start in [("12", "Ensure that the local authority’s sufficiency strategy is effective"),
                          ("26", "Child protection and child in need plans are poor."),
                          ("27", "Senior managers are effectively monitoring children on a child protection plan"),
                          ("51", "Although looked after children’s second reviews make clear decisions"),
                          ("104", "Audit activity has not led to timely improvement.")]:
        assert int(number) not in printed or number == "104"
        assert by_number[number].text.startswith(start), number
    # A '(Recommendation.)' line closes the paragraph before it, not the next one.
    assert by_number["50"].text.endswith("to monitor this effectively. (Recommendation.)")
    assert by_number["103"].text.endswith("accurate and up-to-date information. (Recommendation.)")


def test_infer_numbers_does_not_cross_sections_or_reuse_numbers():
    lines = classify_lines([SourceLine(t) for t in [
        "Findings", "", "4. Fourth paragraph of the findings, with enough words to be cited.", "",
        "A paragraph that lost its number to OCR at the top of a page, long enough to cite.", "",
        "6. Sixth paragraph of the findings, with enough words to be cited here.", "",
        "Another section", "", "Unnumbered text in another section, which must stay unnumbered.", ""]])
    chunks = chunk(lines)
    assert [c.number for c in chunks] == ["4", "5", "6", None]
    assert infer_numbers([]) is None


def test_windsor_numbers_inside_bullets(seed_reports):
    windsor = seed_reports["windsor-and-maidenhead-2015"]
    assert [int(p.number) for p in windsor.paragraphs if p.number] == list(range(1, 170))
    assert numbered(windsor)["115"].text.startswith("Joint planning for young people's transition")


# ---- heading paths ------------------------------------------------------------------------------

def test_hammersmith_heading_paths(seed_reports):
    by_number = numbered(seed_reports["hammersmith-and-fulham-2011"])
    assert by_number["101"].headings == ("Services for looked after children",
                                         "Leadership and management | Grade 1 (outstanding)")
    assert by_number["101"].section == \
        "Services for looked after children > Leadership and management | Grade 1 (outstanding)"
    assert by_number["47"].headings == ("Safeguarding services", "Leadership and management | Grade 1 (outstanding)")
    assert by_number["8"].headings == ("Safeguarding services", "Overall effectiveness | Grade 2 (good)")
    assert by_number["57"].headings == ("Services for looked after children", "Overall effectiveness | Grade 2 (good)")
    assert by_number["62"].headings == ("Services for looked after children", "Being healthy | Grade 1 (outstanding)")


def test_sif_heading_paths(seed_reports):
    wandsworth = numbered(seed_reports["wandsworth-2015"])
    assert wandsworth["18"].headings == ("The experiences and progress of children who need help and protection | "
                                         "Inadequate", "Inspection findings")
    # 'Leadership, management and' / 'governance Inadequate': the split heading is rejoined, the grade moved last.
    assert wandsworth["104"].headings[0] == "Leadership, management and governance | Inadequate"
    windsor = numbered(seed_reports["windsor-and-maidenhead-2015"])
    assert windsor["151"].headings == ("Inspection judgement about the LSCB",)
    assert windsor["1"].headings == ("What does the local authority need to improve?", "Help and protection")


def test_sentence_starting_like_a_section_title_is_not_a_heading():
    lines = classify_lines([SourceLine(t) for t in [
        "Summary", "", "The Local Safeguarding Children Board holds partners to account for their work.", ""]])
    [only] = chunk(lines)
    assert only.text == "The Local Safeguarding Children Board holds partners to account for their work."
    assert only.headings == ("Summary",)


# ---- bullets, tiny fragments, tables ------------------------------------------------------------

def test_bullets_keep_their_lead_in(seed_reports):
    hillingdon = seed_reports["hillingdon-2013"]
    bullets = [p for p in hillingdon.paragraphs if p.headings[-1:] == ("Summary of key findings",)
               and p.kind == "bullet"]
    assert len(bullets) == 10
    assert {p.lead_in for p in bullets} == {"This Local Authority requires improvement and is not yet good because"}
    hf = seed_reports["hammersmith-and-fulham-2011"]
    item = next(p for p in hf.paragraphs if p.text.startswith("extend the terms of reference of the LSCB"))
    assert (item.kind, item.lead_in) == ("bullet", "Within three months:")
    later = next(p for p in hf.paragraphs if p.text.startswith("improve the quality of supervision records"))
    assert later.lead_in == "Within six months:"


def test_lead_in_is_the_last_sentence_of_the_paragraph_before():
    lines = classify_lines([SourceLine(t) for t in [
        "Inspectors met many families during the visit. Families said the following things about the service:", "",
        "- help came quickly when they asked for it", "- social workers listened to them", "",
        "A new paragraph that is long enough to stand on its own as a citation."]])
    chunks = chunk(lines)
    assert [c.kind for c in chunks] == ["paragraph", "bullet", "bullet", "paragraph"]
    assert chunks[1].lead_in == chunks[2].lead_in == "Families said the following things about the service:"
    assert chunks[3].lead_in == ""


def test_a_bracket_a_line_break_left_open_closes_in_the_same_item():
    # 2025 ILACS reports: '(Outcome 3, National' / 'Framework)', each on its own line; the first item was once
    # read as a heading and lost from the list.
    lines = classify_lines([SourceLine(t) for t in [
        "What needs to improve?", "",
        "- Collaborative safety planning with children and families. (Outcome 3, National", "",
        "Framework)", "",
        "- The numbers of care leavers in education, training and employment. (Outcome 4, National Framework)", "",
        "A new paragraph that is long enough to stand on its own as a citation of the report."]])
    chunks = chunk(lines)
    assert [(c.kind, c.text) for c in chunks[:2]] == [
        ("bullet", "Collaborative safety planning with children and families. (Outcome 3, National Framework)"),
        ("bullet", "The numbers of care leavers in education, training and employment. (Outcome 4, National "
                   "Framework)")]
    assert chunks[0].headings == chunks[1].headings == ("What needs to improve?",)


def test_tiny_fragments_merge_with_a_neighbour(seed_reports):
    hf = seed_reports["hammersmith-and-fulham-2011"]
    assert hf.paragraphs[0].text == "Inspection dates: 6–17 June 2011 Reporting inspector: Stephen Hart HMI"
    assert any(p.text.startswith("Lead inspector: Ian Young Team inspectors: Mary Candlin")
               for p in seed_reports["hillingdon-2013"].paragraphs)
    for report in seed_reports.values():
        paragraphs = report.paragraphs
        for i, p in enumerate(paragraphs):
            if p.kind == "paragraph" and len(p.text) < 40 and not is_grade_statement(p.text) and i > 2:
                # What stays small is a list's lead-in, or sits before a graded judgement it cannot merge into
                # (or is a line of the title page, such as 'Age group: All Published: 22 July 2011').
                following = paragraphs[i + 1]
                assert (following.kind == "bullet" and following.lead_in == p.text) \
                    or is_grade_statement(following.text), (report.id, p.text)


def test_judgement_tables_stay_readable(seed_reports):
    hf = seed_reports["hammersmith-and-fulham-2011"]
    record = next(p for p in hf.paragraphs if p.kind == "table" and p.headings == ("Record of main findings:",))
    rows = record.text.split("\n")
    assert rows[:3] == ["Safeguarding services", "Overall effectiveness | Good", "Capacity for improvement | Outstanding"]
    assert rows.count("Equality and diversity | Outstanding") == 2 and len(rows) == 28
    box = next(p for p in seed_reports["windsor-and-maidenhead-2015"].paragraphs
               if p.kind == "table" and p.text.startswith("Key judgement")
               and "Leadership, management and governance" in p.text)
    assert box.text == "Key judgement | Judgement grade\nLeadership, management and governance | Requires improvement"


def test_hard_wrap_detection():
    wandsworth = classify_lines(read_source(CORPUS / SEEDS["wandsworth-2015"]))
    windsor = classify_lines(read_source(CORPUS / SEEDS["windsor-and-maidenhead-2015"]))
    assert is_hard_wrapped(wandsworth) and not is_hard_wrapped(windsor)


# ---- ids and original text ----------------------------------------------------------------------

def test_ids_are_stable_and_unique(seed_reports):
    path = CORPUS / SEEDS["hammersmith-and-fulham-2011"]
    again = parse_report(path, report_id="hammersmith-and-fulham-2011")
    assert [p.id for p in again.paragraphs] == [p.id for p in seed_reports["hammersmith-and-fulham-2011"].paragraphs]
    for report in seed_reports.values():
        ids = [p.id for p in report.paragraphs]
        assert len(set(ids)) == len(ids) and all(i.startswith(report.id + ":") for i in ids)
        assert [p.ordinal for p in report.paragraphs] == list(range(len(ids)))


def test_changing_one_paragraph_changes_only_its_id(tmp_path, seed_reports):
    source = CORPUS / SEEDS["hammersmith-and-fulham-2011"]
    text = source.read_text(encoding="utf-8")
    old = "50. Parents report that they receive a highly effective and efficient service"
    assert text.count(old) == 1
    edited = tmp_path / source.name
    edited.write_text(text.replace(old, old.replace("highly effective", "very effective")), encoding="utf-8")
    before = [p.id for p in seed_reports["hammersmith-and-fulham-2011"].paragraphs]
    after = [p.id for p in parse_report(edited, report_id="hammersmith-and-fulham-2011").paragraphs]
    assert len(before) == len(after)
    changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
    assert len(changed) == 1
    assert seed_reports["hammersmith-and-fulham-2011"].paragraphs[changed[0]].number == "50"


def test_the_same_sentence_twice_gets_two_ids(tmp_path):
    sentence = "Children are seen alone by their social workers and their views are recorded well."
    (tmp_path / "twice.txt").write_text(f"{sentence}\n\nSomething else entirely, long enough to be cited on its own.\n\n{sentence}\n",
                                        encoding="utf-8")
    ids = [p.id for p in parse_report(tmp_path / "twice.txt").paragraphs]
    assert len(set(ids)) == 3 and ids[2] == ids[0] + "-2"


def test_original_keeps_the_source_lines(seed_reports):
    for report in seed_reports.values():
        source_lines = set((CORPUS / report.file).read_text(encoding="utf-8").split("\n"))
        for p in report.paragraphs:
            assert all(line in source_lines for line in p.original.split("\n")), (report.id, p.original[:80])
    hf = numbered(seed_reports["hammersmith-and-fulham-2011"])
    assert hf["47"].original.startswith("47. The leadership and management of safeguarding services")
    assert "\n\nchildren and young people." not in hf["47"].original     # blank lines are not kept...
    assert "\nchildren and young people. Leaders" in hf["47"].original   # ...the printed lines are


# ---- gold evidence ------------------------------------------------------------------------------

def test_every_gold_evidence_quote_is_inside_one_paragraph(seed_reports, score_py):
    score = score_py
    by_file = {r.file: r for r in seed_reports.values()}
    missing = []
    checked = 0
    for line in GOLD.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        for evidence in item.get("evidence", []):
            report = by_file.get(evidence["file"])
            if report is None:
                continue
            checked += 1
            quote = score.normalise(evidence["quote"])
            # The paragraph's own number is kept apart from its text; a quote may start with it.
            if not any(quote in score.normalise(text) for p in report.paragraphs
                       for text in (p.text, f"{p.number}. {p.text}")):
                missing.append((item["id"], evidence["quote"][:80]))
    assert checked > 0 and not missing, missing


def test_an_inspections_dates_and_lead_inspector_join_the_grade_table_they_introduce():
    lines = classify_lines([SourceLine(t) for t in [
        "Inspection dates: 1 July 2024 to 12 July 2024", "",
        "Lead inspector: Margaret Burke, His Majesty’s Inspector", "",
        "Judgement\tGrade",
        "The experiences and progress of children who need help and protection\tGood",
        "Overall effectiveness\tGood", "",
        "Support for vulnerable children and their families has greatly improved since the last inspection."]])
    chunks = chunk(lines)
    assert [c.kind for c in chunks] == ["table", "paragraph"]
    assert chunks[0].text.split("\n") == [
        "Inspection dates: 1 July 2024 to 12 July 2024", "Lead inspector: Margaret Burke, His Majesty’s Inspector",
        "Judgement | Grade", "The experiences and progress of children who need help and protection | Good",
        "Overall effectiveness | Good"]


def sif_front_page(*body: str) -> list:
    return chunk(classify_lines([SourceLine(t) for t in [
        "Inspection of services for children in need of help and protection", "", "and", "", "Review of the effectiveness of the local safeguarding children board", "",
        "Inspection date: 11 May 2015 – 4 June 2015", "", "Report published: 20 July 2015", "",
        *body]]))


def test_a_sif_overall_judgement_with_its_grade_table_is_one_judgement_box():
    chunks = sif_front_page(
        "Children’s services in Eastshire are inadequate", "",
        "1. Children who need help and protection\tInadequate",
        "2. Children looked after and achieving permanence\tRequires improvement", "",
        "Children in Eastshire are better served today than they were three years ago.")
    assert [c.kind for c in chunks] == ["table", "paragraph"]
    assert chunks[0].text.split("\n") == [
        "Inspection date: 11 May 2015 – 4 June 2015", "Report published: 20 July 2015",
        "Children’s services in Eastshire are inadequate", "1. Children who need help and protection | Inadequate",
        "2. Children looked after and achieving permanence | Requires improvement"]
    assert chunks[0].headings == ("Children’s services in Eastshire are inadequate",)
    assert chunks[1].headings == ("Children’s services in Eastshire are inadequate",)


def test_a_sif_overall_judgement_joins_the_explanation_under_it_and_the_table_stays_apart():
    chunks = sif_front_page(
        "The overall judgement is requires improvement", "",
        "There are no widespread or serious failures that create or leave children being harmed or at risk of harm.",
        "", "1. Children who need help and protection\tRequires improvement", "")
    assert [c.kind for c in chunks] == ["paragraph", "table"]
    assert chunks[0].text.split("\n") == [
        "Inspection date: 11 May 2015 – 4 June 2015", "Report published: 20 July 2015",
        "The overall judgement is requires improvement",
        "There are no widespread or serious failures that create or leave children being harmed or at risk of harm."]
    assert chunks[0].headings == ("The overall judgement is requires improvement",)
    assert not any(c.text == "and" for c in chunks)     # the title's broken 'and' is not a paragraph


def test_a_grade_set_as_its_own_heading_joins_the_area_heading_above_it():
    # 2012-13 looked after children inspections: 'Overall effectiveness of ...' then 'Grade 3 (Adequate)', both bold.
    chunks = chunk(classify_lines([SourceLine(t) for t in [
        "## Overall effectiveness of services for looked after children and young people", "",
        "## Grade 3 (Adequate)", "",
        "The overall effectiveness of services for looked after children and young people in Eastshire is adequate. "
        "The council is currently subject to an improvement notice and has made steady progress since then."]]))
    assert chunks[-1].headings[-1] == ("Overall effectiveness of services for looked after children and young people"
                                       " | Grade 3 (Adequate)")


def test_the_licence_notice_is_not_a_paragraph():
    chunks = chunk(classify_lines([SourceLine(t) for t in [
        "© Crown copyright 2013 Website: www.ofsted.gov.uk This document may be reproduced in whole or in part "
        "for non-commercial purposes.", "",
        "Care leavers are well supported by their personal advisers in Eastshire."]]))
    assert [c.text for c in chunks] == ["Care leavers are well supported by their personal advisers in Eastshire."]


def test_a_review_of_an_lscb_alone_opens_with_its_judgement_box():
    chunks = chunk(classify_lines([SourceLine(t) for t in [
        "Inspection date: 15 June 2015 – 17 June 2015", "", "Report published: 3 August 2015", "",
        "The Local Safeguarding Children Board requires improvement", "",
        "The arrangements in place to evaluate the effectiveness of what is done by board partners require improvement.",
        "", "The effectiveness of the Local Safeguarding Children Board (LSCB) requires improvement", "",
        "The board meets regularly and its partners attend."]]))
    assert chunks[0].text.split("\n")[:3] == [
        "Inspection date: 15 June 2015 – 17 June 2015", "Report published: 3 August 2015",
        "The Local Safeguarding Children Board requires improvement"]
    # A judgement further down, with no dates before it, is not a box.
    assert not any(c.text.startswith("The effectiveness of the Local Safeguarding Children Board (LSCB) requires "
                                     "improvement\n") for c in chunks)


def test_a_bullet_broken_after_a_joining_word_is_rejoined():
    chunks = chunk(classify_lines([SourceLine(t) for t in [
        "Context:", "", "• Approximately 246,600 children and young people under the age of 18 live in", "",
        "Eastshire. This is 22% of the total population in the area.", "",
        "• Approximately 10% of the local authority’s children are living in poverty."]]))
    assert [c.text for c in chunks if c.kind == "bullet"] == [
        "Approximately 246,600 children and young people under the age of 18 live in Eastshire. This is 22% of the "
        "total population in the area.", "Approximately 10% of the local authority’s children are living in poverty."]
