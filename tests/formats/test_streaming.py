"""Readers and writers work a record at a time: memory does not grow with the input."""

import io
import json
import tracemalloc
from itertools import count, islice

import pytest

from annotator.formats import (
    Document,
    ImportedDocument,
    InputTooLarge,
    Span,
    read_documents_zip,
    read_jsonl,
    write_brat_zip,
    write_claims_csv,
    write_conll,
    write_jsonl,
    write_spacy_jsonl,
)
from annotator.formats.claims_table import ClaimRow

DOCUMENTS = 100_000


def small_documents(n):
    for i in range(n):
        text = f"Document {i}: 16 fighters were killed in Idlib 😀."
        yield ImportedDocument(
            Document(f"doc-{i}", text, outlet="SANA"),
            [Span("L1", 41, 46, "LOCATION", "Idlib", {"geo_precision": 4}, "alice")],
        )


def peak_while_draining(chunks):
    tracemalloc.start()
    try:
        for _ in chunks:
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_writing_100000_documents_as_jsonl_keeps_memory_flat():
    # The generator's and the writer's allocations are all traced: a few KB at the peak.
    assert peak_while_draining(write_jsonl(small_documents(DOCUMENTS))) < 1_000_000


@pytest.mark.parametrize("writer", [write_conll, write_spacy_jsonl])
def test_the_other_text_writers_keep_memory_flat(writer):
    assert peak_while_draining(writer(small_documents(5_000))) < 2_000_000


def test_the_claims_csv_keeps_memory_flat():
    rows = (
        ClaimRow(f"doc-{i}", "", "SANA", None, "C1", "16 fighters", low=16) for i in range(5_000)
    )
    assert peak_while_draining(write_claims_csv(rows)) < 2_000_000


def test_the_jsonl_reader_yields_documents_before_its_input_ends():
    def endless():
        for n in count():
            yield json.dumps({"external_id": str(n), "text": "Idlib"}) + "\n"

    assert [i.document.external_id for i in islice(read_jsonl(endless()), 3)] == ["0", "1", "2"]


def test_an_input_over_the_size_limit_stops_the_reader_with_a_clear_message():
    lines = [json.dumps({"text": "x" * 100}) + "\n"] * 20
    with pytest.raises(InputTooLarge, match=r"upload\.jsonl is larger than the limit of 1 KB"):
        list(read_jsonl(io.BytesIO("".join(lines).encode()), file="upload.jsonl", max_bytes=1024))


def test_a_zip_declaring_more_than_the_size_limit_is_refused_before_reading():
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.txt", "a" * 100_000)
    buffer.seek(0)
    with pytest.raises(InputTooLarge):
        next(read_documents_zip(buffer, file="up.zip", max_bytes=10_000))


def test_the_brat_zip_grows_only_by_its_small_central_directory():
    small = peak_while_draining(write_brat_zip(small_documents(2_000)))
    large = peak_while_draining(write_brat_zip(small_documents(6_000)))
    assert (large - small) / 4_000 < 600  # bytes a document
