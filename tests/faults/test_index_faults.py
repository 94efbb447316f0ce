"""Index faults: a writer killed at any step, an index built differently, corrupted or truncated files,
and a full disk. After each, the live index answers exactly as before (or the new one is complete), the
user is told to re-run `rag ingest`, and that ingest repairs it.

Everything uses the hashing embedder over a small text corpus, so the whole file runs in seconds.
"""
from __future__ import annotations

import builtins
import errno
import fcntl
import json
import os
import random
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rag.errors import IndexMismatch, IndexWriteError
from rag.index import versions
from rag.index.builder import ingest
from rag.index.embedding import HashingEmbedder, passage_text
from rag.index.reader import Index
from rag.index.versions import live_version
from rag.index.writer import write_index
from rag.ingest.corpus import PIPELINE_VERSION, parse_corpus
from rag.settings import Settings
from tests.conftest import ROOT
from tests.helpers import cli_runner

AUTHORITIES = ("Hillingdon", "Wandsworth", "Hammersmith and Fulham", "Windsor and Maidenhead")
WORDS = ("adoption social worker placement leaders board audit court plan review health education visit "
         "family carers fostering permanence assessment referral threshold supervision caseload training "
         "quality partners police school nurse housing support advocate tracking").split()


def report_text(authority: str, seed: int, paragraphs: int) -> str:
    rng = random.Random(seed)
    body = [f"{n}. " + " ".join(rng.choices(WORDS, k=16)) + f" marker{seed}x{n}."
            for n in range(1, paragraphs + 1)]
    return "\n\n".join([f"{authority}: inspection of services for children in need of help and protection",
                        "Inspection dates: 5 October 2015 to 29 October 2015", *body]) + "\n"


def make_corpus(folder: Path, names: tuple[str, ...], extra: bool = False) -> Path:
    folder.mkdir(parents=True)
    for seed, authority in enumerate(names):
        (folder / f"{seed:03d}.txt").write_text(report_text(authority, seed, 8), encoding="utf-8")
    if extra:   # the report a later ingest adds: 10 paragraphs, so embedding it takes several batches
        (folder / "new.txt").write_text(report_text("Camden", 99, 10), encoding="utf-8")
    return folder


def load(index_dir: Path) -> Index:
    return Index.load(index_dir, embedder_name="hashing-64", dimension=64, pipeline_version=PIPELINE_VERSION)


def answers(index: Index) -> tuple:
    """A fingerprint of what the index returns, to compare before and after a fault."""
    query = HashingEmbedder(64).embed(["adoption placement supervision caseload"])[0]
    return (tuple(p.id for p in index.paragraphs), index.dense_search(query, 5),
            index.lexical_search("fostering permanence threshold", 5))


def folders(index_dir: Path, prefix: str) -> set[str]:
    return {p.name for p in index_dir.iterdir() if p.is_dir() and p.name.startswith(prefix)}


def leftovers(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir()
                  if p.name.startswith(versions.STAGING_PREFIX) or p.name.endswith(".tmp"))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Corpora, and an index template whose live version (built from `base`) has an older one beside it."""
    root = tmp_path_factory.mktemp("index-faults")
    world = {"older": make_corpus(root / "older", AUTHORITIES[:3]),
             "base": make_corpus(root / "base", AUTHORITIES),
             "grown": make_corpus(root / "grown", AUTHORITIES, extra=True),
             "template": root / "template"}
    ingest(world["older"], world["template"], HashingEmbedder(64))
    world["stale"] = live_version(world["template"])
    ingest(world["base"], world["template"], HashingEmbedder(64))
    world["live"] = live_version(world["template"])
    world["before"] = answers(load(world["template"]))
    reference = root / "grown-reference"
    ingest(world["grown"], reference, HashingEmbedder(64))
    world["grown_answers"] = answers(load(reference))
    assert world["before"] != world["grown_answers"] and world["stale"] != world["live"]
    return world


@pytest.fixture
def index(world, tmp_path) -> Path:
    target = tmp_path / "index"
    shutil.copytree(world["template"], target)
    return target


def assert_previous_index_answers(index: Path, world) -> None:
    assert (index / "CURRENT").read_text(encoding="utf-8") == world["live"] + "\n"
    assert answers(load(index)) == world["before"]


# ---------------------------------------------------------------- a: killed mid-ingest

CHILD = r"""
import fcntl, os, sys, time
from pathlib import Path

import bm25s, faiss
from rag.index import writer as index_writer
from rag.index import versions
from rag.index.embedding import HashingEmbedder
from rag.index.builder import ingest

index_dir, corpus, point, marker = sys.argv[1:5]
calls = {}

def stop_here():
    Path(marker).write_text(point)
    time.sleep(60)   # the parent sends SIGKILL now

def patch(owner, name, when=lambda *a, **k: True, after=False):
    real = getattr(owner, name)
    def wrapper(*args, **kwargs):
        calls[name] = calls.get(name, 0) + 1
        hit = when(*args, **kwargs)
        if hit and not after:
            stop_here()
        result = real(*args, **kwargs)
        if hit and after:
            stop_here()
        return result
    setattr(owner, name, wrapper)

class Embedder(HashingEmbedder):
    batch_size = 4
    def embed(self, texts):
        calls["embed"] = calls.get("embed", 0) + 1
        if point == "embedding" and calls["embed"] == 2:
            stop_here()
        return super().embed(texts)

if point == "lock-held":
    patch(fcntl, "flock", when=lambda handle, op: op == fcntl.LOCK_EX, after=True)
elif point == "bm25-build":
    patch(bm25s.BM25, "index")
elif point == "faiss-build":
    patch(index_writer, "build_faiss_index")
elif point == "vectors-written":
    patch(faiss, "write_index")
elif point == "manifest-unwritten":
    patch(versions, "write_manifest")
elif point == "renamed-not-live":
    patch(versions, "point_to")
elif point == "live-not-cleaned":
    patch(versions, "remove_stale", when=lambda *a, **k: calls["remove_stale"] == 2)
ingest(Path(corpus), Path(index_dir), Embedder(64))
print("finished without reaching", point, file=sys.stderr)
"""

KILL_POINTS = ["lock-held", "embedding", "bm25-build", "faiss-build", "vectors-written", "manifest-unwritten",
               "renamed-not-live", "live-not-cleaned"]


def kill_ingest_at(point: str, index: Path, corpus: Path, tmp_path: Path) -> None:
    marker = tmp_path / "reached"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(index), str(corpus), point, str(marker)],
                             cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            if child.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the child never reached {point}: {child.communicate()[1].decode()[-2000:]}")
            time.sleep(0.02)
    finally:
        child.kill()   # SIGKILL: no finally blocks, no cleanup, like a power cut of the process
        child.wait()
    assert child.returncode == -9


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_writer_killed_at_any_step_leaves_a_complete_live_index(world, index, tmp_path, point):
    kill_ingest_at(point, index, world["grown"], tmp_path)

    # The kernel drops a dead writer's lock: the next ingest does not wait forever.
    with open(index / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(handle, fcntl.LOCK_UN)
    staging = [index / name for name in folders(index, versions.STAGING_PREFIX)]
    others = folders(index, versions.VERSION_PREFIX) - {world["live"], world["stale"]}
    if point == "live-not-cleaned":               # the swap happened: the new version is whole and live
        assert live_version(index) in others and world["live"] in folders(index, versions.VERSION_PREFIX)
        assert answers(load(index)) == world["grown_answers"]
    else:                                          # the swap did not happen: the old version answers
        assert_previous_index_answers(index, world)
        written = {p.name for p in staging[0].iterdir() if p.is_dir() or p.stat().st_size} if staging else set()
        expected = {"lock-held": (0, set()), "embedding": (0, set()), "bm25-build": (1, set()),
                    "faiss-build": (1, set()), "vectors-written": (1, {"reports.json", "vectors.npy"}),
                    "manifest-unwritten": (1, {"reports.json", "vectors.npy", "faiss.index", "weights.json",
                                            "word_counts.json", "tokens.json", "bm25"}),
                    "renamed-not-live": (0, set())}[point]
        assert (len(staging), written) == expected   # the kill happened where it claims to
        assert len(others) == (1 if point == "renamed-not-live" else 0)

    before = live_version(index)
    ingest(world["grown"], index, HashingEmbedder(64))
    assert answers(load(index)) == world["grown_answers"]
    assert leftovers(index) == []
    if live_version(index) != before:             # a new version was written: only it and the one before stay
        assert folders(index, versions.VERSION_PREFIX) == {before, live_version(index)}


# ---------------------------------------------------------------- b: built differently

class NamedEmbedder(HashingEmbedder):
    def __init__(self, name: str, dimension: int) -> None:
        super().__init__(dimension)
        self.name = name


@pytest.mark.parametrize("what, embedder, pipeline, named", [
    ("model", NamedEmbedder("other-model", 64), PIPELINE_VERSION,
     ("embedding model 'other-model'", "uses 'hashing-64'")),
    ("dimension", NamedEmbedder("hashing-64", 32), PIPELINE_VERSION, ("embedding dimension 32", "uses 64")),
    ("pipeline", HashingEmbedder(64), "chunk-0+meta-0", ("pipeline version 'chunk-0+meta-0'",
                                                        f"uses {PIPELINE_VERSION!r}")),
])
def test_an_index_built_differently_is_refused_then_rebuilt(world, tmp_path, what, embedder, pipeline, named):
    index = tmp_path / "index"
    reports = parse_corpus(world["base"]).reports
    write_index(index, reports, embedder, pipeline_version=pipeline)
    with pytest.raises(IndexMismatch) as caught:
        load(index)
    message = str(caught.value)
    assert all(value in message for value in named) and "re-run `rag ingest`" in message

    if what == "dimension":   # same model name: ingest cannot tell without loading the model (see below)
        stats = write_index(index, reports, HashingEmbedder(64), pipeline_version=PIPELINE_VERSION)
    else:
        stats = ingest(world["base"], index, HashingEmbedder(64)).stats
    assert answers(load(index)) == world["before"]
    # Vectors of another model or dimension are never reused; another chunking keeps equal texts' vectors.
    assert stats.reused == (stats.paragraphs if what == "pipeline" else 0)


def test_ingest_rebuilds_an_index_of_a_same_named_model_with_another_dimension(world, tmp_path):
    index = tmp_path / "index"
    write_index(index, parse_corpus(world["base"]).reports, NamedEmbedder("hashing-64", 32),
                pipeline_version=PIPELINE_VERSION)
    with pytest.raises(IndexMismatch, match=r"dimension 32.*uses 64.*rag ingest --rebuild"):
        load(index)
    ingest(world["base"], index, HashingEmbedder(64))        # a loaded embedder: its dimension is checked
    assert answers(load(index)) == world["before"]


def test_ingest_rebuild_rewrites_an_index_a_lazy_embedder_cannot_check(world, tmp_path):
    from rag.index.embedding import LazyEmbedder
    index = tmp_path / "index"
    write_index(index, parse_corpus(world["base"]).reports, NamedEmbedder("hashing-64", 32),
                pipeline_version=PIPELINE_VERSION)
    lazy = LazyEmbedder(Settings(embedding_model="hashing-64"))
    assert ingest(world["base"], index, lazy).stats.embedded == 0       # the name matches: kept as it is
    result = ingest(world["base"], index, lazy, rebuild=True)
    assert result.stats.embedded == result.stats.paragraphs               # 32-d vectors are not reused
    assert answers(load(index)) == world["before"]


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code, out, err = cli_runner(capsys)(*args)
    assert "Traceback" not in out + err
    return code, out, err


def test_the_cli_refuses_an_index_of_another_model_then_rebuilds_it(world, tmp_path, monkeypatch, capsys):
    flags = ("--corpus", str(world["base"]), "--index", str(tmp_path / "index"))
    monkeypatch.setenv("RAG_LLM", "extractive")
    monkeypatch.setenv("RAG_EMBEDDING_MODEL", "hashing-32")
    assert run_cli(capsys, "ingest", *flags)[0] == 0
    monkeypatch.setenv("RAG_EMBEDDING_MODEL", "hashing-64")
    code, out, err = run_cli(capsys, "search", "adoption placement", *flags)
    assert code == 3 and out == ""
    assert err.startswith("rag: The index in ") and err.count("\n") == 1
    assert "embedding model 'hashing-32', but this run uses 'hashing-64': re-run `rag ingest`" in err

    assert run_cli(capsys, "ingest", *flags)[0] == 0
    code, out, err = run_cli(capsys, "search", "adoption placement", *flags)
    assert code == 0 and err == "" and any(authority in out for authority in AUTHORITIES)


# ---------------------------------------------------------------- c: corrupted and truncated files

def damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "flip":
        # A high byte of a float32 when the file ends in float data (vectors.npy), so a damaged vector
        # that were reused would be far from the fresh one.
        data[len(data) - 1 - 4 * (len(data) // 8)] ^= 0xFF
        path.write_bytes(bytes(data))
    elif how == "truncate":
        path.write_bytes(bytes(data[:len(data) // 2]))
    else:
        path.unlink()


FILES = ["manifest.json", "reports.json", "vectors.npy", "faiss.index", "bm25/vocab.index.json",
         "bm25/data.csc.index.npy"]


@pytest.mark.parametrize("how", ["flip", "truncate", "delete"])
@pytest.mark.parametrize("name", FILES)
def test_a_damaged_file_is_refused_by_name_and_ingest_rebuilds_without_reusing_it(world, index, name, how):
    damage(index / world["live"] / name, how)
    with pytest.raises(IndexMismatch) as caught:
        load(index)
    message = str(caught.value)
    assert "is damaged" in message and name in message and message.endswith("re-run `rag ingest`.")

    result = ingest(world["base"], index, HashingEmbedder(64))
    rebuilt = load(index)
    assert rebuilt.version != world["live"] and answers(rebuilt) == world["before"]
    pairs = [(r, p) for r in result.corpus.reports for p in r.paragraphs]
    fresh = HashingEmbedder(64).embed([passage_text(r, p) for r, p in pairs])
    np.testing.assert_allclose(rebuilt.vectors, fresh, atol=1e-6)
    # Vectors are reused only when the manifest, reports.json and vectors.npy all verify.
    trusted = name.startswith(("faiss", "bm25"))
    assert result.stats.reused == (len(pairs) if trusted else 0)


@pytest.mark.parametrize("how", ["flip", "truncate"])
def test_a_damaged_pointer_is_refused_and_ingest_rebuilds(world, index, how):
    damage(index / "CURRENT", how)
    with pytest.raises(IndexMismatch, match=r"is damaged \(CURRENT names '.*', which does not exist\): "
                                            r"re-run `rag ingest`\.$"):
        load(index)
    ingest(world["base"], index, HashingEmbedder(64))
    assert answers(load(index)) == world["before"] and leftovers(index) == []


def test_a_manifest_damaged_into_other_valid_json_fails_its_own_checksum(index, world):
    path = index / world["live"] / "manifest.json"
    manifest = json.loads(path.read_text())
    first = next(iter(manifest["paragraphs"]))
    manifest["paragraphs"][first] = manifest["paragraphs"][first][::-1]   # still a hash, still JSON
    path.write_text(json.dumps(manifest, separators=(",", ":")))
    with pytest.raises(IndexMismatch, match=r"damaged \(manifest.json does not match its checksum\)"):
        load(index)


def test_a_manifest_of_the_previous_format_asks_for_a_rebuild_not_a_repair(index, world):
    path = index / world["live"] / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["manifest_sha256"], manifest["files"]
    path.write_text(json.dumps({**manifest, "format_version": 1}))
    with pytest.raises(IndexMismatch, match=r"built with index format 1, but this run uses 2: re-run `rag ingest`"):
        load(index)


def test_the_cli_reports_a_damaged_index_then_ingest_repairs_it(world, index, monkeypatch, capsys):
    flags = ("--corpus", str(world["base"]), "--index", str(index))
    monkeypatch.setenv("RAG_LLM", "extractive")
    monkeypatch.setenv("RAG_EMBEDDING_MODEL", "hashing-64")
    damage(index / world["live"] / "vectors.npy", "flip")
    code, out, err = run_cli(capsys, "search", "adoption placement", *flags)
    assert (code, out) == (3, "")
    assert err == f"rag: The index in {index / world['live']} is damaged (vectors.npy does not match its " \
                  f"checksum): re-run `rag ingest`.\n"
    assert run_cli(capsys, "ingest", *flags)[0] == 0
    assert answers(load(index)) == world["before"]


# ---------------------------------------------------------------- d: disk full

def full_disk_for(monkeypatch, names: tuple[str, ...]) -> None:
    """Writes to files with these names go to /dev/full: the real ENOSPC, raised where a full disk raises it."""
    real_open = builtins.open

    def fake_open(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and any(m in mode for m in "wax") and Path(file).name in names:
            return real_open("/dev/full", mode.replace("x", "w"), *args, **kwargs)
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)


def fail_os_call(monkeypatch, name: str, applies) -> None:
    real = getattr(os, name)

    def fake(*args, **kwargs):
        if applies(*args):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, fake)


DISK_FULL = {
    "staging folder": lambda mp: fail_os_call(mp, "mkdir", lambda path, *a: Path(path).name.startswith(".staging-")),
    "reports.json": lambda mp: full_disk_for(mp, ("reports.json",)),
    "vectors.npy": lambda mp: full_disk_for(mp, ("vectors.npy",)),
    "faiss.index": lambda mp: full_disk_for(mp, ("faiss.index",)),
    "bm25 arrays": lambda mp: full_disk_for(mp, ("data.csc.index.npy",)),
    "bm25 vocabulary": lambda mp: full_disk_for(mp, ("vocab.index.json",)),
    "manifest.json": lambda mp: full_disk_for(mp, ("manifest.json",)),
    "folder sync": lambda mp: fail_os_call(mp, "fsync", lambda fd: stat.S_ISDIR(os.fstat(fd).st_mode)),
    "rename": lambda mp: fail_os_call(mp, "rename", lambda src, *a: Path(src).name.startswith(".staging-")),
    "pointer": lambda mp: fail_os_call(mp, "replace", lambda src, *a: Path(src).name.startswith("CURRENT.")),
}


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("step", DISK_FULL)
def test_a_full_disk_keeps_the_previous_index_live_and_says_so(world, index, monkeypatch, step):
    grown = parse_corpus(world["grown"]).reports
    with monkeypatch.context() as patch:
        DISK_FULL[step](patch)
        with pytest.raises(IndexWriteError) as caught:
            write_index(index, grown, HashingEmbedder(64), pipeline_version=PIPELINE_VERSION)
    message = str(caught.value)
    assert message.startswith(f"The index could not be written to {index} (No space left on device")
    assert message.endswith(f"the previous index ({world['live']}) is still in use. "
                            f"Free some disk space and re-run `rag ingest`.")
    assert_previous_index_answers(index, world)
    assert leftovers(index) == [] and folders(index, versions.VERSION_PREFIX) == {world["live"]}

    write_index(index, grown, HashingEmbedder(64), pipeline_version=PIPELINE_VERSION)   # space freed
    assert answers(load(index)) == world["grown_answers"]


def test_the_cli_reports_a_full_disk_in_one_line(world, index, monkeypatch, capsys):
    monkeypatch.setenv("RAG_EMBEDDING_MODEL", "hashing-64")
    full_disk_for(monkeypatch, ("vectors.npy",))
    code, out, err = run_cli(capsys, "ingest", "--corpus", str(world["grown"]), "--index", str(index))
    assert code == IndexWriteError.exit_code == 7
    line = err.splitlines()[-1]
    assert line.startswith(f"rag: The index could not be written to {index} (No space left on device")
    assert line.endswith("is still in use. Free some disk space and re-run `rag ingest`.")
    monkeypatch.undo()
    assert_previous_index_answers(index, world)
