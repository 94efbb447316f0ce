"""rag.cli.matching: normalisation edge cases, number spellings in answers, keyword hits, quote coverage."""
from __future__ import annotations

import pytest

from rag.cli import matching


@pytest.mark.parametrize("raw, expected", [
    ("The Council\u2019s \u201cgood\u201d work", "the council's \"good\" work"),
    ("2014\u20132017 \u2014 a \u2212 b", "2014-2017 - a - b"),
    ("H<sub>2</sub>O and <b>bold</b>", "h 2 o and bold"),
    ("**Strong** _leadership_ | `code` # head \\ end", "strong leadership code head end"),
    ("safe-\n   guarding and well-being", "safeguarding and well-being"),
    ("safe- guarding", "safe- guarding"),               # a hyphen without a line break stays
    ("  many\t\n spaces  ", "many spaces"),
    ("\ufb01nal", "final"),                             # NFKC undoes the fi ligature
    (None, ""),
])
def test_normalise(raw, expected):
    assert matching.normalise(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("Twenty per cent", "20%"),
    ("20 percent", "20%"),
    ("2,849 cases; 1,234,567", "2849 cases; 1234,567"),  # score.py's rule: one separator per match
    ("twenty-one", "20-1"),
    ("someone and none", "someone and none"),              # whole words only
    ("eighteen eight", "18 8"),
    ("percentage", "percentage"),
])
def test_normalise_answer(raw, expected):
    assert matching.normalise_answer(raw) == expected


def test_keyword_hit_tolerates_number_words_and_markup():
    assert matching.keyword_hit("**Twenty** households a year", "20 households")
    assert matching.keyword_hit("rose to 2,849 open EHAs", "2849")
    assert matching.keyword_hit("about 40 per cent", "40%")
    assert not matching.keyword_hit("twelve", "20")


QUOTE = "one two three four five six seven eight nine ten eleven"   # 11 words: 9 trigrams


def test_covers_exact_after_normalisation():
    assert matching.covers("Before. The **Council\u2019s** plan was good. After.", "the council's plan was good")


@pytest.mark.parametrize("kept, expected", [(7, False), (8, True), (9, True)])
def test_covers_trigram_threshold(kept, expected):
    # The first `kept` words give kept-2 of the 9 trigrams: 5/9 < 60% <= 6/9.
    words = QUOTE.split()
    passage = " ".join(words[:kept]) + " zzz " + " ".join(words[kept:][::-1][:1])
    assert matching.covers(passage, QUOTE) is expected


def test_covers_short_quotes_use_bigrams():
    quote = "alpha beta gamma delta epsilon"            # 5 words: 4 bigrams, 3/4 >= 60%
    assert matching.covers("alpha beta gamma delta zzz", quote)
    assert not matching.covers("alpha beta zzz delta epsilon", quote)  # 2/4
    assert not matching.covers("alpha", "beta")               # one word: no bigram, only an exact match
    assert matching.covers("anything", "")                    # an empty quote is contained in any text
