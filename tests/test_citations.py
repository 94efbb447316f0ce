from rag.answer.citations import check
from rag.answer.verify import best_quote
from rag.text.words import numbers_in, split_sentences
from tests.helpers import hits_of, make_report, number_passages

REPORT = make_report(texts=[
    "The council is in contact with 90% of care leavers. It is not in contact with eight despite efforts.",
    "At 31 March 2015, 220 children were looked after (a rate of 37 per 10,000 children).",
    "The children in care council, known as CLICK, is outstanding.",
])
PASSAGES = number_passages(hits_of(REPORT))


def test_numbers_are_normalised_across_forms():
    assert numbers_in("2,849 open EHAs, 4.6% and eight carers") == {"2849", "4.6", "8"}


def test_sentences_split_without_breaking_abbreviations():
    assert split_sentences("It rose, e.g. in Wandsworth. Then it fell.") == ["It rose, e.g. in Wandsworth.", "Then it fell."]


def test_valid_keys_are_renumbered_in_order_of_use_and_quoted_verbatim():
    checked = check("CLICK is outstanding [3]. The council was not in contact with eight care leavers [1].", PASSAGES)
    assert [c.n for c in checked.citations] == [1, 2]
    assert checked.citations[0].paragraph.id == REPORT.paragraphs[2].id
    assert checked.text.startswith("CLICK is outstanding [1].")
    for citation in checked.citations:
        assert citation.quote in citation.paragraph.text
    assert all(c.verified for c in checked.claims)


def test_a_key_that_was_never_given_is_dropped():
    checked = check("220 children were looked after [7].", PASSAGES)
    assert "[7]" not in checked.text
    # the claim is re-attributed to the passage that states it rather than passed with a fake key
    assert checked.citations and checked.citations[0].paragraph.id == REPORT.paragraphs[1].id


def test_a_misquoted_number_is_marked_unverified():
    checked = check("At 31 March 2015, 250 children were looked after [2].", PASSAGES)
    claim = checked.claims[0]
    assert not claim.verified and "250" in claim.reason
    assert "[unverified]" in checked.text


def test_an_uncited_sentence_without_support_is_unverified():
    checked = check("The council employs 400 social workers.", PASSAGES)
    assert not checked.claims[0].verified
    assert not checked.citations


def test_an_uncited_sentence_that_a_passage_clearly_states_gets_that_passage():
    checked = check("The children in care council, known as CLICK, is outstanding.", PASSAGES)
    assert checked.claims[0].verified and checked.citations[0].paragraph.id == REPORT.paragraphs[2].id


def test_a_wrong_key_is_corrected_to_the_supporting_passage():
    checked = check("The children in care council, known as CLICK, is outstanding [1].", PASSAGES)
    assert checked.claims[0].verified
    assert checked.citations[0].paragraph.id == REPORT.paragraphs[2].id


def test_years_named_in_the_question_are_context_not_claims():
    answer = "In 2013 the council was not in contact with eight care leavers [1]."
    assert not check(answer, PASSAGES).claims[0].verified
    assert check(answer, PASSAGES, question="What happened in the 2013 inspection?").claims[0].verified


def test_abstention_sentences_are_not_claims():
    checked = check("The reports in the corpus do not say.", PASSAGES)
    assert checked.claims == () and checked.text == "The reports in the corpus do not say."


def test_comparison_labels_and_lines_are_kept():
    checked = check("Testshire: CLICK is outstanding [3].\nOther: The report does not say.", PASSAGES)
    assert checked.text.split("\n") == ["Testshire: CLICK is outstanding [1].", "Other: The report does not say."]


def test_best_quote_holds_the_claimed_number_verbatim_and_adds_a_sentence_only_for_missing_words():
    text = REPORT.paragraphs[0].text
    quote, support = best_quote("It was not in contact with eight care leavers.", text)
    assert "not in contact with eight" in quote and quote in text and support == 1.0
    quote, _ = best_quote("It was not in contact with eight.", text)
    assert quote == "It is not in contact with eight despite efforts."


def test_a_wrong_month_is_marked_unverified():
    checked = check("At 31 May 2015, 220 children were looked after [2].", PASSAGES)
    assert not checked.claims[0].verified and "May" in checked.claims[0].reason
    assert check("At 31 March 2015, 220 children were looked after [2].", PASSAGES).claims[0].verified
    assert check("The council may not be in contact with eight care leavers [1].", PASSAGES).claims[0].verified


def test_a_true_sentence_beside_the_point_is_not_verified():
    report = make_report(texts=[
        "Tony Gallagher and Pietro Battista were shadow inspectors during this inspection.",
        "Children on child protection plans in Testshire are visited regularly and their plans are reviewed."])
    passages = number_passages(hits_of(report))
    question = "What do inspectors say about child protection plans in Testshire?"
    off, on = check("Tony Gallagher and Pietro Battista were shadow inspectors [1]. Children on child protection "
                    "plans in Testshire are visited regularly [2].", passages, question=question).claims
    assert not off.verified and off.reason == "it is not about what was asked"
    assert on.verified
    # Without a question there is no topic to hold a claim to.
    assert check("Tony Gallagher and Pietro Battista were shadow inspectors [1].", passages).claims[0].verified


def test_the_refusal_cites_nothing_even_with_a_key_on_it():
    checked = check("CLICK is outstanding [3]. The reports in the corpus do not say [1].", PASSAGES)
    assert checked.text == "CLICK is outstanding [1]. The reports in the corpus do not say."
    assert len(checked.claims) == 1 and len(checked.citations) == 1


def test_a_sentence_written_again_is_said_once():
    """A small model can loop ('Ineffective case supervision [3]. ... Ineffective case supervision [3].')."""
    checked = check("CLICK is outstanding [3].\nThe council was not in contact with eight care leavers [1].\n"
                    "CLICK is outstanding [3].\nCLICK is  outstanding. [3]", PASSAGES)
    assert checked.text.count("CLICK is outstanding") == 1
    assert len(checked.claims) == 2 and all(c.verified for c in checked.claims)


def test_a_line_labelled_with_one_authority_is_not_borne_out_by_anothers_report():
    kent = make_report("kent-2022", "Kent", ["Social workers say their caseloads are manageable."], date="2022-03-01")
    essex = make_report("essex-2022", "Essex", ["Social workers hold an average of 30 children each."],
                        date="2022-03-01")
    passages = number_passages(hits_of(essex) + hits_of(kent))
    checked = check("Kent: Social workers hold an average of 30 children each [1].\n"
                    "Essex: Social workers hold an average of 30 children each [1].", passages)
    kent_claim, essex_claim = checked.claims
    assert not kent_claim.verified and essex_claim.verified
    # Without a label, a sentence may still be moved to the passage that bears it out.
    assert check("Social workers say their caseloads are manageable [1].", passages).claims[0].verified


def test_a_label_names_its_authority_as_a_whole_word():
    # 'Leicestershire' contains 'Leicester': the county's line must not be checked against the city's report.
    city = make_report("leicester-2022", "Leicester", ["Social workers hold an average of 30 children each."],
                       date="2022-03-01")
    county = make_report("leicestershire-2022", "Leicestershire", ["Caseloads are manageable."], date="2022-03-01")
    passages = number_passages(hits_of(city) + hits_of(county))
    checked = check("Leicestershire: Social workers hold an average of 30 children each [1].", passages)
    assert not checked.claims[0].verified
