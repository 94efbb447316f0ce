"""The on-disk index: round trip, incremental re-ingest, version checks, atomic swap, restricted search."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from rag.errors import IndexMismatch, IndexMissing, IndexWriteError, NotFound
from rag.index import ann, reader, versions, writer
from rag.index.embedding import HashingEmbedder, passage_text
from rag.index.reader import Index
from rag.index.writer import write_index
from rag.records import Judgement, Paragraph, Report

PIPELINE = "test-pipeline-1"
WORDS = ("adoption social worker placement leaders board audit court plan review health education "
         "visit family carers fostering permanence assessment referral threshold supervision caseload "
         "training quality partners police school nurse housing support advocate tracking").split()


def make_report(rid: str, authority: str | None, texts: Sequence[str], *, year: int = 2015) -> Report:
    paragraphs = tuple(
        Paragraph(id=f"{rid}-p{i}", report=rid, ordinal=i, text=text, original=f"  {text}  ",
                  headings=("Section 1", f"Topic {i // 3}"), number=str(i + 1), page=1 + i // 4,
                  kind="bullet" if i % 5 == 4 else "paragraph",
                  lead_in="Inspectors found that:" if i % 5 == 4 else "")
        for i, text in enumerate(texts))
    judgements = (Judgement(report=rid, authority=authority or "", date=f"{year}-11", area="overall",
                            label="Overall effectiveness", grade="requires improvement",
                            paragraph_id=paragraphs[0].id, framework="sif"),) if paragraphs else ()
    sha256 = hashlib.sha256("\n".join(texts).encode()).hexdigest()
    return Report(id=rid, file=f"{rid}.txt", sha256=sha256, title=f"{authority} report",
                  authority=authority, report_type="ofsted_sif", date=f"{year}-11", year=year,
                  inspection_start=f"{year}-10-01", inspection_end=f"{year}-10-20", published=f"{year}-12-01",
                  confidence="medium", notes=("title page missing",), paragraphs=paragraphs, judgements=judgements)


def random_texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choices(WORDS, k=14)) + f" item{seed}x{i}." for i in range(count)]


class CountingEmbedder(HashingEmbedder):
    """Records what it was asked to embed; raises on batch number `fail_on` (1-based) if given."""

    def __init__(self, dimension: int = 64, batch_size: int = 4, fail_on: int | None = None) -> None:
        super().__init__(dimension)
        self.batch_size = batch_size
        self.fail_on = fail_on
        self.calls: list[list[str]] = []

    @property
    def embedded(self) -> list[str]:
        return [t for call in self.calls for t in call]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        if self.fail_on is not None and len(self.calls) == self.fail_on:
            raise RuntimeError("embedder crashed")
        return super().embed(texts)


@pytest.fixture
def reports() -> list[Report]:
    return [
        make_report("hillingdon-2013", "Hillingdon", [
            "The Intensive Team within the Family Key Working Service supports families.",
            "In the current academic year, 237 children were identified as missing from education.",
            "Adoption performance is good and timescales are improving.",
            "The proportion of care leavers in education rose to 4.6% last year.",
            "Leaders use a zanzibarite diagnostic to drive improvement."], year=2013),
        make_report("wandsworth-2015", None, random_texts(1, 12)),
        make_report("windsor-2015", "Windsor and Maidenhead", random_texts(2, 9)),
    ]


def load(index_dir: Path, name: str = "hashing-64", dimension: int | None = 64,
         pipeline: str | None = PIPELINE) -> Index:
    return Index.load(index_dir, embedder_name=name, dimension=dimension, pipeline_version=pipeline)


def answers(index: Index) -> tuple:
    """A fingerprint of what the index returns, to compare before and after a failed write."""
    query = HashingEmbedder(64).embed(["adoption performance timescales"])[0]
    return (tuple(p.id for p in index.paragraphs), index.dense_search(query, 5),
            index.lexical_search("missing from education", 5))


# ---------------------------------------------------------------- reports and texts

def test_reports_round_trip_exactly_through_the_index(tmp_path, reports):
    write_index(tmp_path, reports, HashingEmbedder(64), pipeline_version=PIPELINE)
    index = load(tmp_path)
    assert list(index.reports.values()) == reports
    assert index.paragraphs == [p for r in reports for p in r.paragraphs]
    assert index.report_of(index.paragraphs[-1]) == reports[-1]


def test_passage_text_carries_the_context_a_paragraph_leaves_out(reports):
    report = reports[0]
    bullet = report.paragraphs[4]
    text = passage_text(report, bullet)
    assert "Hillingdon, Ofsted inspection, 2013" in text and "Section 1 > Topic 1" in text
    assert text.endswith("Inspectors found that: Leaders use a zanzibarite diagnostic to drive improvement.")


# ---------------------------------------------------------------- incremental re-ingest

def test_incremental_ingest_embeds_only_new_or_changed_paragraphs(tmp_path, reports):
    first = CountingEmbedder()
    stats = write_index(tmp_path, reports, first, pipeline_version=PIPELINE)
    total = sum(len(r.paragraphs) for r in reports)
    assert (stats.reports, stats.paragraphs, stats.embedded, stats.reused, stats.removed) == (3, total, total, 0, 0)

    unchanged = CountingEmbedder()
    stats = write_index(tmp_path, reports, unchanged, pipeline_version=PIPELINE)
    assert (stats.embedded, stats.reused, unchanged.calls) == (0, total, [])

    hillingdon = reports[0]
    edited = dataclasses.replace(hillingdon.paragraphs[2], text="Adoption is now outstanding.")
    paragraphs = hillingdon.paragraphs[:2] + (edited,) + hillingdon.paragraphs[3:]
    changed_reports = [dataclasses.replace(hillingdon, paragraphs=paragraphs), *reports[1:]]
    changed = CountingEmbedder()
    stats = write_index(tmp_path, changed_reports, changed, pipeline_version=PIPELINE)
    assert changed.embedded == [passage_text(changed_reports[0], edited)]
    assert (stats.embedded, stats.reused) == (1, total - 1)
    assert load(tmp_path).paragraph(edited.id).text == "Adoption is now outstanding."

    added = make_report("hammersmith-2011", "Hammersmith and Fulham", random_texts(3, 5), year=2011)
    adder = CountingEmbedder()
    stats = write_index(tmp_path, [*changed_reports, added], adder, pipeline_version=PIPELINE)
    assert sorted(adder.embedded) == sorted(passage_text(added, p) for p in added.paragraphs)
    assert stats.embedded == 5 and stats.reports == 4

    # Removing a report: its paragraphs disappear from every structure.
    stats = write_index(tmp_path, [added, *changed_reports[1:]], CountingEmbedder(), pipeline_version=PIPELINE)
    assert stats.removed == len(hillingdon.paragraphs) and stats.embedded == 0
    index = load(tmp_path)
    assert "hillingdon-2013" not in index.reports
    assert all(p.report != "hillingdon-2013" for p in index.paragraphs)
    assert index.lexical_search("zanzibarite", 5) == []
    with pytest.raises(NotFound):
        index.paragraph(hillingdon.paragraphs[0].id)
    with pytest.raises(NotFound):
        index.rows_for_reports(["hillingdon-2013"])


def test_a_different_embedder_reuses_nothing(tmp_path, reports):
    write_index(tmp_path, reports, HashingEmbedder(64), pipeline_version=PIPELINE)
    stats = write_index(tmp_path, reports, HashingEmbedder(32), pipeline_version=PIPELINE)
    assert stats.reused == 0 and stats.embedded == stats.paragraphs
    assert load(tmp_path, "hashing-32", 32).vectors.shape[1] == 32


# ---------------------------------------------------------------- what load refuses

def test_missing_index_says_to_run_ingest(tmp_path):
    with pytest.raises(IndexMissing, match=r"^No index in .*: run `rag ingest` first\.$"):
        load(tmp_path / "index")


@pytest.mark.parametrize("name, dimension, pipeline, built, wanted", [
    ("hashing-32", None, PIPELINE, "'hashing-64'", "'hashing-32'"),
    ("hashing-64", 32, PIPELINE, "dimension 64", "uses 32"),
    ("hashing-64", 64, "test-pipeline-2", "'test-pipeline-1'", "'test-pipeline-2'"),
])
def test_index_built_differently_is_refused_naming_both_values(tmp_path, reports, name, dimension, pipeline,
                                                              built, wanted):
    write_index(tmp_path, reports, HashingEmbedder(64), pipeline_version=PIPELINE)
    with pytest.raises(IndexMismatch) as caught:
        load(tmp_path, name, dimension, pipeline)
    message = str(caught.value)
    assert "re-run `rag ingest`" in message and built in message and wanted in message


def test_loading_without_an_embedder_skips_the_model_check(tmp_path, reports):
    write_index(tmp_path, reports, HashingEmbedder(64), pipeline_version=PIPELINE)
    assert len(Index.load(tmp_path, embedder_name=None, pipeline_version=None).reports) == 3


@pytest.mark.parametrize("damage", ["corrupt", "missing", "other-format", "vectors-missing"])
def test_damaged_or_foreign_index_is_refused_with_a_rerun_message(tmp_path, reports, damage):
    write_index(tmp_path, reports, HashingEmbedder(64), pipeline_version=PIPELINE)
    folder = tmp_path / versions.live_version(tmp_path)
    manifest = folder / "manifest.json"
    if damage == "corrupt":
        manifest.write_text('{"format_version": 1, "embed')
    elif damage == "missing":
        manifest.unlink()
    elif damage == "other-format":   # an older index: no checksums, another format number
        manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "format_version": 1,
                                        "manifest_sha256": None}))
    else:
        (folder / "vectors.npy").unlink()
    with pytest.raises(IndexMismatch, match="re-run `rag ingest`"):
        load(tmp_path)


def test_manifest_records_how_the_index_was_built(tmp_path, reports):
    write_index(tmp_path, reports, HashingEmbedder(64), pipeline_version=PIPELINE)
    manifest = load(tmp_path).manifest
    assert manifest["embedder"] == "hashing-64" and manifest["dimension"] == 64 and manifest["normalised"] is True
    assert manifest["pipeline_version"] == PIPELINE and manifest["faiss"]["type"] == "IndexFlatIP"
    assert manifest["counts"] == {"reports": 3, "paragraphs": 26, "judgements": 3}
    assert set(manifest["paragraphs"]) == {p.id for r in reports for p in r.paragraphs}
    assert len(manifest["corpus_hash"]) == 64
    # Every other file of the version, with the size and sha256 a load checks.
    folder = tmp_path / versions.live_version(tmp_path)
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(manifest["files"]) == on_disk and {"reports.json", "vectors.npy", "faiss.index"} < on_disk
    assert any(name.startswith("bm25/") for name in on_disk)
    for name, record in manifest["files"].items():
        data = (folder / name).read_bytes()
        assert record == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    assert "manifest_sha256" in json.loads((folder / "manifest.json").read_text())


# ---------------------------------------------------------------- atomic swap

def test_a_failure_midway_leaves_the_previous_index_live_and_answering(tmp_path, reports, monkeypatch):
    write_index(tmp_path, reports, HashingEmbedder(64), pipeline_version=PIPELINE)
    live, before = versions.live_version(tmp_path), answers(load(tmp_path))
    grown = [*reports, make_report("extra-2016", "Extra", random_texts(4, 10), year=2016)]

    def check_previous_index_is_intact() -> None:
        assert versions.live_version(tmp_path) == live
        assert answers(load(tmp_path)) == before
        assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == [live]   # no half-built folder left

    with pytest.raises(RuntimeError, match="embedder crashed"):   # the embedder dies on its 2nd batch
        write_index(tmp_path, grown, CountingEmbedder(fail_on=2), pipeline_version=PIPELINE)
    check_previous_index_is_intact()
    with monkeypatch.context() as patch:                           # Ctrl-C while files are written
        patch.setattr(writer.faiss, "write_index", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
        with pytest.raises(KeyboardInterrupt):
            write_index(tmp_path, grown, HashingEmbedder(64), pipeline_version=PIPELINE)
    check_previous_index_is_intact()
    with monkeypatch.context() as patch:                           # fails just before the pointer swap
        patch.setattr(versions, "point_to", lambda *a: (_ for _ in ()).throw(OSError(28, "No space left")))
        with pytest.raises(IndexWriteError, match=r"\(No space left\); the previous index \(v-.*\) is still in use"):
            write_index(tmp_path, grown, HashingEmbedder(64), pipeline_version=PIPELINE)
    check_previous_index_is_intact()


def test_leftovers_of_a_killed_run_are_ignored_then_cleaned(tmp_path, reports):
    write_index(tmp_path, reports, HashingEmbedder(64), pipeline_version=PIPELINE)
    live, before = versions.live_version(tmp_path), answers(load(tmp_path))
    (tmp_path / ".staging-deadbeef").mkdir()            # a kill -9 leaves these behind
    (tmp_path / ".staging-deadbeef" / "manifest.json").write_text("{}")
    (tmp_path / "v-19990101T000000000000Z-orphan").mkdir()
    assert answers(load(tmp_path)) == before

    write_index(tmp_path, reports, HashingEmbedder(64), pipeline_version=PIPELINE)
    folders = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert folders == sorted([live, versions.live_version(tmp_path)])   # new live one + the one before it
    write_index(tmp_path, reports, HashingEmbedder(64), pipeline_version=PIPELINE)
    assert live not in {p.name for p in tmp_path.iterdir()}           # older versions are not kept


# ---------------------------------------------------------------- search

def test_restricted_dense_search_stays_inside_the_subset_and_fills_k(tmp_path, reports):
    write_index(tmp_path, reports, HashingEmbedder(64), pipeline_version=PIPELINE)
    index = load(tmp_path)
    rows = index.rows_for_reports(["windsor-2015"])
    assert len(rows) == 9
    # A query that matches a Hillingdon paragraph best must still yield k Windsor paragraphs.
    query = HashingEmbedder(64).embed([passage_text(reports[0], reports[0].paragraphs[1])])[0]
    assert index.dense_search(query, 1)[0][0] == 1
    hits = index.dense_search(query, 5, rows)
    assert len(hits) == 5 and {row for row, _ in hits} <= set(rows.tolist())
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert len(index.dense_search(query, 50, rows)) == 9


def test_bm25_finds_an_exact_rare_term_and_respects_the_subset(tmp_path, reports):
    write_index(tmp_path, reports, HashingEmbedder(64), pipeline_version=PIPELINE)
    index = load(tmp_path)
    assert index.lexical_search("zanzibarite", 5) == [(4, pytest.approx(index.lexical_search("zanzibarite", 1)[0][1]))]
    assert index.lexical_search("4.6%", 3)[0][0] == 3
    assert index.lexical_search("237 children missing", 3)[0][0] == 1
    windsor = index.rows_for_reports(["windsor-2015"])
    assert index.lexical_search("zanzibarite", 5, windsor) == []
    hits = index.lexical_search("adoption placement", 4, windsor)
    assert hits and {row for row, _ in hits} <= set(windsor.tolist())
    assert index.lexical_search("the and of", 5) == []   # stopwords only: nothing to match


def test_neighbours_and_lookups(tmp_path, reports):
    write_index(tmp_path, reports, HashingEmbedder(64), pipeline_version=PIPELINE)
    index = load(tmp_path)
    ids = [p.id for p in reports[0].paragraphs]
    assert [p.id for p in index.neighbours(ids[2], 1)] == ids[1:4]
    assert [p.id for p in index.neighbours(ids[0], 2)] == ids[:3]   # never crosses into another report
    assert [p.id for p in index.neighbours(ids[-1], 3)] == ids[-4:]
    with pytest.raises(NotFound):
        index.paragraph("no-such-paragraph")


def test_above_the_threshold_an_approximate_index_is_chosen_and_finds_the_right_neighbour(tmp_path, monkeypatch):
    monkeypatch.setattr(ann, "EXACT_LIMIT", 100)
    big = [make_report(f"r{i}", f"Authority {i}", random_texts(10 + i, 80)) for i in range(5)]
    write_index(tmp_path, big, HashingEmbedder(64), pipeline_version=PIPELINE)
    index = load(tmp_path)
    assert index.manifest["faiss"]["type"] == "IndexIVFFlat" and index.plan.nlist > 1
    assert index.manifest["faiss"]["nprobe"] == index.plan.nprobe > 0
    vectors = np.asarray(index.vectors)
    for row in (0, 123, 399):
        assert index.dense_search(vectors[row], 3)[0][0] == row
    monkeypatch.setattr(reader, "EXACT_SUBSET_LIMIT", 0)   # force the FAISS ID-selector path
    rows = index.rows_for_reports(["r2"])
    hits = index.dense_search(vectors[0], 10, rows)
    assert len(hits) == 10 and {row for row, _ in hits} <= set(rows.tolist())
    assert index.dense_search(vectors[rows[5]], 1, rows)[0][0] == rows[5]


def test_a_new_pipeline_version_reuses_the_vectors_of_unchanged_texts(tmp_path, reports):
    embedder = HashingEmbedder(64)
    write_index(tmp_path, reports, embedder, pipeline_version="p1")
    changed = [dataclasses.replace(reports[0], paragraphs=(
        dataclasses.replace(reports[0].paragraphs[0], text="A paragraph the new chunking cut differently."),
        *reports[0].paragraphs[1:]))] + list(reports[1:])
    stats = write_index(tmp_path, changed, embedder, pipeline_version="p2")
    assert stats.embedded == 1 and stats.reused == sum(len(r.paragraphs) for r in reports) - 1
    assert load(tmp_path, pipeline="p2").manifest["pipeline_version"] == "p2"
