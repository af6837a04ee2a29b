"""spaCy / Prodigy JSONL: ``{"text", "spans": [{"start", "end", "label"}], "meta"}`` per line.

This is the shape Prodigy's ``db-in`` and ``ner.manual`` read and that ``Doc.char_span``
turns into spaCy spans. Offsets are code points, as in Python and spaCy. ``meta`` holds the
document's external id and its non-empty fields (title, outlet, url, published, language)
with its metadata; Prodigy shows it under the text. Every span is written, overlapping or
not: put them in ``doc.spans`` (which allows overlaps), or filter them with
``spacy.util.filter_spans`` before setting ``doc.ents``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from annotator.formats.jsonl import dumps_line
from annotator.formats.model import ImportedDocument


def spacy_record(item: ImportedDocument) -> dict[str, Any]:
    doc = item.document
    meta: dict[str, Any] = {"external_id": doc.external_id}
    for name in ("title", "outlet", "url", "published", "language"):
        value = getattr(doc, name)
        if value:
            meta[name] = value
    for key, value in doc.metadata.items():
        meta.setdefault(key, value)
    spans = sorted(item.spans, key=lambda s: (s.start, s.end, s.label))
    return {
        "text": doc.text,
        "spans": [{"start": s.start, "end": s.end, "label": s.label} for s in spans],
        "meta": meta,
    }


def write_spacy_jsonl(items: Iterable[ImportedDocument]) -> Iterator[str]:
    """Yield one line per document."""
    for item in items:
        yield dumps_line(spacy_record(item))
