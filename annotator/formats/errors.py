"""What a reader reports about its input.

Readers never stop at the first problem: they collect a :class:`FormatError` for each one (the
file, the line, the field, what is wrong, and the offending value) and go on with the next
record, so that an upload's answer lists every problem at once. A record with an error is not
yielded. Pass ``errors=[]`` to a reader to receive the list; without it the reader raises
:class:`FormatErrors` with the whole list once the input is exhausted.

Only an input over the size limit stops a reader at once (:class:`InputTooLarge`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# Kinds, for grouping in an import summary and for tests.
BAD_JSON = "bad_json"
BAD_CSV = "bad_csv"
BAD_ENCODING = "bad_encoding"
BAD_RECORD = "bad_record"  # a record or line of the wrong shape
MISSING_TEXT = "missing_text"
MISSING_FIELD = "missing_field"
BAD_VALUE = "bad_value"
OFFSET_BEYOND_TEXT = "offset_beyond_text"
END_NOT_AFTER_START = "end_not_after_start"
INSIDE_SURROGATE_PAIR = "inside_surrogate_pair"
QUOTE_MISMATCH = "quote_mismatch"
UNKNOWN_LABEL = "unknown_label"
UNMAPPABLE_USER = "unmappable_user"
UNKNOWN_SPAN = "unknown_span"  # a relation, attribute or note pointing to no span
DUPLICATE_ID = "duplicate_id"
DISCONTINUOUS_SPAN = "discontinuous_span"
UNSUPPORTED = "unsupported"

_MAX_VALUE_CHARS = 200


@dataclass(frozen=True, slots=True)
class FormatError:
    """One problem in an input: where (``file``, 1-based ``line``, ``field``) and what.

    ``line`` is the line of the input (the JSON line, the CSV row's first line, the line of
    a .ann file, the line where a JSON array's item starts); ``None`` when the problem belongs
    to a whole file. ``field`` names the place inside the record, e.g. ``label[2]`` or
    ``annotations[0].result[3].value.text``.
    """

    file: str
    line: int | None
    field: str
    message: str
    value: Any = None
    kind: str = ""

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}, line {self.line}"
        if self.field:
            where += f", {self.field}"
        return f"{where}: {self.message}"


class FormatErrors(ValueError):
    """Raised by a reader, after its input is exhausted, when it was given no ``errors`` list
    and found problems."""

    def __init__(self, errors: Iterable[FormatError]) -> None:
        self.errors = list(errors)
        shown = "; ".join(str(e) for e in self.errors[:5])
        more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        super().__init__(f"{len(self.errors)} problem(s): {shown}{more}")


class InputTooLarge(ValueError):
    """The input is over the size limit a reader was given (``max_bytes``)."""

    def __init__(self, file: str, max_bytes: int) -> None:
        self.file = file
        self.max_bytes = max_bytes
        super().__init__(
            f"{file} is larger than the limit of {_human(max_bytes)} ({max_bytes:,} bytes); "
            "split it into smaller files or ask an administrator to raise the limit"
        )


def _human(n: int) -> str:
    for size, unit in ((1024**3, "GB"), (1024**2, "MB"), (1024, "KB")):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > _MAX_VALUE_CHARS:
        return value[:_MAX_VALUE_CHARS] + "…"
    if isinstance(value, (dict, list)):
        text = repr(value)
        if len(text) > _MAX_VALUE_CHARS:
            return text[:_MAX_VALUE_CHARS] + "…"
    return value


class Collector:
    """Gathers a reader's errors; raises them at the end when the caller gave no list."""

    def __init__(self, errors: list[FormatError] | None) -> None:
        self.raise_at_end = errors is None
        self.errors: list[FormatError] = [] if errors is None else errors

    def add(
        self,
        file: str,
        line: int | None,
        field: str,
        message: str,
        value: Any = None,
        kind: str = "",
    ) -> None:
        self.errors.append(FormatError(file, line, field, message, _short(value), kind))

    def finish(self) -> None:
        if self.raise_at_end and self.errors:
            raise FormatErrors(self.errors)
