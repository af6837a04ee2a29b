"""Changing a project's codebook: labels, their attributes, relation types and list entries.

Every change bumps `project.codebook_version` (get_codebook() caches one snapshot per version,
so no client keeps a stale codebook) and records an AuditEvent "codebook.<what>.<verb>".

The codebook may grow, be renamed and be switched off, but a change that would invalidate
coded work is refused with a message saying how much it would touch. Usage counts include
deleted spans and links: undo can bring them back, and they still point at the codebook.

Message constants are part of the contract: the codebook page shows them, tests assert on them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, ProtectedError, Q, QuerySet

from annotator.codebook import AttributeSpec, LabelSpec, clean_attributes
from annotator.guidelines import digest as guidelines_digest
from annotator.models import (
    Annotation,
    AttributeDefinition,
    AttributeKind,
    AuditEvent,
    Label,
    ListEntry,
    Project,
    Relation,
    RelationType,
)

REQUIRED = "{field} is required"
NOT_TEXT = "{field} must be text, got {value!r}"
TOO_LONG = "{field} is {length} characters long; the longest allowed is {limit}"
BAD_COLOUR = "colour {value!r} is not a colour of the form #rrggbb (e.g. #ffb74d)"
BAD_HOTKEY = "hotkey {value!r} must be a single character, or empty for none"
RESERVED_HOTKEY = (
    "hotkey {value!r} is reserved by the coding screen (n / p move between spans, "
    "? opens the guidelines)"
)
LABEL_NAME_TAKEN = "name {value!r} is already used by label {other} in this project"
LABEL_HOTKEY_TAKEN = "hotkey {value!r} is already used by label {other}"
LABEL_IN_USE = "{label} is used by {annotations}; switch it off instead"
LABEL_HAS_RELATION_TYPES = (
    "{label} is linked by relation type(s) {types}; delete them or change their labels first"
)
BAD_NAME = "{field} {value!r} must start with a letter and hold only letters, digits and _"
ATTRIBUTE_NAME_TAKEN = "name {value!r} is already used by another attribute of {label}"
UNKNOWN_KIND = "kind {value!r} is not one of: {known}"
VALUES_REQUIRED = "values: list at least one value for a {kind} attribute"
BAD_VALUE = "values: {value!r} is not a value (use text or a whole number)"
BAD_DEFAULT = "default {value!r} does not fit this attribute: {reason}"
NOT_A_BOOLEAN = "{field} must be yes or no, got {value!r}"
ATTRIBUTE_IN_USE = "{label}.{name} holds values on {annotations}; deleting it would lose them"
ATTRIBUTE_RENAME_IN_USE = (
    "{label}.{name} holds values on {annotations} under that name; renaming it to {value!r} "
    "would orphan them (add a new attribute instead)"
)
ATTRIBUTE_KIND_IN_USE = (
    "{label}.{name} holds values on {annotations}; its kind cannot change from {old} to {new}"
)
VALUE_IN_USE = "value {value!r} of {label}.{name} is used by {annotations}; keep it in the list"
REFERENCE_OUTSIDE_LIST = (
    "{label}.{name} holds names outside the {list_name!r} list on {annotations} "
    "(e.g. {examples}); add them to the list or keep allowing other names"
)
NOT_A_PROJECT_LABEL = "{field} {value!r} is not a label of this project"
BAD_COUNT = "{field} must be a whole number of 0 or more, got {value!r}"
MAX_BELOW_MIN = "at most ({max}) must not be less than at least ({min})"
MAX_ZERO = "at most must be 1 or more, or empty for any number"
RELATION_NAME_TAKEN = "name {value!r} is already used by relation type {other}"
RELATION_HOTKEY_TAKEN = "hotkey {value!r} is already used by relation type {other}"
RELATION_TYPE_IN_USE = "{name} is used by {links}; it cannot be deleted"
RELATION_ENDS_IN_USE = (
    "{name} is used by {links} from {from_label} to {to_label}; changing its labels would "
    "break them (add a new relation type instead)"
)
RELATION_MAX_EXCEEDED = (
    "{spans} already have more than {max} {name} link(s); at most cannot go below {highest}"
)
ENTRY_NAME_TAKEN = "the {list_name!r} list already has an entry {value!r}"
ENTRY_IN_USE = (
    "{name!r} is the value of {attributes} on {annotations}, which accept only names from "
    "the {list_name!r} list; allow other names there first"
)

# The coding screen moves between spans with n / p and opens the guidelines with ? (see its
# toolbar hint).
RESERVED_HOTKEYS = frozenset({"n", "p", "?"})
DEFAULT_COLOUR = "#ffd54f"
ENUM_KINDS = frozenset({AttributeKind.ENUM, AttributeKind.MULTI_ENUM})
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
INT_RE = re.compile(r"^-?\d+$")


class _Keep:
    """Marks an update argument left unchanged where None is a meaningful value."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()


# --- Labels -------------------------------------------------------------------------------


@transaction.atomic
def label_create(
    *,
    project: Project,
    user,
    name: str,
    colour: str = DEFAULT_COLOUR,
    hotkey: str = "",
    description: str = "",
    examples: str = "",
    enabled: bool = True,
) -> Label:
    label = Label(project=project, order=_next_order(project.labels.all()))
    changes = {
        "name": name,
        "colour": colour,
        "hotkey": hotkey,
        "description": description,
        "examples": examples,
        "enabled": enabled,
    }
    _apply(label, _clean_label(label, changes))
    _save(label, recheck=lambda: _clean_label(label, changes))
    _record(project, user, "label.create", label, before=None, after=_label_snapshot(label))
    return label


@transaction.atomic
def label_update(
    *,
    label: Label,
    user,
    name: str | None = None,
    colour: str | None = None,
    hotkey: str | None = None,
    description: str | None = None,
    examples: str | None = None,
    enabled: bool | None = None,
) -> Label:
    """Change the given fields (None leaves one as it is). Renaming and switching off are
    always allowed: spans point at the label's id, and switched-off labels keep their spans."""
    _lock(label)
    given = {
        "name": name,
        "colour": colour,
        "hotkey": hotkey,
        "description": description,
        "examples": examples,
        "enabled": enabled,
    }
    changes = {field: value for field, value in given.items() if value is not None}
    before = _label_snapshot(label)
    _apply(label, _clean_label(label, changes))
    after = _label_snapshot(label)
    if after != before:
        _save(label, recheck=lambda: _clean_label(label, changes))
        _record(label.project, user, "label.update", label, before=before, after=after)
    return label


@transaction.atomic
def label_delete(*, label: Label, user) -> None:
    """Delete a label no span ever used (not even a deleted one) and no relation type names."""
    _lock(label)
    _refuse_label_in_use(label)
    types = list(
        RelationType.objects.filter(Q(from_label=label) | Q(to_label=label)).values_list(
            "name", flat=True
        )
    )
    if types:
        raise ValidationError(
            {
                NON_FIELD_ERRORS: [
                    LABEL_HAS_RELATION_TYPES.format(label=label, types=", ".join(types))
                ]
            }
        )
    project, label_id = label.project, label.pk
    before = {
        **_label_snapshot(label),
        "attributes": [_attribute_snapshot(a) for a in label.attributes.all()],
    }
    try:
        with transaction.atomic():
            label.delete()
    except (ProtectedError, IntegrityError):
        # A coder used the label between the check and the delete.
        _refuse_label_in_use(label)
        raise
    label.pk = label_id
    _record(project, user, "label.delete", label, before=before, after=None)


def _refuse_label_in_use(label: Label) -> None:
    count, usage = _usage(Annotation.objects.filter(label_id=label.pk), "annotation")
    if count:
        raise ValidationError(
            {NON_FIELD_ERRORS: [LABEL_IN_USE.format(label=label, annotations=usage)]}
        )


def _clean_label(label: Label, changes: dict[str, Any]) -> dict[str, Any]:
    others = Label.objects.filter(project_id=label.project_id).exclude(pk=label.pk)
    cleaners = {
        "name": lambda v: _unique(
            _text("name", v, limit=50, required=True), others, "name", LABEL_NAME_TAKEN
        ),
        "colour": _colour,
        "hotkey": lambda v: _unique_hotkey(_hotkey(v, reserved=True), others, LABEL_HOTKEY_TAKEN),
        "description": lambda v: _text("description", v, limit=5000),
        "examples": lambda v: _text("examples", v, limit=5000),
        "enabled": lambda v: _boolean("enabled", v),
    }
    return _clean(cleaners, changes)


def _label_snapshot(label: Label) -> dict:
    return {
        "name": label.name,
        "colour": label.colour,
        "hotkey": label.hotkey,
        "description": label.description,
        "examples": label.examples,
        "enabled": label.enabled,
    }


# --- Attributes ---------------------------------------------------------------------------


@transaction.atomic
def attribute_create(
    *,
    label: Label,
    user,
    name: str,
    kind: str,
    values: Iterable[Any] | str = (),
    list_name: str = "",
    allow_other: bool = True,
    default: Any = None,
    help_text: str = "",
) -> AttributeDefinition:
    attribute = AttributeDefinition(label=label, order=_next_order(label.attributes.all()))
    changes = {
        "name": name,
        "kind": kind,
        "values": values,
        "list_name": list_name,
        "allow_other": allow_other,
        "default": default,
        "help_text": help_text,
    }
    _apply(attribute, _clean_attribute(attribute, changes))
    _save(attribute, recheck=lambda: _clean_attribute(attribute, changes))
    _record(
        label.project,
        user,
        "attribute.create",
        attribute,
        before=None,
        after=_attribute_snapshot(attribute),
    )
    return attribute


@transaction.atomic
def attribute_update(
    *,
    attribute: AttributeDefinition,
    user,
    name: str | None = None,
    kind: str | None = None,
    values: Iterable[Any] | str | None = None,
    list_name: str | None = None,
    allow_other: bool | None = None,
    default: Any = KEEP,
    help_text: str | None = None,
) -> AttributeDefinition:
    """Change the given fields (None, or KEEP for `default`, leaves one as it is).

    Refused while spans hold values the change would orphan or invalidate: renaming the
    attribute or changing its kind, dropping an enum value in use, or narrowing a reference
    to its list while spans hold other names.
    """
    _lock(attribute)
    given = {
        "name": name,
        "kind": kind,
        "values": values,
        "list_name": list_name,
        "allow_other": allow_other,
        "help_text": help_text,
    }
    changes = {field: value for field, value in given.items() if value is not None}
    if default is not KEEP:
        changes["default"] = default
    before = _attribute_snapshot(attribute)
    cleaned = _clean_attribute(attribute, changes)
    _refuse_invalidating_attribute_change(attribute, cleaned)
    _apply(attribute, cleaned)
    after = _attribute_snapshot(attribute)
    if after != before:
        _save(attribute, recheck=lambda: _clean_attribute(attribute, changes))
        _record(
            attribute.label.project,
            user,
            "attribute.update",
            attribute,
            before=before,
            after=after,
        )
    return attribute


@transaction.atomic
def attribute_delete(*, attribute: AttributeDefinition, user) -> None:
    _lock(attribute)
    stored = _stored_values(attribute)
    if stored:
        raise ValidationError(
            {
                NON_FIELD_ERRORS: [
                    ATTRIBUTE_IN_USE.format(
                        label=attribute.label, name=attribute.name, annotations=_describe(stored)
                    )
                ]
            }
        )
    before, attribute_id = _attribute_snapshot(attribute), attribute.pk
    attribute.delete()
    attribute.pk = attribute_id
    _record(attribute.label.project, user, "attribute.delete", attribute, before=before, after=None)


def _clean_attribute(attribute: AttributeDefinition, changes: dict[str, Any]) -> dict[str, Any]:
    """Validate `changes` against the attribute as it would be after them; return the cleaned
    fields, with the ones a kind does not use reset (values, list_name, allow_other)."""
    label = attribute.label
    others = AttributeDefinition.objects.filter(label_id=attribute.label_id).exclude(
        pk=attribute.pk
    )
    kinds = ", ".join(AttributeKind.values)
    cleaners = {
        "name": lambda v: _unique(
            _identifier("name", v), others, "name", ATTRIBUTE_NAME_TAKEN, label=label
        ),
        "kind": lambda v: _choice(
            v, AttributeKind.values, UNKNOWN_KIND.format(value=v, known=kinds)
        ),
        "help_text": lambda v: _text("help text", v, limit=300),
        "allow_other": lambda v: _boolean("allow other", v),
    }
    errors: dict[str, list[str]] = {}
    try:
        cleaned = _clean(cleaners, {f: v for f, v in changes.items() if f in cleaners})
    except ValidationError as error:
        errors, cleaned = error.message_dict, {}
    kind = cleaned.get("kind", attribute.kind)
    if "kind" in errors:
        raise ValidationError(errors)  # nothing else can be judged without a kind
    new_kind = kind != attribute.kind
    if kind in ENUM_KINDS:
        if new_kind or "values" in changes:
            try:
                cleaned["values"] = _enum_values(
                    changes.get("values", attribute.values), old=attribute.values or []
                )
                if not cleaned["values"]:
                    raise ValidationError(VALUES_REQUIRED.format(kind=kind))
            except ValidationError as error:
                errors["values"] = error.messages
    elif attribute.values or "values" in changes:
        cleaned["values"] = []
    if kind == AttributeKind.REFERENCE:
        if new_kind or "list_name" in changes:
            try:
                cleaned["list_name"] = _identifier(
                    "list name", changes.get("list_name", attribute.list_name)
                )
            except ValidationError as error:
                errors["list_name"] = error.messages
    elif attribute.list_name or "list_name" in changes or "allow_other" in changes:
        cleaned["list_name"], cleaned["allow_other"] = "", True
    touches_default = {"default", "kind", "values", "list_name", "allow_other"} & changes.keys()
    if touches_default and not {"values", "list_name", "allow_other"} & errors.keys():
        try:
            cleaned["default"] = _clean_default(
                changes.get("default", attribute.default),
                kind=kind,
                values=cleaned.get("values", attribute.values or ()),
                list_name=cleaned.get("list_name", attribute.list_name),
                allow_other=cleaned.get("allow_other", attribute.allow_other),
                project_id=label.project_id,
            )
        except ValidationError as error:
            errors["default"] = error.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


def _refuse_invalidating_attribute_change(
    attribute: AttributeDefinition, cleaned: dict[str, Any]
) -> None:
    stored = _stored_values(attribute)
    if not stored:
        return
    label, name = attribute.label, attribute.name
    new_name = cleaned.get("name", name)
    new_kind = cleaned.get("kind", attribute.kind)
    if new_name != name:
        raise ValidationError(
            {
                "name": [
                    ATTRIBUTE_RENAME_IN_USE.format(
                        label=label, name=name, annotations=_describe(stored), value=new_name
                    )
                ]
            }
        )
    if new_kind != attribute.kind:
        raise ValidationError(
            {
                "kind": [
                    ATTRIBUTE_KIND_IN_USE.format(
                        label=label,
                        name=name,
                        annotations=_describe(stored),
                        old=attribute.kind,
                        new=new_kind,
                    )
                ]
            }
        )
    if new_kind in ENUM_KINDS:
        kept = {str(v) for v in cleaned.get("values", attribute.values)}
        messages = []
        for value in attribute.values or []:
            if str(value) in kept:
                continue
            using = [(v, d) for v, d in stored if _holds(v, value)]
            if using:
                messages.append(
                    VALUE_IN_USE.format(
                        value=value, label=label, name=name, annotations=_describe(using)
                    )
                )
        if messages:
            raise ValidationError({"values": messages})
    if new_kind == AttributeKind.REFERENCE and not cleaned.get(
        "allow_other", attribute.allow_other
    ):
        list_name = cleaned.get("list_name", attribute.list_name)
        names = set(
            ListEntry.objects.filter(project_id=label.project_id, list_name=list_name).values_list(
                "name", flat=True
            )
        )
        outside = [(v, d) for v, d in stored if v not in names]
        if outside:
            examples = ", ".join(repr(v) for v in dict.fromkeys(v for v, _ in outside[:3]))
            raise ValidationError(
                {
                    "allow_other": [
                        REFERENCE_OUTSIDE_LIST.format(
                            label=label,
                            name=name,
                            list_name=list_name,
                            annotations=_describe(outside),
                            examples=examples,
                        )
                    ]
                }
            )


def _stored_values(attribute: AttributeDefinition) -> list[tuple[Any, bool]]:
    """(value, span is deleted) for every span of the label holding a value for the attribute."""
    rows = Annotation.objects.filter(
        label_id=attribute.label_id, attributes__has_key=attribute.name
    ).values_list("attributes", "deleted_at")
    return [(attrs.get(attribute.name), deleted is not None) for attrs, deleted in rows]


def _holds(stored: Any, value: Any) -> bool:
    if isinstance(stored, list):
        return any(_holds(item, value) for item in stored)
    return stored == value or str(stored) == str(value)


def _enum_values(raw: Any, *, old: list) -> list:
    """The value list, deduplicated. Values keep their stored type (geo_precision holds
    numbers), and a list of whole numbers is stored as numbers, so spans coded through the
    API and through forms agree."""
    if isinstance(raw, str):
        raw = raw.splitlines()
    if not isinstance(raw, list | tuple):
        raise ValidationError(BAD_VALUE.format(value=raw))
    items: dict[str, Any] = {}
    for item in raw:
        if isinstance(item, str):
            item = item.strip()
            if not item:
                continue
            if len(item) > 100:
                raise ValidationError(TOO_LONG.format(field="a value", length=len(item), limit=100))
        elif isinstance(item, bool) or not isinstance(item, int):
            raise ValidationError(BAD_VALUE.format(value=item))
        items.setdefault(str(item), item)
    if items and all(isinstance(v, int) or INT_RE.match(v) for v in items.values()):
        return [int(v) for v in items.values()]
    by_text = {str(v): v for v in old}
    return [by_text.get(text, value) for text, value in items.items()]


def _clean_default(
    value: Any, *, kind: str, values: Iterable, list_name: str, allow_other: bool, project_id: int
) -> Any:
    if value is None or value == "" or value == []:
        return None
    if kind == AttributeKind.MULTI_ENUM and isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    list_values: tuple[str, ...] = ()
    if kind == AttributeKind.REFERENCE and not allow_other:
        list_values = tuple(
            ListEntry.objects.filter(project_id=project_id, list_name=list_name).values_list(
                "name", flat=True
            )
        )
    spec = AttributeSpec(
        name="default",
        kind=kind,
        values=tuple(values),
        list_name=list_name,
        allow_other=allow_other,
        list_values=list_values,
    )
    probe = LabelSpec(
        id=0,
        name="",
        colour="",
        hotkey="",
        enabled=True,
        description="",
        examples="",
        attributes=(spec,),
    )
    try:
        return clean_attributes(probe, {"default": value}).get("default")
    except ValidationError as error:
        reasons = [m.removeprefix("default: ") for m in error.message_dict["attributes"]]
        raise ValidationError(BAD_DEFAULT.format(value=value, reason="; ".join(reasons))) from None


def _attribute_snapshot(attribute: AttributeDefinition) -> dict:
    return {
        "label_id": attribute.label_id,
        "name": attribute.name,
        "kind": attribute.kind,
        "values": list(attribute.values or []),
        "list_name": attribute.list_name,
        "allow_other": attribute.allow_other,
        "default": attribute.default,
        "help_text": attribute.help_text,
    }


# --- Relation types -----------------------------------------------------------------------


@transaction.atomic
def relation_type_create(
    *,
    project: Project,
    user,
    name: str,
    from_label: Label | int | str,
    to_label: Label | int | str,
    min_per_source: Any = 0,
    max_per_source: Any = None,
    hotkey: str = "",
    description: str = "",
) -> RelationType:
    """A new relation type. Labels may be given as Label, id or name; None for max = any."""
    relation_type = RelationType(project=project, order=_next_order(project.relation_types.all()))
    changes = {
        "name": name,
        "from_label": from_label,
        "to_label": to_label,
        "min_per_source": min_per_source,
        "max_per_source": max_per_source,
        "hotkey": hotkey,
        "description": description,
    }
    _apply(relation_type, _clean_relation_type(relation_type, changes))
    _save(relation_type, recheck=lambda: _clean_relation_type(relation_type, changes))
    _record(
        project,
        user,
        "relation_type.create",
        relation_type,
        before=None,
        after=_relation_type_snapshot(relation_type),
    )
    return relation_type


@transaction.atomic
def relation_type_update(
    *,
    relation_type: RelationType,
    user,
    name: str | None = None,
    from_label: Label | int | str | None = None,
    to_label: Label | int | str | None = None,
    min_per_source: Any = None,
    max_per_source: Any = KEEP,
    hotkey: str | None = None,
    description: str | None = None,
) -> RelationType:
    """Change the given fields (None, or KEEP for `max_per_source`, leaves one as it is).

    Its labels cannot change once links of the type exist, and `at most` cannot drop below
    the number of links a span already has.
    """
    _lock(relation_type)
    given = {
        "name": name,
        "from_label": from_label,
        "to_label": to_label,
        "min_per_source": min_per_source,
        "hotkey": hotkey,
        "description": description,
    }
    changes = {field: value for field, value in given.items() if value is not None}
    if max_per_source is not KEEP:
        changes["max_per_source"] = max_per_source
    before = _relation_type_snapshot(relation_type)
    cleaned = _clean_relation_type(relation_type, changes)
    _refuse_invalidating_relation_change(relation_type, cleaned)
    _apply(relation_type, cleaned)
    after = _relation_type_snapshot(relation_type)
    if after != before:
        _save(relation_type, recheck=lambda: _clean_relation_type(relation_type, changes))
        _record(
            relation_type.project,
            user,
            "relation_type.update",
            relation_type,
            before=before,
            after=after,
        )
    return relation_type


@transaction.atomic
def relation_type_delete(*, relation_type: RelationType, user) -> None:
    _lock(relation_type)
    _refuse_relation_type_in_use(relation_type)
    before, type_id = _relation_type_snapshot(relation_type), relation_type.pk
    try:
        with transaction.atomic():
            relation_type.delete()
    except (ProtectedError, IntegrityError):
        _refuse_relation_type_in_use(relation_type)
        raise
    relation_type.pk = type_id
    _record(
        relation_type.project,
        user,
        "relation_type.delete",
        relation_type,
        before=before,
        after=None,
    )


def _refuse_relation_type_in_use(relation_type: RelationType) -> None:
    count, usage = _usage(Relation.objects.filter(type_id=relation_type.pk), "link")
    if count:
        raise ValidationError(
            {NON_FIELD_ERRORS: [RELATION_TYPE_IN_USE.format(name=relation_type.name, links=usage)]}
        )


def _clean_relation_type(relation_type: RelationType, changes: dict[str, Any]) -> dict[str, Any]:
    project_id = relation_type.project_id
    others = RelationType.objects.filter(project_id=project_id).exclude(pk=relation_type.pk)
    cleaners = {
        "name": lambda v: _unique(
            _text("name", v, limit=50, required=True), others, "name", RELATION_NAME_TAKEN
        ),
        "from_label": lambda v: _project_label(project_id, "from", v),
        "to_label": lambda v: _project_label(project_id, "to", v),
        "min_per_source": lambda v: 0 if v == "" else _count("at least", v),
        "max_per_source": lambda v: None if v is None or v == "" else _count("at most", v),
        "hotkey": lambda v: _unique_hotkey(_hotkey(v), others, RELATION_HOTKEY_TAKEN),
        "description": lambda v: _text("description", v, limit=5000),
    }
    cleaned = _clean(cleaners, changes)
    low = cleaned.get("min_per_source", relation_type.min_per_source)
    high = cleaned.get("max_per_source", relation_type.max_per_source)
    if high == 0:
        raise ValidationError({"max_per_source": [MAX_ZERO]})
    if high is not None and low is not None and high < low:
        raise ValidationError({"max_per_source": [MAX_BELOW_MIN.format(max=high, min=low)]})
    return cleaned


def _refuse_invalidating_relation_change(relation_type: RelationType, cleaned: dict) -> None:
    links = Relation.objects.filter(type_id=relation_type.pk)
    for field in ("from_label", "to_label"):
        new = cleaned.get(field)
        if new is not None and new.pk != getattr(relation_type, f"{field}_id"):
            count, usage = _usage(links, "link")
            if count:
                raise ValidationError(
                    {
                        field: [
                            RELATION_ENDS_IN_USE.format(
                                name=relation_type.name,
                                links=usage,
                                from_label=relation_type.from_label,
                                to_label=relation_type.to_label,
                            )
                        ]
                    }
                )
    high = cleaned.get("max_per_source", relation_type.max_per_source)
    if high is not None and (
        relation_type.max_per_source is None or high < relation_type.max_per_source
    ):
        per_source = (
            links.filter(deleted_at__isnull=True)
            .values("source_id")
            .annotate(n=Count("id"))
            .filter(n__gt=high)
            .values_list("n", flat=True)
        )
        counts = list(per_source)
        if counts:
            raise ValidationError(
                {
                    "max_per_source": [
                        RELATION_MAX_EXCEEDED.format(
                            spans=_plural(len(counts), "span"),
                            max=high,
                            name=relation_type.name,
                            highest=max(counts),
                        )
                    ]
                }
            )


def _relation_type_snapshot(relation_type: RelationType) -> dict:
    return {
        "name": relation_type.name,
        "from_label_id": relation_type.from_label_id,
        "to_label_id": relation_type.to_label_id,
        "min_per_source": relation_type.min_per_source,
        "max_per_source": relation_type.max_per_source,
        "hotkey": relation_type.hotkey,
        "description": relation_type.description,
    }


# --- Project lists ------------------------------------------------------------------------


@transaction.atomic
def list_entry_add(
    *,
    project: Project,
    user,
    list_name: str,
    name: str,
    aliases: Iterable[str] | str = (),
) -> ListEntry:
    """Add a name (with its aliases) to a project list; a new list_name starts a new list."""
    entry = ListEntry(project=project)
    changes = {"list_name": list_name, "name": name, "aliases": aliases}
    _apply(entry, _clean_entry(entry, changes))
    _save(entry, recheck=lambda: _clean_entry(entry, changes))
    _record(project, user, "list_entry.add", entry, before=None, after=_entry_snapshot(entry))
    return entry


@transaction.atomic
def list_entry_remove(*, entry: ListEntry, user) -> None:
    """Remove an entry, unless spans hold its name in an attribute that accepts list names only."""
    _lock(entry)
    strict = list(
        AttributeDefinition.objects.filter(
            label__project_id=entry.project_id,
            kind=AttributeKind.REFERENCE,
            list_name=entry.list_name,
            allow_other=False,
        ).select_related("label")
    )
    using: list[tuple[Any, bool]] = []
    for attribute in strict:
        using += [(v, d) for v, d in _stored_values(attribute) if v == entry.name]
    if using:
        names = ", ".join(f"{a.label}.{a.name}" for a in strict)
        raise ValidationError(
            {
                NON_FIELD_ERRORS: [
                    ENTRY_IN_USE.format(
                        name=entry.name,
                        attributes=names,
                        annotations=_describe(using),
                        list_name=entry.list_name,
                    )
                ]
            }
        )
    before, entry_id = _entry_snapshot(entry), entry.pk
    entry.delete()
    entry.pk = entry_id
    _record(entry.project, user, "list_entry.remove", entry, before=before, after=None)


def _clean_entry(entry: ListEntry, changes: dict[str, Any]) -> dict[str, Any]:
    cleaned = _clean(
        {"list_name": lambda v: _identifier("list name", v)}, {"list_name": changes["list_name"]}
    )
    entries = ListEntry.objects.filter(project_id=entry.project_id, list_name=cleaned["list_name"])
    cleaned |= _clean(
        {
            "name": lambda v: _unique(
                _text("name", v, limit=200, required=True),
                entries,
                "name",
                ENTRY_NAME_TAKEN,
                list_name=cleaned["list_name"],
            ),
            "aliases": _aliases,
        },
        {"name": changes["name"], "aliases": changes["aliases"]},
    )
    cleaned["aliases"] = [a for a in cleaned["aliases"] if a != cleaned["name"]]
    return cleaned


def _aliases(raw: Any) -> list[str]:
    if isinstance(raw, str):
        raw = raw.splitlines()
    if not isinstance(raw, list | tuple):
        raise ValidationError(NOT_TEXT.format(field="aliases", value=raw))
    aliases = [_text("an alias", alias, limit=200) for alias in raw]
    return list(dict.fromkeys(alias for alias in aliases if alias))


def _entry_snapshot(entry: ListEntry) -> dict:
    return {"list_name": entry.list_name, "name": entry.name, "aliases": list(entry.aliases)}


# --- Shared helpers -----------------------------------------------------------------------


def _clean(cleaners: dict[str, Callable[[Any], Any]], changes: dict[str, Any]) -> dict[str, Any]:
    """Run each changed field's cleaner; raise one ValidationError naming every field at fault."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for field, value in changes.items():
        try:
            cleaned[field] = cleaners[field](value)
        except ValidationError as error:
            errors[field] = error.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


def _lock(obj) -> None:
    """Re-read `obj` under a row lock (concurrent managers edit one at a time), keeping the
    caller's owner instance: `_record` bumps codebook_version on it in place."""
    owner_field = "label" if isinstance(obj, AttributeDefinition) else "project"
    owner = getattr(obj, owner_field)
    obj.refresh_from_db(from_queryset=type(obj).objects.select_for_update())
    setattr(obj, owner_field, owner)


def _apply(obj, cleaned: dict[str, Any]) -> None:
    for field, value in cleaned.items():
        setattr(obj, field, value)


def _save(obj, *, recheck: Callable[[], Any]) -> None:
    """Save; if a concurrent change made a unique field clash, say which (recheck raises)."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        recheck()
        raise


# --- Guidelines ---------------------------------------------------------------------------

GUIDELINES_LIMIT = 100_000
GUIDELINES_CHANGED = (
    "someone else saved the guidelines after you opened them; nothing was saved. Your text "
    "is still in the form: compare it with the current guidelines and save again"
)


@transaction.atomic
def guidelines_update(*, project: Project, user, text: Any, based_on: str | None) -> bool:
    """Replace the project's guidelines (Markdown) with `text`. `based_on` is the digest of
    the text the editor started from (annotator.guidelines.digest): a save over a newer text
    is refused with GUIDELINES_CHANGED rather than overwriting it. Returns whether anything
    changed; a change is audited as "codebook.guidelines.update" with the text before and after.

    The codebook version is not bumped: guidelines are prose, they change neither what a span
    may hold nor how agreement compares versions (which reports filter by codebook version).
    """
    cleaned = _text("guidelines", text, limit=GUIDELINES_LIMIT)
    project.refresh_from_db(from_queryset=Project.objects.select_for_update())
    before = project.guidelines
    if based_on is not None and based_on != guidelines_digest(before):
        raise ValidationError({"guidelines": [GUIDELINES_CHANGED]})
    if cleaned == before:
        return False
    project.guidelines = cleaned
    project.save(update_fields=["guidelines"])
    AuditEvent.objects.create(
        project=project,
        user=user,
        action="codebook.guidelines.update",
        object_type="guidelines",
        object_id=project.pk,
        before={"guidelines": before},
        after={"guidelines": cleaned},
    )
    return True


def _record(project: Project, user, action: str, obj, *, before, after) -> None:
    """Bump the codebook version (so every cached snapshot is replaced) and audit the change."""
    Project.objects.filter(pk=project.pk).update(codebook_version=F("codebook_version") + 1)
    project.refresh_from_db(fields=["codebook_version"])
    what = action.split(".")[0]
    AuditEvent.objects.create(
        project=project,
        user=user,
        action=f"codebook.{action}",
        object_type=what,
        object_id=obj.pk,
        before=before,
        after=after,
    )


def _next_order(queryset: QuerySet) -> int:
    highest = queryset.aggregate(m=Max("order"))["m"]
    return 0 if highest is None else highest + 1


def _text(field: str, value: Any, *, limit: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(NOT_TEXT.format(field=field, value=value))
    value = value.replace("\r\n", "\n").strip()
    if required and not value:
        raise ValidationError(REQUIRED.format(field=field))
    if len(value) > limit:
        raise ValidationError(TOO_LONG.format(field=field, length=len(value), limit=limit))
    return value


def _identifier(field: str, value: Any) -> str:
    text = _text(field, value, limit=50, required=True)
    if not NAME_RE.match(text):
        raise ValidationError(BAD_NAME.format(field=field, value=text))
    return text


def _unique(value: str, others: QuerySet, field: str, message: str, **extra) -> str:
    clash = others.filter(**{f"{field}__iexact": value}).first()
    if clash is not None:
        raise ValidationError(message.format(value=value, other=clash, **extra))
    return value


def _colour(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else value
    if not isinstance(text, str) or not COLOUR_RE.match(text):
        raise ValidationError(BAD_COLOUR.format(value=value))
    return text.lower()


def _hotkey(value: Any, *, reserved: bool = False) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value.strip()) > 1:
        raise ValidationError(BAD_HOTKEY.format(value=value))
    key = value.strip()
    if reserved and key.lower() in RESERVED_HOTKEYS:
        raise ValidationError(RESERVED_HOTKEY.format(value=key))
    return key


def _unique_hotkey(key: str, others: QuerySet, message: str) -> str:
    if key:
        clash = others.filter(hotkey=key).first()
        if clash is not None:
            raise ValidationError(message.format(value=key, other=clash))
    return key


def _boolean(field: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValidationError(NOT_A_BOOLEAN.format(field=field, value=value))


def _choice(value: Any, allowed: Iterable[str], message: str) -> str:
    if value not in allowed:
        raise ValidationError(message)
    return value


def _count(field: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ValidationError(BAD_COUNT.format(field=field, value=value))
    if isinstance(value, str) and INT_RE.match(value.strip()):
        value = int(value.strip())
    if not isinstance(value, int) or value < 0:
        raise ValidationError(BAD_COUNT.format(field=field, value=value))
    return value


def _project_label(project_id: int, field: str, value: Any) -> Label:
    labels = Label.objects.filter(project_id=project_id)
    if isinstance(value, Label):
        label = value if value.project_id == project_id else None
    elif (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and value.strip().isdigit()
    ):
        label = labels.filter(pk=int(value)).first()
    elif isinstance(value, str):
        label = labels.filter(name=value.strip()).first()
    else:
        label = None
    if label is None:
        raise ValidationError(NOT_A_PROJECT_LABEL.format(field=field, value=value))
    return label


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _usage(queryset: QuerySet, noun: str) -> tuple[int, str]:
    """How many rows use something, as a count and as words ("23 annotations")."""
    counts = queryset.aggregate(
        total=Count("pk"), deleted=Count("pk", filter=Q(deleted_at__isnull=False))
    )
    return counts["total"], _words(counts["total"], counts["deleted"], noun)


def _describe(stored: list[tuple[Any, bool]]) -> str:
    return _words(len(stored), sum(1 for _, deleted in stored if deleted), "annotation")


def _words(total: int, deleted: int, noun: str) -> str:
    text = _plural(total, noun)
    if deleted:
        text += f" ({deleted} of them deleted, which undo can bring back)"
    return text
