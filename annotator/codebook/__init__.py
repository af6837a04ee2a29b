"""The codebook as the rest of the app reads it: an immutable snapshot per codebook version,
attribute validation, and installing the default codebook into a new project."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

DEFAULT_CODEBOOK_PATH = Path(__file__).with_name("default.json")


@dataclass(frozen=True)
class AttributeSpec:
    name: str
    kind: str
    values: tuple = ()
    list_name: str = ""
    allow_other: bool = True
    default: Any = None
    help_text: str = ""
    list_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class LabelSpec:
    id: int
    name: str
    colour: str
    hotkey: str
    enabled: bool
    description: str
    examples: str
    attributes: tuple[AttributeSpec, ...] = ()

    def attribute(self, name: str) -> AttributeSpec | None:
        return next((a for a in self.attributes if a.name == name), None)


@dataclass(frozen=True)
class RelationTypeSpec:
    id: int
    name: str
    from_label_id: int
    to_label_id: int
    max_per_source: int | None
    min_per_source: int
    hotkey: str
    description: str
    cardinality: str


@dataclass(frozen=True)
class Codebook:
    project_id: int
    version: int
    allow_overlap: bool
    labels: tuple[LabelSpec, ...]
    relation_types: tuple[RelationTypeSpec, ...]

    def label_by_name(self, name: str) -> LabelSpec | None:
        return next((label for label in self.labels if label.name == name), None)

    def label_by_id(self, label_id: int) -> LabelSpec | None:
        return next((label for label in self.labels if label.id == label_id), None)

    def relation_type_by_name(self, name: str) -> RelationTypeSpec | None:
        return next((rt for rt in self.relation_types if rt.name == name), None)

    def relation_type_by_id(self, type_id: int) -> RelationTypeSpec | None:
        return next((rt for rt in self.relation_types if rt.id == type_id), None)

    @property
    def enabled_labels(self) -> tuple[LabelSpec, ...]:
        return tuple(label for label in self.labels if label.enabled)

    def relation_types_from(self, label_id: int) -> tuple[RelationTypeSpec, ...]:
        return tuple(rt for rt in self.relation_types if rt.from_label_id == label_id)


def get_codebook(project) -> Codebook:
    """The project's codebook. Cached per (project, codebook_version): every codebook change
    bumps the version, so a stale snapshot is never used, in any process."""
    return _load_codebook(project.pk, project.codebook_version, project.allow_overlap)


@lru_cache(maxsize=256)
def _load_codebook(project_id: int, version: int, allow_overlap: bool) -> Codebook:
    from annotator.models import Label, ListEntry, RelationType

    list_values: dict[str, list[str]] = {}
    for list_name, name in ListEntry.objects.filter(project_id=project_id).values_list(
        "list_name", "name"
    ):
        list_values.setdefault(list_name, []).append(name)
    labels = tuple(
        LabelSpec(
            id=label.pk,
            name=label.name,
            colour=label.colour,
            hotkey=label.hotkey,
            enabled=label.enabled,
            description=label.description,
            examples=label.examples,
            attributes=tuple(
                AttributeSpec(
                    name=a.name,
                    kind=a.kind,
                    values=tuple(a.values or ()),
                    list_name=a.list_name,
                    allow_other=a.allow_other,
                    default=a.default,
                    help_text=a.help_text,
                    list_values=tuple(list_values.get(a.list_name, ())),
                )
                for a in label.attributes.all()
            ),
        )
        for label in Label.objects.filter(project_id=project_id).prefetch_related("attributes")
    )
    relation_types = tuple(
        RelationTypeSpec(
            id=rt.pk,
            name=rt.name,
            from_label_id=rt.from_label_id,
            to_label_id=rt.to_label_id,
            max_per_source=rt.max_per_source,
            min_per_source=rt.min_per_source,
            hotkey=rt.hotkey,
            description=rt.description,
            cardinality=rt.cardinality,
        )
        for rt in RelationType.objects.filter(project_id=project_id)
    )
    return Codebook(project_id, version, allow_overlap, labels, relation_types)


def _is_unset(value: Any) -> bool:
    return value is None or value == "" or value == []


def clean_attributes(label: LabelSpec, attributes: Any) -> dict[str, Any]:
    """Validate attributes against the label's definitions and return them cleaned.

    Unset values (None, "", []) are omitted, so "not coded" has one representation.
    Raises ValidationError({"attributes": [...]}) naming each attribute and value at fault.
    """
    if attributes is None:
        return {}
    if not isinstance(attributes, dict):
        raise ValidationError({"attributes": ["must be an object of attribute name to value"]})
    errors: list[str] = []
    cleaned: dict[str, Any] = {}
    for name, value in attributes.items():
        spec = label.attribute(name)
        if spec is None:
            known = ", ".join(a.name for a in label.attributes) or "none"
            errors.append(f"{name}: {label.name} has no attribute {name!r} (it has: {known})")
            continue
        if _is_unset(value):
            continue
        try:
            value = _clean_value(spec, value)
        except ValueError as exc:
            errors.append(f"{name}: {exc}")
            continue
        # Text that is only whitespace is unset too, once stripped.
        if not _is_unset(value):
            cleaned[name] = value
    if errors:
        raise ValidationError({"attributes": errors})
    return cleaned


def _clean_value(spec: AttributeSpec, value: Any) -> Any:
    if spec.kind == "enum":
        return _enum_value(spec, value)
    if spec.kind == "multi_enum":
        if not isinstance(value, list | tuple):
            raise ValueError(f"{value!r} is not a list of values")
        return [_enum_value(spec, item) for item in dict.fromkeys(value)]
    if spec.kind == "integer":
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a whole number")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value.strip())
        raise ValueError(f"{value!r} is not a whole number")
    if spec.kind == "boolean":
        if isinstance(value, bool):
            return value
        lowered = str(value).strip().lower()
        if lowered in {"true", "yes", "1"}:
            return True
        if lowered in {"false", "no", "0"}:
            return False
        raise ValueError(f"{value!r} is not yes or no")
    if spec.kind in {"text", "reference"}:
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not text")
        value = value.strip()
        if len(value) > 500:
            raise ValueError("is longer than 500 characters")
        if spec.kind == "reference" and not spec.allow_other and value not in spec.list_values:
            raise ValueError(f"{value!r} is not in the project's {spec.list_name} list")
        return value
    raise ValueError(f"unknown attribute kind {spec.kind!r}")


def _enum_value(spec: AttributeSpec, value: Any) -> Any:
    for allowed in spec.values:
        # True == 1 in Python: a boolean is not the number 1 (as for integer attributes).
        if isinstance(value, bool) and not isinstance(allowed, bool):
            continue
        # Forms send strings; the codebook may hold numbers (geo_precision 1-5).
        if value == allowed or (
            isinstance(value, str) and not isinstance(allowed, str) and value == str(allowed)
        ):
            return allowed
    allowed_text = ", ".join(str(v) for v in spec.values)
    raise ValueError(f"{value!r} is not one of: {allowed_text}")


def load_default_codebook() -> dict:
    return json.loads(DEFAULT_CODEBOOK_PATH.read_text(encoding="utf-8"))


@transaction.atomic
def install_codebook(project, data: dict) -> None:
    """Create the labels, attributes, relation types and lists described by `data`."""
    from annotator.models import AttributeDefinition, Label, ListEntry, RelationType

    project.allow_overlap = data.get("allow_overlap", False)
    project.save(update_fields=["allow_overlap"])
    labels = {}
    for order, spec in enumerate(data["labels"]):
        label = Label.objects.create(
            project=project,
            name=spec["name"],
            colour=spec["colour"],
            hotkey=spec.get("hotkey", ""),
            description=spec.get("description", ""),
            examples=spec.get("examples", ""),
            enabled=spec.get("enabled", True),
            order=order,
        )
        labels[label.name] = label
        AttributeDefinition.objects.bulk_create(
            AttributeDefinition(
                label=label,
                name=attr["name"],
                kind=attr["kind"],
                values=attr.get("values", []),
                list_name=attr.get("list_name", ""),
                allow_other=attr.get("allow_other", True),
                default=attr.get("default"),
                help_text=attr.get("help_text", ""),
                order=attr_order,
            )
            for attr_order, attr in enumerate(spec.get("attributes", []))
        )
    RelationType.objects.bulk_create(
        RelationType(
            project=project,
            name=spec["name"],
            from_label=labels[spec["from"]],
            to_label=labels[spec["to"]],
            min_per_source=spec.get("min", 0),
            max_per_source=spec.get("max"),
            hotkey=spec.get("hotkey", ""),
            description=spec.get("description", ""),
            order=order,
        )
        for order, spec in enumerate(data.get("relation_types", []))
    )
    ListEntry.objects.bulk_create(
        ListEntry(
            project=project, list_name=list_name, name=entry["name"], aliases=entry["aliases"]
        )
        for list_name, entries in data.get("lists", {}).items()
        for entry in entries
    )
