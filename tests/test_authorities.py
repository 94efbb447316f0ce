"""Authority names in text: the gazetteer's data, aliases and short forms, longest match, case rules,
and the authority each corpus report names most."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from rag.ofsted import authorities
from rag.ofsted.authorities import canonical_authority, find_authorities_in_text, find_mentions, known_authorities

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------------------- data

def test_authority_list_covers_english_councils_without_clashing_aliases():
    data = tomllib.loads((ROOT / "rag/ofsted/data/authorities.toml").read_text(encoding="utf-8"))
    entries = data["authority"]
    assert len(entries) >= 152
    kinds = {e["name"]: e["kind"] for e in entries}
    assert set(kinds.values()) == {"london", "metropolitan", "unitary", "county"}
    assert sum(k == "london" for k in kinds.values()) == 33          # 32 boroughs + the City
    assert sum(k == "metropolitan" for k in kinds.values()) == 36
    owner: dict[tuple[str, ...], str] = {}
    for e in entries:
        for alias in [e["name"], *e.get("aliases", ()), *e.get("short", ())]:
            key = tuple(authorities._norm(t.group(0)) for t in authorities._tokens(alias))
            assert owner.setdefault(key, e["name"]) == e["name"], f"{alias!r} names two authorities"
    assert set(known_authorities()) == set(kinds)


# ----------------------------------------------------------------------------------- authorities

@pytest.mark.parametrize("written, canonical", [
    ("London Borough of Hammersmith & Fulham", "Hammersmith and Fulham"),
    ("Hammersmith and Fulham Council", "Hammersmith and Fulham"),
    ("LBHF", "Hammersmith and Fulham"),
    ("H&F", "Hammersmith and Fulham"),
    ("Hammersmith", "Hammersmith and Fulham"),
    ("Royal Borough of Windsor and Maidenhead", "Windsor and Maidenhead"),
    ("Windsor & Maidenhead", "Windsor and Maidenhead"),
    ("RBWM", "Windsor and Maidenhead"),
    ("Maidenhead", "Windsor and Maidenhead"),
    ("RBKC", "Kensington and Chelsea"),
    ("Wandsworth Council", "Wandsworth"),
    ("Bristol, City of", "Bristol"),
    ("Stoke on Trent", "Stoke-on-Trent"),
    ("St. Helens", "St Helens"),
    ("Kingston upon Hull City Council", "Kingston upon Hull"),
    ("Royal Borough of Kingston upon Thames", "Kingston upon Thames"),
    ("Bournemouth, Christchurch and Poole", "Bournemouth, Christchurch and Poole"),
    ("North East Lincolnshire", "North East Lincolnshire"),
])
def test_canonical_names_from_aliases(written, canonical):
    assert canonical_authority(written) == canonical


def test_longest_name_wins_and_counts_once():
    text = "The Royal Borough of Windsor and Maidenhead works with Windsor and Maidenhead schools."
    assert find_authorities_in_text(text) == [("Windsor and Maidenhead", 2)]
    assert [m.authority for m in find_mentions("Bath and North East Somerset, North Somerset and Somerset")] \
        == ["Bath and North East Somerset", "North Somerset", "Somerset"]


def test_names_across_line_breaks_and_ampersands():
    assert find_authorities_in_text("the London Borough of Hammersmith\n& Fulham") == [("Hammersmith and Fulham", 1)]


def test_short_forms_count_in_questions_only():
    text = "Staff visited Windsor and the Chelsea area; Richmond was mentioned."
    assert find_authorities_in_text(text) == []
    assert [m.authority for m in find_mentions(text, in_question=True)] == [
        "Windsor and Maidenhead", "Kensington and Chelsea", "Richmond upon Thames"]


def test_common_words_need_a_capital_and_not_a_sentence_start():
    assert find_authorities_in_text("Reading is improving. Children in Reading and Bury do well.") == [
        ("Reading", 1), ("Bury", 1)]
    assert find_authorities_in_text("reading ages rose; they bury the lead; a ship's hull") == []


@pytest.mark.parametrize("question, named", [
    ("Bury's report published in May 2016: what grade did help and protection get?", ["Bury"]),
    ("Slough: how were care leavers judged?", ["Slough"]),
    ("Reading the 2019 report, how were care leavers judged?", []),
    ("Hull’s overall grade in 2026?", ["Kingston upon Hull"]),
])
def test_a_sentence_initial_common_word_is_the_place_when_possessive_or_set_off(question, named):
    assert [m.authority for m in find_mentions(question, in_question=True)] == named


def test_acronyms_must_be_written_in_capitals():
    assert find_authorities_in_text("a bcp (business continuity plan) for rbwm") == []
    assert find_authorities_in_text("BCP and RBWM") == [("Bournemouth, Christchurch and Poole", 1),
                                                         ("Windsor and Maidenhead", 1)]


def test_phrases_that_are_not_authorities():
    text = ("The Chelsea and Westminster Hospital NHS Foundation Trust; Sutton Coldfield; "
            "Piccadilly Gate Store St Manchester M1 2WD")
    assert find_authorities_in_text(text) == []


CORPUS_FILES = {
    "000_a3b897da13a31221.txt": "Hillingdon",
    "001_610c848c595f1267.txt": "Hillingdon",
    "002_4efa5b68c20bdf93.txt": "Hammersmith and Fulham",
    "003_f87a246b47a8ad74.txt": "Wandsworth",
    "004_c00fb50408d563e2.txt": "Windsor and Maidenhead",
}


@pytest.mark.parametrize("name, authority", CORPUS_FILES.items())
def test_report_authority_is_the_most_mentioned(name, authority):
    counts = find_authorities_in_text((ROOT / "corpus" / name).read_text(encoding="utf-8"))
    assert counts[0][0] == authority
    assert counts[0][1] >= 3 * (counts[1][1] if len(counts) > 1 else 0)


def test_real_report_lines():
    lines = (ROOT / "corpus/002_4efa5b68c20bdf93.txt").read_text(encoding="utf-8").splitlines()
    hospital = next(line for line in lines if line.startswith("36. The Chelsea and Westminster Hospital"))
    assert find_authorities_in_text(hospital) == []
    pcts = next(line for line in lines if "comprising Hammersmith & Fulham" in line)
    assert dict(find_authorities_in_text(pcts)) == {
        "Hammersmith and Fulham": 1, "Kensington and Chelsea": 1, "Westminster": 1}
    head = "\n".join((ROOT / "corpus/000_a3b897da13a31221.txt").read_text(encoding="utf-8").splitlines()[:5])
    assert find_authorities_in_text(head) == [("Hillingdon", 1)]
