"""Word weights for picking answer sentences: the inverse document frequency of each content word over
the index's paragraphs, glossary synonyms counted (a rare word in a question counts more than 'children').

An ingest counts each report's words once (rag.index.prepare) and stores the corpus totals with the
index, so a large index never recounts 60,000 paragraphs when it is opened.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping

from rag.ofsted.glossary import expanded_words, glossary_version

WEIGHTS_VERSION = 2     # stored with the counts: counts of another version are recounted, never mixed
# Each report's counts also name the glossary they were made with (a synonym counts as the words it stands
# for): an ingest recounts a report counted with another glossary. An index's stored totals stay usable
# until then (a recount of the national index, 55,000 paragraphs, takes 16 s on 2 cores: too long at every load).
COUNTS_VERSION = f"{WEIGHTS_VERSION}+{glossary_version()}"
UNSEEN_WORD_WEIGHT = 4.0   # the weight of a word the corpus never uses: rare, so it counts


def paragraph_words(text: str) -> set[str]:
    """The words a paragraph counts once towards their document frequency."""
    return expanded_words(text)


def document_frequencies(texts: Iterable[str]) -> Counter[str]:
    """word -> how many of the texts contain it."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(paragraph_words(text))
    return counts


def weights_from_counts(frequencies: Mapping[str, int], paragraphs: int) -> dict[str, float]:
    """word -> log(1 + N / document frequency)."""
    n = max(1, paragraphs)
    return {word: math.log(1 + n / count) for word, count in frequencies.items() if count > 0}


def word_weights(texts: Iterable[str]) -> dict[str, float]:
    """The weights of a corpus of paragraph texts, counted now."""
    texts = list(texts)
    return weights_from_counts(document_frequencies(texts), len(texts))
