"""Specific errors, each with a message a user can act on. The CLI maps them to exit codes."""
from __future__ import annotations


class RagError(Exception):
    """Base class. str(error) is shown to the user as is."""
    exit_code = 1


class ConfigError(RagError):
    """A setting is missing or has a value that cannot work."""
    exit_code = 2


class ReportError(RagError):
    """One report cannot be read; ingestion skips it and goes on with the others."""


class UnsupportedFormat(ReportError):
    pass


class UnreadableReport(ReportError):
    pass


class EmptyReport(ReportError):
    pass


class ReportTooLarge(ReportError):
    pass


class DuplicateReport(ReportError):
    """The same report is already in the corpus under another file name."""


class IndexMissing(RagError):
    exit_code = 3


class IndexMismatch(RagError):
    """The index on disk was built by another model or pipeline version."""
    exit_code = 3


class IndexWriteError(RagError):
    """A new index version could not be written (disk full, no permission); the previous one stays live."""
    exit_code = 7


class ModelUnavailable(RagError):
    """A model (embedder, reranker, language model) cannot be loaded here."""
    exit_code = 4


class PromptError(RagError):
    """A prompt file is missing or lacks a placeholder the chain fills."""
    exit_code = 2


class EngineError(RagError):
    """The answer engine failed (a server did not answer, a model crashed)."""
    exit_code = 5


class QueryError(RagError):
    """A question that cannot be searched (empty, too long, no words): the message says how to ask it."""
    exit_code = 2


class UsageError(RagError):
    """An option's value the command cannot use (an unknown region or grade): the message lists the choices."""
    exit_code = 2


class NotFound(RagError):
    """A paragraph, report or authority the user named does not exist."""
    exit_code = 6


class GoldFileError(RagError):
    """A gold-questions (or answers) JSONL file cannot be read; the message names the line."""
    exit_code = 2


class UploadRejected(RagError):
    """An uploaded file is not added to the corpus (too large, already there): the message says why."""
