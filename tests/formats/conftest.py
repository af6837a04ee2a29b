"""Plain-data factories and the demo article with its gold, for the format tests.

The seed files are read from ANNOTATOR_SEED_DIR, ./data or /work/shared/data; tests that
need them skip when none is found.
"""

import json
import os
from pathlib import Path

import pytest

from annotator.formats import Document, ImportedDocument, Relation, Span

_CANDIDATES = [Path(__file__).resolve().parents[2] / "data", Path("/work/shared/data")]

EMOJI_TEXT = "😀 Idlib: 16 fighters killed 💥 near Raqqa."
ARABIC_TEXT = "قالت وزارة الدفاع الروسية إن ٢٬٣٥٩ مسلحاً قتلوا في إدلب."


def make_span(text, piece, label, span_id, *, occurrence=0, **extra):
    """A span over the ``occurrence``-th appearance of ``piece`` in ``text``."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(piece, start + 1)
    return Span(span_id, start, start + len(piece), label, piece, **extra)


def make_item(text, pieces=(), relations=(), external_id="doc-1", **document_fields):
    """A document with spans given as (piece, label, id[, attributes]) and relations as
    (id, type, source id, target id)."""
    spans = []
    for piece in pieces:
        attributes = piece[3] if len(piece) > 3 else {}
        spans.append(make_span(text, piece[0], piece[1], piece[2], attributes=attributes))
    return ImportedDocument(
        Document(external_id, text, **document_fields),
        spans,
        [Relation(*r) for r in relations],
    )


@pytest.fixture(scope="session")
def seed_dir() -> Path:
    configured = os.environ.get("ANNOTATOR_SEED_DIR")
    candidates = [Path(configured)] if configured else _CANDIDATES
    found = next((d for d in candidates if (d / "seed-gold.json").is_file()), None)
    if found is None or not (found / "seed-article.json").is_file():
        pytest.skip("seed-article.json / seed-gold.json not found (set ANNOTATOR_SEED_DIR)")
    return found


@pytest.fixture(scope="session")
def seed_item(seed_dir) -> ImportedDocument:
    """The demo article with its hand-coded gold (57 spans, 16 relations)."""
    article = json.loads((seed_dir / "seed-article.json").read_text(encoding="utf-8"))
    gold = json.loads((seed_dir / "seed-gold.json").read_text(encoding="utf-8"))
    document = Document(
        article["external_id"],
        article["text"],
        title=article.get("title", ""),
        outlet=article.get("outlet", ""),
        url=article.get("url", ""),
        published=article.get("published"),
        language=article.get("language", ""),
    )
    spans = [
        Span(s["id"], s["start"], s["end"], s["label"], s["text"], dict(s["attributes"]))
        for s in gold["spans"]
    ]
    relations = [
        Relation(f"rel{n}", r["type"], r["from"], r["to"])
        for n, r in enumerate(gold["relations"], start=1)
    ]
    return ImportedDocument(document, spans, relations)
