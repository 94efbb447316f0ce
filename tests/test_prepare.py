"""What an ingest computes before writing: vectors embedded while reports are still being read, word
counts stored with the index so opening it never recounts, and nothing embedded twice."""
from __future__ import annotations

import shutil

import pytest

from rag.index.builder import ingest
from rag.index.embedding import HashingEmbedder
from rag.index.prepare import Prepared
from rag.index.reader import Index
from rag.index.weights import word_weights
from rag.ingest.corpus import PIPELINE_VERSION
from tests.test_store import CountingEmbedder, make_report, random_texts


def load(index):
    return Index.load(index, embedder_name="hashing-64", pipeline_version=PIPELINE_VERSION)


def test_the_stored_word_weights_are_the_ones_counted_from_the_paragraphs(corpus_dir, tmp_path):
    ingest(corpus_dir, tmp_path / "index", HashingEmbedder(64))
    index = load(tmp_path / "index")
    assert "weights.json" in index.manifest["files"]
    assert index.word_weights == pytest.approx(word_weights(p.text for p in index.paragraphs))


def test_a_new_report_reuses_the_others_vectors_and_word_counts(corpus_dir, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(corpus_dir, corpus)
    newest = sorted(corpus.iterdir())[-1]
    held_back = newest.rename(tmp_path / newest.name)
    ingest(corpus, tmp_path / "index", HashingEmbedder(64))
    (corpus / "sub").mkdir()
    held_back.rename(corpus / "sub" / held_back.name)
    counting = CountingEmbedder(64, batch_size=8)
    result = ingest(corpus, tmp_path / "index", counting)
    new = next(r for r in result.corpus.reports if r.file == f"sub/{held_back.name}")
    assert result.stats.embedded == len(counting.embedded) == len(new.paragraphs)
    index = load(tmp_path / "index")
    assert index.word_weights == pytest.approx(word_weights(p.text for p in index.paragraphs))



def test_word_counts_made_with_another_glossary_are_recounted_at_the_next_ingest(corpus_dir, tmp_path, monkeypatch):
    ingest(corpus_dir, tmp_path / "index", HashingEmbedder(64))
    assert Prepared.from_live(tmp_path / "index", HashingEmbedder(64), 64).word_counts
    monkeypatch.setattr("rag.index.prepare.COUNTS_VERSION", "2+another-glossary")
    assert not Prepared.from_live(tmp_path / "index", HashingEmbedder(64), 64).word_counts


def test_the_manifest_names_every_backend_that_made_the_vectors(corpus_dir, tmp_path):
    """A national index built in bulk (bfloat16) and then given one new report (embedded in float32 by the
    query backend) holds vectors of both: the manifest says so."""
    class Bulk(HashingEmbedder):
        backend = "torch-bfloat16"

    class Query(HashingEmbedder):
        backend = "onnx"

    corpus = tmp_path / "corpus"
    shutil.copytree(corpus_dir, corpus)
    newest = sorted(corpus.iterdir())[-1]
    held_back = newest.rename(tmp_path / newest.name)
    ingest(corpus, tmp_path / "index", Bulk(64))
    assert load(tmp_path / "index").manifest["embedder_backend"] == "torch-bfloat16"
    held_back.rename(newest)
    ingest(corpus, tmp_path / "index", Query(64))
    assert load(tmp_path / "index").manifest["embedder_backend"] == "torch-bfloat16+onnx"
    ingest(corpus, tmp_path / "index", Query(64), rebuild=True)    # nothing embedded: the vectors' makers stay
    assert load(tmp_path / "index").manifest["embedder_backend"] == "torch-bfloat16+onnx"

def test_queued_reports_are_embedded_in_whole_batches_before_the_write(monkeypatch):
    monkeypatch.setattr("rag.index.prepare.QUEUE_BATCHES", 4)
    embedder = CountingEmbedder(64, batch_size=4)
    prepared = Prepared(embedder)
    first = make_report("a-2015", "Testshire", random_texts(1, 10))
    prepared.queue(first)
    assert embedder.calls == []                   # fewer than four batches wait for more
    prepared.queue(make_report("b-2015", "Testshire", random_texts(2, 10)))
    assert [len(c) for c in embedder.calls] == [4] * 5     # 20 waiting: five whole batches now
    prepared.embed_missing([])
    assert prepared.embedded == 20 and len(prepared.vectors) == 20
    prepared.queue(first)                          # already embedded: nothing to do
    prepared.embed_missing([])
    assert prepared.embedded == 20


def test_stored_bm25_tokens_are_the_fresh_tokens_of_each_paragraph(corpus_dir, tmp_path):
    """An ingest reuses the previous version's tokens for unchanged reports: they must be what tokenizing
    the paragraphs now gives, in the same order as the index's rows."""
    from rag.index import versions
    from rag.index.lexical import lexical_text
    from rag.text.words import tokenize
    ingest(corpus_dir, tmp_path / "index", HashingEmbedder(64))
    ingest(corpus_dir, tmp_path / "index", HashingEmbedder(64), rebuild=True)   # from the stored tokens
    index = load(tmp_path / "index")
    stored = versions.read_json(index.folder, "tokens.json")["reports"]
    prepared = Prepared(HashingEmbedder(64))
    for report in index.reports.values():
        assert stored[prepared.key(report)] == [tokenize(lexical_text(report, p)) for p in report.paragraphs]
