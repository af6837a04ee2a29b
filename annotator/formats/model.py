"""The plain data every reader yields and every writer takes.

Offsets are Python string indices (code points) into ``Document.text``, half-open: a span
covers ``text[start:end]``. Texts use ``\\n`` line ends only; readers convert ``\\r\\n`` and lone
``\\r`` (see :mod:`annotator.formats.offsets`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Document:
    """A text with its metadata. ``external_id`` is the id the document has outside Annotator
    ("" when the source gives none: the importer then matches duplicates by text hash)."""

    external_id: str
    text: str
    title: str = ""
    outlet: str = ""
    url: str = ""
    published: str | None = None  # ISO 8601 date, e.g. "2017-09-30"
    language: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    codebook_version: int | str | None = None


@dataclass(slots=True)
class Span:
    """A labelled piece of a document's text, by one coder (``coder``) or in the gold layer
    (``coder is None``; then ``provenance`` says where it came from)."""

    id: str
    start: int
    end: int
    label: str
    text: str
    attributes: dict[str, Any] = field(default_factory=dict)
    coder: str | None = None
    provenance: dict[str, Any] | None = None


@dataclass(slots=True)
class Relation:
    """A typed link from one span to another of the same document, by their ids; like a
    span, a coder's (``coder``) or gold (``coder is None``, with ``provenance``)."""

    id: str
    type: str
    source_id: str
    target_id: str
    coder: str | None = None
    provenance: dict[str, Any] | None = None


@dataclass(slots=True)
class ImportedDocument:
    """A document with its spans and relations: what readers yield and writers take."""

    document: Document
    spans: list[Span] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
