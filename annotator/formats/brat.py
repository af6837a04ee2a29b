"""brat standoff: a ``.txt`` file and a ``.ann`` file per document, in a zip.

Lines of a ``.ann`` file (fields separated by tabs)::

    T1<TAB>CASUALTY 79 100<TAB>2,359 ISIS terrorists      text-bound: label, offsets, text
    T2<TAB>LOCATION 10 15;20 25<TAB>Deir ez-Zor           discontinuous: fragments by ";"
    R1<TAB>perpetrator Arg1:T1 Arg2:T3                    relation: first argument → second
    A1<TAB>named T4                                       binary attribute (True)
    A2<TAB>outcome T1 killed                              valued attribute
    #1<TAB>AnnotatorNotes T1<TAB>checked twice            note → attribute "note"
    N1<TAB>Reference T3 Wikidata:Q123<TAB>ISIS            normalisation → attribute

Offsets are code points over the ``.txt`` file exactly as stored (so ``\\r\\n`` counts two;
readers convert). The text of a discontinuous span is its fragments joined by one space.

Discontinuous spans. Annotator's spans are continuous. Fragments separated only by
whitespace (brat's own way of marking a span across a line break) are joined into one span
from the first start to the last end. Other discontinuous spans are reported as errors by
default (``discontinuous="error"``); ``discontinuous="split"`` imports each fragment as a
span of its own (ids ``T1``, ``T1.2``, ``T1.3``, ...), with the attributes copied to each
and the relations attached to the first.

Writing: labels, relation types and attribute names have their whitespace replaced by
``_``; a span whose text crosses line breaks is written as fragments split at the breaks;
attribute values are written as text (True as a binary attribute, False as the value
``false``; lists joined by "; "), so reading them back gives strings. JSONL is the lossless
export; brat is for people who work in brat.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Collection, Iterable, Iterator, Mapping
from itertools import pairwise
from typing import Any, Literal

from annotator.formats import _io
from annotator.formats._common import Record
from annotator.formats._zipstream import ZipStream
from annotator.formats.errors import (
    BAD_ENCODING,
    BAD_RECORD,
    DISCONTINUOUS_SPAN,
    MISSING_TEXT,
    QUOTE_MISMATCH,
    UNKNOWN_SPAN,
    UNMAPPABLE_USER,
    UNSUPPORTED,
    Collector,
    FormatError,
)
from annotator.formats.model import ImportedDocument, Relation, Span
from annotator.formats.offsets import fix_newlines

Discontinuous = Literal["error", "split"]
DISCONTINUOUS_SEPARATOR = " "
NOTE_ATTRIBUTE = "note"
NORMALIZATION_ATTRIBUTE = "normalization"
_FRAGMENT = re.compile(r"^(\d+) (\d+)$")
_WHITESPACE = re.compile(r"\s+")


# -- reading -------------------------------------------------------------------------------


def read_brat_zip(
    source: Any,
    *,
    file: str = "<brat zip>",
    coder: str | None = None,
    labels: Collection[str] | None = None,
    user_map: Mapping[str, str] | None = None,
    discontinuous: Discontinuous = "error",
    max_bytes: int | None = None,
    errors: list[FormatError] | None = None,
) -> Iterator[ImportedDocument]:
    """Read the ``.txt``/``.ann`` pairs of a zip, one pair at a time. A ``.txt`` without
    ``.ann`` is a document without annotations; an ``.ann`` without ``.txt`` is an error.
    brat files name no annotator: the spans are ``coder``'s (mapped through ``user_map``;
    None makes them gold). Other members (``annotation.conf``, ...) are ignored."""
    collector = Collector(errors)
    if coder is not None and user_map is not None:
        if coder not in user_map:
            collector.add(
                file,
                None,
                "coder",
                f"user {coder!r} is not mapped to a member of the project",
                coder,
                UNMAPPABLE_USER,
            )
            collector.finish()
            return
        coder = user_map[coder]
    with _io.open_zip(source, file=file, max_bytes=max_bytes) as archive:
        budget = _io.ZipBudget(file, max_bytes)
        pairs: dict[str, dict[str, zipfile.ZipInfo]] = {}
        for info in _io.members(archive):
            suffix = info.filename[-4:].lower()
            if suffix in (".txt", ".ann"):
                pairs.setdefault(info.filename[:-4], {})[suffix] = info
        for stem in sorted(pairs):
            txt, ann = pairs[stem].get(".txt"), pairs[stem].get(".ann")
            if txt is None:
                collector.add(
                    f"{file}:{stem}.ann",
                    None,
                    "",
                    f"no {stem}.txt beside the .ann file",
                    kind=MISSING_TEXT,
                )
                continue
            try:
                text = _io.decode_member(budget.read(archive, txt))
                ann_text = "" if ann is None else _io.decode_member(budget.read(archive, ann))
            except UnicodeDecodeError as exc:
                collector.add(
                    f"{file}:{stem}", None, "", f"not UTF-8 text ({exc.reason})", kind=BAD_ENCODING
                )
                continue
            item = parse_brat(
                stem,
                text,
                ann_text.split("\n"),  # not splitlines(): a quote may hold U+2028
                file=f"{file}:{stem}.ann",
                coder=coder,
                labels=labels,
                discontinuous=discontinuous,
                collector=collector,
            )
            if item is not None:
                yield item
    collector.finish()


def parse_brat(
    external_id: str,
    text: str,
    ann_lines: Iterable[str],
    *,
    file: str = "<ann>",
    coder: str | None = None,
    labels: Collection[str] | None = None,
    user_map: Mapping[str, str] | None = None,
    discontinuous: Discontinuous = "error",
    collector: Collector | None = None,
) -> ImportedDocument | None:
    """One document from its text and the lines of its ``.ann`` file; None when it has
    errors (they go to ``collector``, or are raised as FormatErrors without one)."""
    own = collector is None
    collector = collector or Collector(None)
    doc = Record(collector, file, None, labels=labels, user_map=user_map)
    if not doc.text(text):
        doc.failed = True
    document = doc.document(external_id, {"title": posixpath.basename(external_id)}, {})
    mapped = doc.coder("coder", coder) if coder is not None else None
    spans: dict[str, list[Span]] = {}  # T id → its spans (several when split)
    known: set[str] = set()
    relations: list[tuple[int, Relation]] = []
    pending: list[tuple[int, str, str, str]] = []  # attribute-like lines, after the T lines
    for number, raw in enumerate(ann_lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        rec = Record(collector, file, number, labels=labels)
        rec.original, rec.fix = doc.original, doc.fix
        ann_id, _, rest = line.partition("\t")
        kind = ann_id[:1]
        if kind == "T":
            known.add(ann_id)
            made = _textbound(ann_id, rest, rec, mapped, discontinuous)
            if made:
                spans[ann_id] = made
        elif kind == "R":
            relation = _relation(ann_id, rest, rec, mapped)
            if relation is not None:
                relations.append((number, relation))
        elif kind in ("A", "M", "#", "N"):
            pending.append((number, ann_id, kind, rest))
        else:
            rec.error(
                "",
                f"{ann_id}: annotations of this kind (events, equivalences, ...) are not imported",
                line,
                UNSUPPORTED,
            )
        doc.failed |= rec.failed
    for number, ann_id, kind, rest in pending:
        rec = Record(collector, file, number)
        _attach(ann_id, kind, rest, rec, spans, known)
        doc.failed |= rec.failed
    for number, relation in relations:
        for end in ("source_id", "target_id"):
            target = getattr(relation, end)
            if target not in known:
                collector.add(
                    file,
                    number,
                    relation.id,
                    f"relation {relation.id} points to {target}, which the file does not have",
                    target,
                    UNKNOWN_SPAN,
                )
                doc.failed = True
    item = None
    if not doc.failed:
        all_spans = sorted(
            (s for group in spans.values() for s in group), key=lambda s: (s.start, s.end, s.id)
        )
        item = ImportedDocument(document, all_spans, [r for _, r in relations])
    if own:
        collector.finish()
    return item


def _textbound(
    ann_id: str, rest: str, rec: Record, coder: str | None, discontinuous: Discontinuous
) -> list[Span]:
    head, tab, raw_quote = rest.partition("\t")
    label, _, ranges = head.partition(" ")
    fragments = []
    for part in ranges.split(";"):
        m = _FRAGMENT.match(part.strip())
        if not m:
            rec.error(
                ann_id,
                f"{ann_id}: expected 'LABEL START END' (fragments separated by "
                "';'), then a tab and the text",
                rest,
                BAD_RECORD,
            )
            return []
        fragments.append((int(m.group(1)), int(m.group(2))))
    quote: str | None = raw_quote if tab else None
    text = rec.original
    if len(fragments) > 1:
        if all(0 <= s < e <= len(text) for s, e in fragments):
            joined = DISCONTINUOUS_SEPARATOR.join(text[s:e] for s, e in fragments)
            if quote is not None and fix_newlines(quote).text != fix_newlines(joined).text:
                rec.error(
                    f"{ann_id}.text",
                    f"span {ann_id}: quote {quote!r} does not match "
                    f"the text of its fragments, which is {joined!r}",
                    quote,
                    QUOTE_MISMATCH,
                )
                return []
            ordered = sorted(fragments)
            if all(not text[a:b].strip() for (_, a), (b, _) in pairwise(ordered)):
                fragments = [(ordered[0][0], max(e for _, e in ordered))]
        quote = None  # checked above; bad fragments are reported by rec.span below
        if len(fragments) > 1 and discontinuous == "error":
            rec.error(
                ann_id,
                f"span {ann_id}: discontinuous ({ranges}); Annotator's spans are "
                "continuous: import with discontinuous='split' to make one span per "
                "fragment",
                ranges,
                DISCONTINUOUS_SPAN,
            )
            return []
    made = []
    for index, (start, end) in enumerate(fragments):
        span_id = ann_id if index == 0 else f"{ann_id}.{index + 1}"
        span = rec.span(
            ann_id, id=span_id, start=start, end=end, label=label, quote=quote, coder=coder
        )
        if span is not None:
            made.append(span)
    return made if len(made) == len(fragments) else []


def _relation(ann_id: str, rest: str, rec: Record, coder: str | None) -> Relation | None:
    parts = rest.split("\t", 1)[0].split()
    if len(parts) != 3 or not all(":" in p for p in parts[1:]):
        rec.error(ann_id, f"{ann_id}: expected 'TYPE Arg1:T1 Arg2:T2'", rest, BAD_RECORD)
        return None
    kind, first, second = parts
    return Relation(ann_id, kind, first.split(":", 1)[1], second.split(":", 1)[1], coder)


def _attach(
    ann_id: str,
    kind: str,
    rest: str,
    rec: Record,
    spans: dict[str, list[Span]],
    known: set[str],
) -> None:
    head, _, tail = rest.partition("\t")
    parts = head.split(" ", 2)
    if len(parts) < 2:
        rec.error(ann_id, f"{ann_id}: expected a type and a target", rest, BAD_RECORD)
        return
    name, target = parts[0], parts[1]
    if target not in known:
        what = (
            "a relation or event"
            if target[:1] in ("R", "E")
            else "an annotation the file does not have"
        )
        rec.error(
            ann_id,
            f"{ann_id}: points to {target}, {what}; only text-bound (T) "
            "annotations can carry attributes and notes",
            target,
            UNKNOWN_SPAN,
        )
        return
    if kind == "#":
        key, value = NOTE_ATTRIBUTE, tail
    elif kind == "N":
        key, value = NORMALIZATION_ATTRIBUTE, parts[2] if len(parts) > 2 else ""
    else:
        key, value = name, (parts[2] if len(parts) > 2 else True)
    for span in spans.get(target, []):
        previous = span.attributes.get(key)
        if kind == "#" and isinstance(previous, str):
            value = f"{previous}\n{value}"
        span.attributes[key] = value


# -- writing -------------------------------------------------------------------------------


def _token(name: str) -> str:
    return _WHITESPACE.sub("_", name.strip()) or "_"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "; ".join(_value(v) for v in value)
    return _WHITESPACE.sub(" ", str(value)).strip()


def _fragments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The span cut at line breaks (brat lines cannot hold them), without the breaks."""
    fragments = []
    position = start
    for piece in text[start:end].split("\n"):
        piece_start = position
        position += len(piece) + 1
        if piece:
            fragments.append((piece_start, piece_start + len(piece)))
    return fragments or [(start, end)]


def brat_ann_lines(item: ImportedDocument) -> Iterator[str]:
    """The lines of one document's ``.ann`` file (each ending with a newline). Spans become
    T1, T2, ... in the order given; relations R1, ...; attributes A1, ...; notes #1, ..."""
    text = item.document.text
    t_ids: dict[str, str] = {}
    attributes: list[tuple[str, str, Any]] = []
    notes: list[tuple[str, str]] = []
    for number, span in enumerate(item.spans, start=1):
        t_id = f"T{number}"
        t_ids[span.id] = t_id
        fragments = _fragments(text, span.start, span.end)
        ranges = ";".join(f"{s} {e}" for s, e in fragments)
        quote = DISCONTINUOUS_SEPARATOR.join(text[s:e] for s, e in fragments)
        yield f"{t_id}\t{_token(span.label)} {ranges}\t{quote}\n"
        for name, value in span.attributes.items():
            if name == NOTE_ATTRIBUTE and isinstance(value, str):
                notes.append((t_id, value))
            elif value is not None:
                attributes.append((t_id, name, value))
    for number, relation in enumerate(item.relations, start=1):
        source, target = t_ids.get(relation.source_id), t_ids.get(relation.target_id)
        if source and target:
            yield f"R{number}\t{_token(relation.type)} Arg1:{source} Arg2:{target}\n"
    for number, (t_id, name, value) in enumerate(attributes, start=1):
        if value is True:
            yield f"A{number}\t{_token(name)} {t_id}\n"
        else:
            yield f"A{number}\t{_token(name)} {t_id} {_value(value)}\n"
    for number, (t_id, note) in enumerate(notes, start=1):
        yield f"#{number}\tAnnotatorNotes {t_id}\t{_value(note)}\n"


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _member_name(external_id: str, number: int, used: set[int]) -> str:
    """A file-safe name, unique in the archive. Only the names' hashes are remembered (a
    colliding hash just earns a suffix), to keep memory small for large exports."""
    base = _SAFE_NAME.sub("_", external_id).strip("._") or f"document-{number}"
    name, n = base, 1
    while hash(name) in used:
        n += 1
        name = f"{base}-{n}"
    used.add(hash(name))
    return name


def write_brat_zip(
    items: Iterable[ImportedDocument], *, annotation_conf: bool = True
) -> Iterator[bytes]:
    """Yield a zip archive, as bytes chunks, with ``<id>.txt`` and ``<id>.ann`` per document
    (ids made file-safe and unique) and, with ``annotation_conf``, an ``annotation.conf``
    declaring the labels, relation types and attributes used. Memory grows only by what
    the zip's central directory (written at the end) and the unique names need: about 200
    bytes a document."""
    archive = ZipStream()
    used: set[int] = set()
    conf = _Conf()
    for number, item in enumerate(items, start=1):
        name = _member_name(item.document.external_id, number, used)
        ann = "".join(brat_ann_lines(item))
        yield archive.member(name + ".txt", item.document.text.encode("utf-8")) + archive.member(
            name + ".ann", ann.encode("utf-8")
        )
        if annotation_conf:
            conf.add(item)
    if annotation_conf:
        yield archive.member("annotation.conf", conf.text().encode("utf-8"))
    yield archive.finish()


_CONF_VALUE = re.compile(r"^[^\s,|]+$")
_MAX_CONF_VALUES = 100


class _Conf:
    """What annotation.conf must declare for brat to show the collection."""

    def __init__(self) -> None:
        self.entities: set[str] = set()
        self.relations: set[str] = set()
        self.attributes: dict[str, set[str]] = {}

    def add(self, item: ImportedDocument) -> None:
        self.entities.update(_token(s.label) for s in item.spans)
        self.relations.update(_token(r.type) for r in item.relations)
        for span in item.spans:
            for name, value in span.attributes.items():
                if name == NOTE_ATTRIBUTE or value is None:
                    continue
                values = self.attributes.setdefault(_token(name), set())
                if value is not True and len(values) <= _MAX_CONF_VALUES:
                    values.add(_value(value))

    def text(self) -> str:
        lines = ["[entities]", *sorted(self.entities), "", "[relations]"]
        lines += [f"{r}\tArg1:<ENTITY>, Arg2:<ENTITY>" for r in sorted(self.relations)]
        lines += ["", "[events]", "", "[attributes]"]
        for name, values in sorted(self.attributes.items()):
            listed = sorted(values)
            if listed and len(listed) <= _MAX_CONF_VALUES and all(map(_CONF_VALUE.match, listed)):
                lines.append(f"{name}\tArg:<ENTITY>, Value:{'|'.join(listed)}")
            else:  # binary, or free text that a value list cannot hold
                lines.append(f"{name}\tArg:<ENTITY>")
        return "\n".join(lines) + "\n"
