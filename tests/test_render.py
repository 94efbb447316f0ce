"""Terminal rendering: aligned tables, the judgements grid, answers with references, and streaming."""
from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from rag.assistant import Event
from rag.cli import terminal
from rag.records import Answer, Citation, Claim, Judgement
from tests.helpers import hits_of, make_report

REPORT = make_report("testshire-2015", "Testshire", ["Children are seen within a day of referral.",
                                                     "Care leavers have a personal adviser."])


def _citation(n: int, i: int, quote: str) -> Citation:
    return Citation(n, REPORT.paragraphs[i], REPORT, quote)


# ---- tables ------------------------------------------------------------------------------------------------

def test_table_aligns_columns_under_a_rule():
    text = terminal.table([("name", "n"), ("Hillingdon", "12"), ("Wandsworth and more", None)])
    lines = text.splitlines()
    assert lines[0] == "name                 n"
    assert lines[1] == "-------------------  --"
    assert lines[2] == "Hillingdon           12"
    assert lines[3] == "Wandsworth and more"            # None is an empty cell; trailing blanks trimmed
    assert {line.rindex(" ") + 1 for line in lines[:3]} == {21}   # the second column starts at one offset


def test_table_cuts_long_cells():
    text = terminal.table([("a", "b"), ("x" * 100, "y")], max_width=10)
    assert text.splitlines()[2] == "xxxxxxxxxx  y"


def _j(report: str, authority: str, date: str, label: str, grade: str, pid: str) -> Judgement:
    return Judgement(report, authority, date, label.lower().replace(" ", "_"), label, grade, f"{report}:{pid}")


def test_judgements_table_has_a_column_per_report_and_dashes_for_no_grade():
    rows = [_j("hillingdon-2013", "Hillingdon", "2013-02-01", "Adoption performance", "good", "aa11"),
            _j("wandsworth-2015", "Wandsworth", "2015-11", "Adoption performance", "outstanding", "bb22"),
            _j("wandsworth-2015", "Wandsworth", "2015-11", "Care leavers", "requires improvement", "cc33")]
    lines = terminal.judgements_table(rows).splitlines()
    assert lines[0].split("  ")[0] == "judgement"
    assert lines[0].index("Hillingdon 2013") < lines[0].index("Wandsworth 2015")
    adoption = next(line for line in lines if line.startswith("Adoption performance"))
    leavers = next(line for line in lines if line.startswith("Care leavers"))
    assert "good (aa11)" in adoption and "outstanding (bb22)" in adoption
    # Hillingdon states no care leavers grade: a dash in its column, the Wandsworth grade in the next.
    assert leavers[lines[0].index("Hillingdon 2013"):].startswith("-")
    assert leavers[lines[0].index("Wandsworth 2015"):].startswith("requires improvement (cc33)")
    assert lines[-1].startswith("(`rag show <id>`")


def test_a_judgements_table_too_wide_for_the_terminal_becomes_one_block_per_report():
    rows = [_j(f"{name.lower()}-2015", name, "2015-11", "Experiences and progress of care leavers", "requires improvement",
               f"{i:04d}") for i, name in enumerate(["Hammersmith and Fulham", "Windsor and Maidenhead", "Wandsworth",
                                                      "Hillingdon", "Kensington and Chelsea"])]
    text = terminal.judgements_table(rows)
    assert max(len(line) for line in text.splitlines()) <= 120
    assert "Wandsworth 2015 (wandsworth-2015)" in text and "wandsworth-2015:0002" in text


def test_judgements_table_without_judgements():
    assert terminal.judgements_table([]) == "No graded judgements in the index."


# ---- answers -----------------------------------------------------------------------------------------------

def test_references_name_where_each_quote_is():
    text = terminal.references([_citation(1, 0, "Children are seen within a day of referral."),
                              _citation(2, 1, "Care leavers have a personal adviser.")])
    lines = text.splitlines()
    assert lines[0] == ("[1] Testshire · Ofsted inspection 2015-06-01 · Section · para 1 · p. 1 "
                        "(testshire-2015:00000000)")
    assert lines[1] == "    “Children are seen within a day of referral.”"
    assert lines[2].startswith("[2] ") and lines[2].endswith("(testshire-2015:00000001)")


def test_answer_text_with_references_and_the_verified_line():
    answer = Answer("q", "Children are seen within a day [1]. Leavers have advisers [2].", False,
                    citations=(_citation(1, 0, "Children are seen within a day of referral."),
                               _citation(2, 1, "Care leavers have a personal adviser.")),
                    claims=(Claim("Children are seen within a day [1].", (1,), True),
                            Claim("Leavers have advisers [2].", (2,), False)))
    text = terminal.answer_text(answer)
    assert text.startswith("Children are seen within a day [1].")
    assert "\nReferences:\n[1] Testshire" in text and "\n[2] Testshire" in text
    assert text.endswith("1 of 2 claims verified against their cited paragraphs.")
    without = terminal.answer_text(answer, with_text=False)
    assert without.startswith("References:") and "Leavers have advisers" not in without


def test_answer_text_shows_a_comparison_table():
    answer = Answer("q", "Compared.", False, table=(("aspect", "Testshire", "Otherton"), ("speed", "fast [1]", "slow")))
    text = terminal.answer_text(answer)
    assert "aspect  Testshire  Otherton" in text and "speed   fast [1]   slow" in text
    assert "References" not in text and "claims verified" not in text
    header_only = replace(answer, table=(("aspect", "Testshire"),))
    assert terminal.answer_text(header_only) == "Compared."          # a header alone is no table


# ---- streaming ---------------------------------------------------------------------------------------------

class FakeBot:
    """The two things stream_answer uses: `engine` and `stream()` yielding Events."""

    def __init__(self, tokens: list[str], answer: Answer, engine: str = "local", standalone: str | None = None,
                 authorities: tuple[str | None, ...] = (None,)):
        self.engine, self.tokens, self.answer = engine, tokens, answer
        self.standalone, self.group_authorities = standalone, authorities
        self.calls: list[tuple] = []

    def stream(self, question, history, *, authorities=None):
        self.calls.append((question, history, authorities))
        hits = hits_of(REPORT)
        groups = tuple(SimpleNamespace(authority=a, passages=[SimpleNamespace(hit=h) for h in hits])
                       for a in self.group_authorities)
        yield Event("plan", plan=SimpleNamespace(standalone=self.standalone or question, groups=groups))
        for group, text in self.tokens:
            yield Event("token", text=text, group=group)
        yield Event("answer", answer=self.answer)


ANSWER = Answer("How fast?", "Children are seen within a day [1].", False,
                citations=(_citation(1, 0, "Children are seen within a day of referral."),),
                claims=(Claim("Children are seen within a day [1].", (1,), True),), engine="local")


def test_stream_prints_sources_then_the_draft_and_does_not_repeat_an_unchanged_answer(capsys):
    bot = FakeBot([(0, "Children are seen "), (0, "within a day [1].")], ANSWER)
    assert terminal.stream_answer(bot, "How fast?", [], ["Testshire"]) is ANSWER
    assert bot.calls == [("How fast?", [], ["Testshire"])]
    out, err = capsys.readouterr()
    assert err == "Sources: Testshire 1; Testshire 2\n"
    assert out.count("Children are seen within a day [1].") == 1          # the draft, not reprinted
    assert "Checked against" not in out
    assert "References:\n[1] Testshire" in out and "1 of 1 claims verified" in out


def test_stream_reprints_the_checked_answer_when_the_checks_changed_it(capsys):
    bot = FakeBot([(0, "Children are seen within a day [3].")], ANSWER)      # the key was renumbered to [1]
    terminal.stream_answer(bot, "How fast?", [], None)
    out, _ = capsys.readouterr()
    assert out.startswith("Children are seen within a day [3].")
    assert "Checked against the paragraphs:\nChildren are seen within a day [1]." in out


def test_stream_names_each_authority_before_its_part_and_the_rewritten_question(capsys):
    bot = FakeBot([(0, "Fast [1]."), (1, "Slow [2].")],
                  replace(ANSWER, text="Testshire: Fast [1].\nOtherton: Slow [2]."),
                  standalone="How fast in Testshire and Otherton?", authorities=("Testshire", "Otherton"))
    terminal.stream_answer(bot, "And there?", [{"role": "user", "content": "How fast?"}], None)
    out, err = capsys.readouterr()
    assert err.startswith("(understood as: How fast in Testshire and Otherton?)\n")
    assert out.startswith("Testshire: Fast [1].\nOtherton: Slow [2].")


def test_extractive_text_is_printed_once_whole(capsys):
    bot = FakeBot([(0, "Children are seen within a day [1].")], replace(ANSWER, engine="extractive"),
                  engine="extractive")
    terminal.stream_answer(bot, "How fast?", [], None)
    out, _ = capsys.readouterr()
    assert out.startswith("Children are seen within a day [1].\n\nReferences:")
    assert out.count("Children are seen within a day [1].") == 1


@pytest.mark.parametrize("tokens", [[(0, "Children are seen within a day [3].")], []])
def test_quiet_streaming_prints_nothing_and_returns_the_answer(capsys, tokens):
    assert terminal.stream_answer(FakeBot(tokens, ANSWER), "How fast?", [], None, quiet=True) is ANSWER
    assert capsys.readouterr() == ("", "")


def test_sources_of_a_report_without_a_known_authority(capsys):
    unknown = replace(REPORT, authority=None)
    bot = FakeBot([], replace(ANSWER, engine="extractive"), engine="extractive")
    bot.stream = lambda question, history, authorities=None: iter([
        Event("plan", plan=SimpleNamespace(standalone=question, groups=(SimpleNamespace(
            authority=None, passages=[SimpleNamespace(hit=h) for h in hits_of(unknown)]),))),
        Event("answer", answer=bot.answer)])
    terminal.stream_answer(bot, "How fast?", [], None)
    assert capsys.readouterr().err == "Sources: ? 1; ? 2\n"
