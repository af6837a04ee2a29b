"""Reading inputs a piece at a time: lines, chunks, JSON array items, zip members.

Readers accept a binary or text file object, an iterable of lines (``str`` or ``bytes``), or
the whole content as one ``str``/``bytes`` (convenient in tests; the caller already holds it).
Nothing here reads a whole file into memory, except one zip member, which is one document.
"""

from __future__ import annotations

import codecs
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

from annotator.formats.errors import BAD_ENCODING, BAD_JSON, Collector, InputTooLarge

Source = IO[bytes] | IO[str] | Iterable[bytes] | Iterable[str] | bytes | str

CHUNK_SIZE = 64 * 1024


class _Budget:
    """Counts the bytes read and raises InputTooLarge past the limit."""

    __slots__ = ("file", "limit", "used")

    def __init__(self, file: str, limit: int | None) -> None:
        self.file = file
        self.limit = limit
        self.used = 0

    def spend(self, n: int) -> None:
        self.used += n
        if self.limit is not None and self.used > self.limit:
            raise InputTooLarge(self.file, self.limit)


def _pieces(source: Source) -> Iterator[bytes | str]:
    """The source as an iterator of lines or chunks, bytes or str."""
    if isinstance(source, (bytes, str)):
        return iter(io.BytesIO(source) if isinstance(source, bytes) else io.StringIO(source))
    return iter(source)  # type: ignore[arg-type]


def lines(
    source: Source, *, file: str, max_bytes: int | None, collector: Collector
) -> Iterator[tuple[int, str]]:
    """Yield ``(line number, line)`` with the line end kept; bytes are decoded as UTF-8 (a
    leading byte order mark is dropped). A line that is not UTF-8 is reported and skipped."""
    budget = _Budget(file, max_bytes)
    for number, piece in enumerate(_pieces(source), start=1):
        if isinstance(piece, bytes):
            budget.spend(len(piece))
            try:
                line = piece.decode("utf-8")
            except UnicodeDecodeError as exc:
                collector.add(
                    file,
                    number,
                    "",
                    f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                    kind=BAD_ENCODING,
                )
                continue
        else:
            line = piece
            if max_bytes is not None:
                budget.spend(len(line.encode("utf-8", "surrogatepass")))
        if number == 1 and line.startswith("\ufeff"):
            line = line[1:]
        yield number, line


class _NotUtf8(Exception):
    pass


def chunks(source: Source, *, file: str, max_bytes: int | None) -> Iterator[str]:
    """Yield the source's text in chunks of about CHUNK_SIZE characters; raises _NotUtf8 on
    bytes that are not UTF-8."""
    budget = _Budget(file, max_bytes)
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    read = getattr(source, "read", None)
    # A file is read in chunks (its lines could be one huge line); the loop stops at b"" or "".
    pieces: Iterator[bytes | str] = (
        iter(lambda: read(CHUNK_SIZE), b"") if read is not None else _pieces(source)
    )
    first = True
    for piece in pieces:
        if not piece:
            break
        if isinstance(piece, bytes):
            budget.spend(len(piece))
            try:
                text = decoder.decode(piece)
            except UnicodeDecodeError as exc:
                raise _NotUtf8(f"not UTF-8 text ({exc.reason})") from None
        else:
            text = piece
            if max_bytes is not None:
                budget.spend(len(text.encode("utf-8", "surrogatepass")))
            if first and text.startswith("\ufeff"):
                text = text[1:]
        first = False
        if text:
            yield text
    try:
        tail = decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise _NotUtf8(f"not UTF-8 text ({exc.reason})") from None
    if tail:
        yield tail


# Outside strings, the characters that matter for finding an item's end.
_STRUCTURE = re.compile(r'["\[\]{},]')
# Inside a string: its end, or an escape.
_STRING_STOP = re.compile(r'["\\]')
_NOT_SPACE = re.compile(r"\S")


class _Truncated(Exception):
    pass


class _Scanner:
    def __init__(self, pieces: Iterator[str]) -> None:
        self.pieces = pieces
        self.buf = ""
        self.line = 1  # the line of buf[0]

    def more(self) -> None:
        piece = next(self.pieces, None)
        if piece is None:
            raise _Truncated
        self.buf += piece

    def next_char(self, pos: int) -> int:
        """The position of the next non-space character at or after pos."""
        while True:
            m = _NOT_SPACE.search(self.buf, pos)
            if m:
                return m.start()
            pos = len(self.buf)
            self.more()

    def item_end(self, start: int) -> int:
        """The end of the value starting at ``start``: just after its closing bracket, or,
        for a scalar, the position of the delimiter that follows it."""
        depth = 0
        pos = start
        container = self.buf[start] in "[{"
        while True:
            m = _STRUCTURE.search(self.buf, pos)
            if m is None:
                pos = len(self.buf)
                self.more()
                continue
            char = m.group()
            if char == '"':
                pos = self._string_end(m.end())
            elif char in "[{":
                depth += 1
                pos = m.end()
            elif char in "]}":
                if depth == 0:
                    return m.start()
                depth -= 1
                pos = m.end()
                if depth == 0 and container:
                    return pos
            else:  # ","
                if depth == 0:
                    return m.start()
                pos = m.end()

    def _string_end(self, pos: int) -> int:
        while True:
            m = _STRING_STOP.search(self.buf, pos)
            if m is None:
                pos = len(self.buf)
                self.more()
                continue
            if m.group() == '"':
                return m.end()
            pos = m.end() + 1  # skip the escaped character
            while pos > len(self.buf):
                self.more()

    def consume(self, end: int) -> None:
        self.line += self.buf.count("\n", 0, end)
        self.buf = self.buf[end:]

    def line_at(self, pos: int) -> int:
        return self.line + self.buf.count("\n", 0, pos)


def json_array_items(
    source: Source, *, file: str, max_bytes: int | None, collector: Collector
) -> Iterator[tuple[int, Any]]:
    """Yield ``(line, item)`` for each item of a top-level JSON array, reading the input a
    chunk at a time; a top-level object counts as a one-item array. An item that is not valid
    JSON is reported (with the line of the error) and skipped; a file whose structure breaks
    (no array, a missing comma, an early end) is reported and reading stops there."""
    scanner = _Scanner(chunks(source, file=file, max_bytes=max_bytes))
    try:
        pos = scanner.next_char(0)
        opening = scanner.buf[pos]
        if opening == "{":
            end = scanner.item_end(pos)
            yield from _decode(scanner, pos, end, file, collector)
            return
        if opening != "[":
            collector.add(
                file,
                scanner.line_at(pos),
                "",
                "expected a JSON array of tasks ('[')",
                scanner.buf[pos : pos + 20],
                BAD_JSON,
            )
            return
        pos = scanner.next_char(pos + 1)
        if scanner.buf[pos] == "]":
            return
        while True:
            end = scanner.item_end(pos)
            yield from _decode(scanner, pos, end, file, collector)
            scanner.consume(end)
            pos = scanner.next_char(0)
            char = scanner.buf[pos]
            if char == "]":
                return
            if char != ",":
                collector.add(
                    file,
                    scanner.line_at(pos),
                    "",
                    "expected ',' or ']' after an item",
                    scanner.buf[pos : pos + 20],
                    BAD_JSON,
                )
                return
            pos = scanner.next_char(pos + 1)
    except _Truncated:
        if not scanner.buf.strip() and scanner.line == 1:
            collector.add(file, None, "", "the file is empty", kind=BAD_JSON)
            return
        collector.add(
            file,
            scanner.line_at(len(scanner.buf)),
            "",
            "the JSON ends before its array is closed",
            kind=BAD_JSON,
        )
    except _NotUtf8 as exc:
        collector.add(file, scanner.line_at(len(scanner.buf)), "", str(exc), kind=BAD_ENCODING)


def _decode(
    scanner: _Scanner, start: int, end: int, file: str, collector: Collector
) -> Iterator[tuple[int, Any]]:
    line = scanner.line_at(start)
    try:
        yield line, json.loads(scanner.buf[start:end])
    except json.JSONDecodeError as exc:
        collector.add(
            file,
            line + exc.lineno - 1,
            "",
            f"bad JSON: {exc.msg} (column {exc.colno})",
            kind=BAD_JSON,
        )


# -- zip files ---------------------------------------------------------------------------


def open_zip(source: Any, *, file: str, max_bytes: int | None) -> zipfile.ZipFile:
    """Open a zip archive (a path or a seekable binary file), refusing it at once when the
    sizes its members declare add up to more than ``max_bytes``."""
    archive = zipfile.ZipFile(source)
    if max_bytes is not None:
        declared = sum(info.file_size for info in archive.infolist())
        if declared > max_bytes:
            archive.close()
            raise InputTooLarge(file, max_bytes)
    return archive


def members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The archive's files in name order, without folders and the litter of archivers
    (``__MACOSX/``, dot files)."""
    return sorted(
        (
            info
            for info in archive.infolist()
            if not info.is_dir()
            and not info.filename.startswith("__MACOSX/")
            and not info.filename.rsplit("/", 1)[-1].startswith(".")
        ),
        key=lambda info: info.filename,
    )


class ZipBudget(_Budget):
    """Counts the bytes actually inflated, in case a member lies about its size."""

    def read(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
        with archive.open(info) as member:
            data = member.read(-1 if self.limit is None else self.limit - self.used + 1)
        self.spend(len(data))
        return data


def decode_member(data: bytes) -> str:
    """A zip member's text: UTF-8, with or without a byte order mark."""
    return data.decode("utf-8-sig")
