"""Index versions on disk: the layout, the CURRENT pointer, the writer lock, fsync, and the checksums that
let a load refuse a damaged version instead of answering from it.

Layout of `index/` (the live index is found through one pointer file, CURRENT):

    index/CURRENT              one line: the name of the live version folder, e.g. "v-20250101T120000Z-1a2b3c4d"
    index/v-<utc>-<random>/    a complete, immutable index version:
        manifest.json          format, embedder name/dimension, pipeline version, FAISS type, content hashes,
                               the size and sha256 of every other file here, and its own sha256
        reports.json           every Report/Paragraph/Judgement field; paragraph order = row order
        vectors.npy            float32 (rows, dimension), L2-normalised: reused by the next ingest
        faiss.index            IndexFlatIP, or IndexIVFFlat above rag.ann.EXACT_LIMIT vectors
        bm25/                  bm25s's own save format
    index/.staging-<random>/   a version being written; never read, removed by the next writer
    index/.lock                held (flock) by the one writer

A writer builds a staging folder, fsyncs it, renames it to v-..., then replaces CURRENT (write a temp
file, fsync, os.replace). A crash or Ctrl-C at any moment leaves CURRENT naming a complete version.
The version that was live before stays on disk until the next write, so a reader that read CURRENT
just before the swap still finds its files.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.errors import ConfigError, IndexMismatch, IndexMissing, IndexWriteError
from rag.index.lexical import TOKENIZER

FORMAT_VERSION = 2            # 2: the manifest carries checksums (a version-1 index is rebuilt by `rag ingest`)
POINTER = "CURRENT"
MANIFEST = "manifest.json"
STAGING_PREFIX = ".staging-"
VERSION_PREFIX = "v-"
CHUNK = 1 << 20               # bytes hashed per read: one streaming pass, constant memory


# ---------------------------------------------------------------- fsync and recorded writes

def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):   # files before the folders holding them
        fsync_path(path)
    fsync_path(folder)


class RecordedFile:
    """A new binary file that hashes and counts what is written to it, so the manifest records what was
    meant to be on disk without reading it back. Closing fsyncs it and checks the size on disk, because
    some C writers (faiss writing to a path) only print an error when the final flush fails."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = open(path, "wb")
        self._sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        written = self._file.write(data)
        self._sha256.update(data)
        self.size += len(data)
        return written

    @property
    def record(self) -> dict[str, Any]:
        return {"size": self.size, "sha256": self._sha256.hexdigest()}

    def __enter__(self) -> RecordedFile:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        try:
            if kind is None:
                self._file.flush()
                os.fsync(self._file.fileno())
                on_disk = os.fstat(self._file.fileno()).st_size
                if on_disk != self.size:
                    raise OSError(errno.EIO, f"{self.path.name} has {on_disk} bytes on disk, {self.size} were written")
        finally:
            self._file.close()


def write_bytes(path: Path, data: bytes) -> dict[str, Any]:
    with RecordedFile(path) as out:
        out.write(data)
    return out.record


def json_bytes(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def file_record(path: Path) -> dict[str, Any]:
    """Size and sha256 of a file, in one streaming pass of CHUNK-sized reads."""
    digest, size, buffer = hashlib.sha256(), 0, bytearray(CHUNK)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as handle:
        while n := handle.readinto(buffer):
            digest.update(view[:n])
            size += n
    return {"size": size, "sha256": digest.hexdigest()}


def tree_records(folder: Path, root: Path) -> dict[str, dict[str, Any]]:
    """Records of every file under `folder`, keyed by its path relative to `root` (e.g. "bm25/vocab.index.json")."""
    return {path.relative_to(root).as_posix(): file_record(path)
            for path in sorted(folder.rglob("*")) if path.is_file()}


# ---------------------------------------------------------------- the manifest and its checksums

def _manifest_digest(manifest: dict[str, Any]) -> str:
    # Over a canonical dump, so the check is of the values, not of how the JSON happened to be spelled.
    canonical = json.dumps(manifest, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    write_bytes(folder / MANIFEST, json_bytes({**manifest, "manifest_sha256": _manifest_digest(manifest)}))


def damaged(folder: Path, what: str) -> IndexMismatch:
    return IndexMismatch(f"The index in {folder} is damaged ({what}): re-run `rag ingest`.")


def read_json(folder: Path, name: str) -> Any:
    try:
        return json.loads((folder / name).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise damaged(folder, f"{name}: {error}") from error


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest, its own checksum verified and removed; a manifest of another format is a mismatch."""
    manifest = read_json(folder, MANIFEST)
    if not isinstance(manifest, dict):
        raise damaged(folder, f"{MANIFEST} is not an index manifest")
    recorded = manifest.pop("manifest_sha256", None)
    if recorded is not None and recorded != _manifest_digest(manifest):
        raise damaged(folder, f"{MANIFEST} does not match its checksum")
    check_manifest(folder, manifest, None, None, None)   # an older format has no checksum: say so, not "damaged"
    if recorded is None or not isinstance(manifest.get("files"), dict):
        raise damaged(folder, f"{MANIFEST} has no checksums")
    return manifest


def check_manifest(folder: Path, manifest: dict[str, Any], embedder_name: str | None, dimension: int | None,
                   pipeline_version: str | None) -> None:
    """IndexMismatch naming both values when the version was built differently from this run."""
    if not isinstance(manifest.get("paragraphs"), dict):
        raise damaged(folder, f"{MANIFEST} is not an index manifest")
    rerun = "re-run `rag ingest` to rebuild it"
    checks = [("index format", manifest.get("format_version"), FORMAT_VERSION, ""),
              ("tokenizer", manifest.get("tokenizer"), TOKENIZER, ""),
              ("pipeline version", manifest.get("pipeline_version"), pipeline_version, ""),
              ("embedding model", manifest.get("embedder"), embedder_name,
               f" (or set RAG_EMBEDDING_MODEL={manifest.get('embedder')})"),
              ("embedding dimension", manifest.get("dimension"), dimension,
               " (the model changed under the same name: use `rag ingest --rebuild`)")]
    for what, built, wanted, alternative in checks:
        if wanted is not None and built != wanted:
            raise IndexMismatch(f"The index in {folder.parent} was built with {what} {built!r}, but this run "
                                f"uses {wanted!r}: {rerun}{alternative}.")


def verify_files(folder: Path, manifest: dict[str, Any], names: tuple[str, ...] | None = None) -> None:
    """Check the recorded files (or just `names`): every size first (cheap, catches truncation), then every
    sha256. Hashing reads the whole version once (1M x 384 float32 is 1.5 GB of vectors, about as much
    FAISS: a few seconds at ~2 GB/s), acceptable next to loading it and far cheaper than answering from a
    corrupted index."""
    records = manifest["files"]
    names = tuple(records) if names is None else names
    for name in names:
        record, path = records.get(name), folder / name
        if not isinstance(record, dict) or Path(name).is_absolute() or ".." in Path(name).parts:
            raise damaged(folder, f"{MANIFEST} has no checksum for {name}")
        try:
            size = path.stat().st_size
        except OSError:
            raise damaged(folder, f"{name} is missing") from None
        if size != record.get("size"):
            raise damaged(folder, f"{name} is {size} bytes, {record.get('size')} were written: truncated or overwritten")
    for name in names:
        try:
            actual = file_record(folder / name)["sha256"]
        except OSError as error:
            raise damaged(folder, f"{name} cannot be read: {error.strerror or error}") from error
        if actual != records[name].get("sha256"):
            raise damaged(folder, f"{name} does not match its checksum")


# ---------------------------------------------------------------- the pointer, the lock, leftovers

def live_version(index_dir: Path) -> str | None:
    """The name of the live version folder, or None when there is no index (lets a server spot a new one)."""
    try:
        # A damaged pointer must read as a name that does not exist (a clear error), not a decoding crash.
        name = (Path(index_dir) / POINTER).read_text(encoding="utf-8", errors="replace").strip()
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise ConfigError(f"The index path {index_dir} is a file, not a folder: set RAG_INDEX (or --index) "
                          f"to a folder.") from None
    except OSError as error:
        raise ConfigError(f"The index in {index_dir} cannot be read ({error.strerror or error}); check its "
                          f"permissions.") from None
    return name or None


def live_folder(index_dir: Path) -> Path:
    version = live_version(index_dir)
    if version is None:
        raise IndexMissing(f"No index in {index_dir}: run `rag ingest` first.")
    folder = Path(index_dir) / version
    if not folder.is_dir():
        raise damaged(Path(index_dir), f"{POINTER} names {version!r}, which does not exist")
    return folder


def point_to(index_dir: Path, version: str) -> None:
    temporary = index_dir / f"{POINTER}.{secrets.token_hex(4)}.tmp"
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(version + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, index_dir / POINTER)   # atomic: readers see the old name or the new one
    finally:
        temporary.unlink(missing_ok=True)            # gone after a replace; a leftover after a failure
    fsync_path(index_dir)


def publish(index_dir: Path, staging: Path, version: str) -> None:
    """Make a fully written staging folder the live version: fsync, rename, then swap the pointer."""
    fsync_tree(staging)
    os.rename(staging, index_dir / version)
    fsync_path(index_dir)
    point_to(index_dir, version)


def cannot_write(index_dir: Path, error: OSError, new_version: str | None = None) -> IndexWriteError:
    """The error for a write that failed (disk full, permissions), saying which index is in use now."""
    try:
        live = live_version(index_dir)
    except ConfigError:
        live = None
    reason = error.strerror or str(error)
    if error.filename:
        reason = f"{reason}: {Path(error.filename).name}"
    if live is None:
        state = "no index is in use yet"
    elif live == new_version:
        state = "the new index is in use, but the last sync to disk failed"
    else:
        state = f"the previous index ({live}) is still in use"
    fix = "Free some disk space" if error.errno in (errno.ENOSPC, errno.EDQUOT) else "Fix that"
    return IndexWriteError(f"The index could not be written to {index_dir} ({reason}); {state}. "
                           f"{fix} and re-run `rag ingest`.")


@contextlib.contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """Held by the one writer; the kernel releases it if the writer dies, so a kill never wedges ingest."""
    try:
        handle = open(index_dir / ".lock", "a")
    except OSError as error:
        raise cannot_write(index_dir, error) from error
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)   # a second `rag ingest` waits instead of racing
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_stale(index_dir: Path, keep: set[str]) -> None:
    for path in index_dir.iterdir():
        if path.is_dir() and path.name.startswith((STAGING_PREFIX, VERSION_PREFIX)) and path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith(f"{POINTER}.") and path.name.endswith(".tmp"):
            path.unlink(missing_ok=True)
