"""Reports to and from plain JSON-ready dicts (an index's reports.json): every field of Report, Paragraph
and Judgement, so a report read back equals the report written. Unknown keys are ignored."""
from __future__ import annotations

import dataclasses
from typing import Any

from rag.records import Judgement, Paragraph, Report


def _build(cls: type, data: dict[str, Any], **converted: Any) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names} | converted)


def _fields(record: Any) -> dict[str, Any]:
    """A record's fields, one level deep (dataclasses.asdict deep-copies: seconds for a national corpus)."""
    return {name: getattr(record, name) for name in _NAMES[type(record)]}


_NAMES = {cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in (Report, Paragraph, Judgement)}


def paragraph_to_dict(paragraph: Paragraph) -> dict[str, Any]:
    return _fields(paragraph)


def paragraph_from_dict(data: dict[str, Any]) -> Paragraph:
    return _build(Paragraph, data, headings=tuple(data.get("headings", ())))


def report_to_dict(report: Report) -> dict[str, Any]:
    data = _fields(report)
    data["paragraphs"] = [_fields(p) for p in report.paragraphs]
    data["judgements"] = [_fields(j) for j in report.judgements]
    return data


def report_from_dict(data: dict[str, Any]) -> Report:
    return _build(Report, data, notes=tuple(data.get("notes", ())),
                  paragraphs=tuple(paragraph_from_dict(p) for p in data.get("paragraphs", ())),
                  judgements=tuple(_build(Judgement, j) for j in data.get("judgements", ())))
