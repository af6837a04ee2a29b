"""Pure Python readers and writers of annotation formats (no Django).

Readers stream their input and yield :class:`ImportedDocument` items, collecting every
problem as a :class:`FormatError` (see :mod:`annotator.formats.errors`); writers take
``ImportedDocument`` items and yield lines or bytes chunks. The formats are described in
``docs/formats.md``. ``annotator/reports.py`` (or another adapter) turns QuerySets into this
plain data and back.
"""

from collections.abc import Iterable, Iterator

from annotator.formats.brat import brat_ann_lines, parse_brat, read_brat_zip, write_brat_zip
from annotator.formats.claims_table import ClaimRow, claim_rows, write_claims_csv
from annotator.formats.conll import ConllStats, outermost_spans, tokenize, write_conll
from annotator.formats.doccano import doccano_user_from_filename, read_doccano, read_doccano_zip
from annotator.formats.documents import (
    read_documents_csv,
    read_documents_jsonl,
    read_documents_zip,
)
from annotator.formats.errors import FormatError, FormatErrors, InputTooLarge
from annotator.formats.jsonl import document_record, read_jsonl, write_jsonl
from annotator.formats.label_studio import read_label_studio
from annotator.formats.model import Document, ImportedDocument, Relation, Span
from annotator.formats.offsets import NewlineFix, OffsetError, Utf16Offsets, fix_newlines
from annotator.formats.spacy_jsonl import spacy_record, write_spacy_jsonl

__all__ = [
    "ClaimRow",
    "ConllStats",
    "Document",
    "FormatError",
    "FormatErrors",
    "ImportedDocument",
    "InputTooLarge",
    "NewlineFix",
    "OffsetError",
    "Relation",
    "Span",
    "Utf16Offsets",
    "brat_ann_lines",
    "claim_rows",
    "doccano_user_from_filename",
    "document_record",
    "encode",
    "fix_newlines",
    "outermost_spans",
    "parse_brat",
    "read_brat_zip",
    "read_doccano",
    "read_doccano_zip",
    "read_documents_csv",
    "read_documents_jsonl",
    "read_documents_zip",
    "read_jsonl",
    "read_label_studio",
    "spacy_record",
    "tokenize",
    "write_brat_zip",
    "write_claims_csv",
    "write_conll",
    "write_jsonl",
    "write_spacy_jsonl",
]


def encode(lines: Iterable[str], encoding: str = "utf-8") -> Iterator[bytes]:
    """A writer's text lines as bytes chunks, for a streaming response or a binary file."""
    for line in lines:
        yield line.encode(encoding)
