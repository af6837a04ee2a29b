"""The codebook: readable by every member (guidelines at hand), editable by managers.

Every editing form posts to one of the routes below, through htmx (the section is swapped in
place, 422 + the form with its errors when refused) or as a plain form (post/redirect/get; 422 +
the whole page when refused). Each view: the project through `access` (managers only, else
404), one service from annotator.services.codebook, then `_saved` or `_refused`. Fragments are
partials of templates/annotator/codebook/detail.html.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from annotator import access
from annotator.models import AttributeDefinition, AttributeKind, Role
from annotator.services import codebook as services

TEMPLATE = "annotator/codebook/detail.html"

LABEL_FIELDS = ("name", "colour", "hotkey", "description", "examples", "enabled")
ATTRIBUTE_FIELDS = ("name", "kind", "values", "list_name", "allow_other", "default", "help_text")
RELATION_TYPE_FIELDS = (
    "name",
    "from_label",
    "to_label",
    "min_per_source",
    "max_per_source",
    "hotkey",
    "description",
)
ENTRY_FIELDS = ("list_name", "name", "aliases")
NEW_ENTRY = {"list_name": "", "name": ""}
# Checkboxes come with a hidden "0" before them, so an unticked box still says so.
CHECKBOXES = ("enabled", "allow_other")

NEW_LABEL = {
    "name": "",
    "colour": services.DEFAULT_COLOUR,
    "hotkey": "",
    "description": "",
    "examples": "",
}
NEW_ATTRIBUTE = {
    "name": "",
    "kind": AttributeKind.ENUM,
    "values": "",
    "list_name": "",
    "allow_other": True,
    "default": "",
    "help_text": "",
}
NEW_RELATION_TYPE = {
    "name": "",
    "from_label": "",
    "to_label": "",
    "min_per_source": "0",
    "max_per_source": "",
    "hotkey": "",
    "description": "",
}


@dataclass(frozen=True)
class Refusal:
    """A form the service refused: which form (kind, id), what was posted, and why."""

    form: tuple[str, Any]
    values: dict[str, Any]
    errors: dict[str, list[str]]


@login_required
@require_GET
def codebook_detail(request, project_id: int):
    project = access.get_project_for_user(request.user, project_id)
    return render(request, TEMPLATE, _page(request, project))


# --- Labels -------------------------------------------------------------------------------


@login_required
@require_POST
def label_create(request, project_id: int):
    project = _managed_project(request, project_id)
    try:
        label = services.label_create(
            project=project, user=request.user, **_new_fields(request, LABEL_FIELDS, NEW_LABEL)
        )
    except ValidationError as error:
        return _refused(request, project, error, form=("label-new", ""), section="labels")
    return _saved(
        request, project, f"label {label} added", section="labels", anchor=f"label-{label.pk}"
    )


@login_required
@require_POST
def label_update(request, project_id: int, label_id: int):
    project = _managed_project(request, project_id)
    label = get_object_or_404(project.labels, pk=label_id)
    fields = _fields(request, LABEL_FIELDS)
    try:
        services.label_update(label=label, user=request.user, **fields)
    except ValidationError as error:
        return _refused(
            request, project, error, form=("label", label.pk), section="label", label_id=label.pk
        )
    if fields.keys() == {"enabled"}:
        message = f"label {label} switched {'on' if label.enabled else 'off'}"
    else:
        message = f"label {label}"
    return _saved(request, project, message, section="label", label_id=label.pk)


@login_required
@require_POST
def label_delete(request, project_id: int, label_id: int):
    project = _managed_project(request, project_id)
    label = get_object_or_404(project.labels, pk=label_id)
    try:
        services.label_delete(label=label, user=request.user)
    except ValidationError as error:
        return _refused(request, project, error, form=("label-delete", label.pk), section="labels")
    return _saved(request, project, f"label {label} deleted", section="labels")


# --- Attributes ---------------------------------------------------------------------------


@login_required
@require_POST
def attribute_create(request, project_id: int, label_id: int):
    project = _managed_project(request, project_id)
    label = get_object_or_404(project.labels, pk=label_id)
    try:
        attribute = services.attribute_create(
            label=label, user=request.user, **_new_fields(request, ATTRIBUTE_FIELDS, NEW_ATTRIBUTE)
        )
    except ValidationError as error:
        return _refused(
            request,
            project,
            error,
            form=("attribute-new", label.pk),
            section="label",
            label_id=label.pk,
        )
    return _saved(
        request,
        project,
        f"attribute {label}.{attribute.name} added",
        section="label",
        label_id=label.pk,
    )


@login_required
@require_POST
def attribute_update(request, project_id: int, attribute_id: int):
    project = _managed_project(request, project_id)
    attribute = _project_attribute(project, attribute_id)
    try:
        services.attribute_update(
            attribute=attribute, user=request.user, **_fields(request, ATTRIBUTE_FIELDS)
        )
    except ValidationError as error:
        return _refused(
            request,
            project,
            error,
            form=("attribute", attribute.pk),
            section="label",
            label_id=attribute.label_id,
        )
    return _saved(
        request,
        project,
        f"attribute {attribute.label}.{attribute.name}",
        section="label",
        label_id=attribute.label_id,
    )


@login_required
@require_POST
def attribute_delete(request, project_id: int, attribute_id: int):
    project = _managed_project(request, project_id)
    attribute = _project_attribute(project, attribute_id)
    try:
        services.attribute_delete(attribute=attribute, user=request.user)
    except ValidationError as error:
        return _refused(
            request,
            project,
            error,
            form=("attribute-delete", attribute.pk),
            section="label",
            label_id=attribute.label_id,
        )
    return _saved(
        request,
        project,
        f"attribute {attribute.label}.{attribute.name} deleted",
        section="label",
        label_id=attribute.label_id,
    )


# --- Relation types -----------------------------------------------------------------------


@login_required
@require_POST
def relation_type_create(request, project_id: int):
    project = _managed_project(request, project_id)
    try:
        relation_type = services.relation_type_create(
            project=project,
            user=request.user,
            **_new_fields(request, RELATION_TYPE_FIELDS, NEW_RELATION_TYPE),
        )
    except ValidationError as error:
        return _refused(
            request, project, error, form=("relation-type-new", ""), section="relation-types"
        )
    return _saved(
        request,
        project,
        f"relation type {relation_type} added",
        section="relation-types",
        anchor=f"relation-type-{relation_type.pk}",
    )


@login_required
@require_POST
def relation_type_update(request, project_id: int, type_id: int):
    project = _managed_project(request, project_id)
    relation_type = get_object_or_404(project.relation_types, pk=type_id)
    try:
        services.relation_type_update(
            relation_type=relation_type, user=request.user, **_fields(request, RELATION_TYPE_FIELDS)
        )
    except ValidationError as error:
        return _refused(
            request,
            project,
            error,
            form=("relation-type", relation_type.pk),
            section="relation-types",
        )
    return _saved(
        request,
        project,
        f"relation type {relation_type}",
        section="relation-types",
        anchor=f"relation-type-{relation_type.pk}",
    )


@login_required
@require_POST
def relation_type_delete(request, project_id: int, type_id: int):
    project = _managed_project(request, project_id)
    relation_type = get_object_or_404(project.relation_types, pk=type_id)
    try:
        services.relation_type_delete(relation_type=relation_type, user=request.user)
    except ValidationError as error:
        return _refused(
            request,
            project,
            error,
            form=("relation-type-delete", relation_type.pk),
            section="relation-types",
        )
    return _saved(
        request, project, f"relation type {relation_type} deleted", section="relation-types"
    )


# --- Lists --------------------------------------------------------------------------------


@login_required
@require_POST
def list_entry_add(request, project_id: int):
    project = _managed_project(request, project_id)
    fields = _new_fields(request, ENTRY_FIELDS, NEW_ENTRY)
    # Each list has its own form; the "new list" form says so, so its errors show there.
    form_id = "" if request.POST.get("new_list") else fields.get("list_name", "")
    try:
        entry = services.list_entry_add(project=project, user=request.user, **fields)
    except ValidationError as error:
        return _refused(request, project, error, form=("entry-new", form_id), section="lists")
    return _saved(
        request,
        project,
        f"{entry.name} added to the {entry.list_name} list",
        section="lists",
        anchor=f"list-{entry.list_name}",
    )


@login_required
@require_POST
def list_entry_remove(request, project_id: int, entry_id: int):
    project = _managed_project(request, project_id)
    entry = get_object_or_404(project.list_entries, pk=entry_id)
    try:
        services.list_entry_remove(entry=entry, user=request.user)
    except ValidationError as error:
        return _refused(request, project, error, form=("entry-delete", entry.pk), section="lists")
    return _saved(
        request,
        project,
        f"{entry.name} removed from the {entry.list_name} list",
        section="lists",
        anchor=f"list-{entry.list_name}",
    )


# --- Shared -------------------------------------------------------------------------------


def _managed_project(request, project_id: int):
    return access.get_project_for_user(request.user, project_id, roles={Role.MANAGER})


def _project_attribute(project, attribute_id: int) -> AttributeDefinition:
    return get_object_or_404(
        AttributeDefinition.objects.select_related("label"), pk=attribute_id, label__project=project
    )


def _posted(request) -> dict[str, Any]:
    """The form as posted: the last value of each field, checkboxes as booleans."""
    values: dict[str, Any] = {
        key: request.POST.getlist(key)[-1] for key in request.POST if key != "csrfmiddlewaretoken"
    }
    for key in CHECKBOXES:
        if key in values:
            values[key] = values[key] in {"1", "on", "true", "yes"}
    return values


def _new_fields(request, names: tuple[str, ...], blank: dict[str, Any]) -> dict[str, Any]:
    """The posted fields for a create: a field left out counts as the blank form's value, so
    the service names what is missing (rather than the request failing)."""
    return {**{name: blank[name] for name in names if name in blank}, **_fields(request, names)}


def _fields(request, names: tuple[str, ...]) -> dict[str, Any]:
    """The posted fields a service takes. Only fields present are passed: the switch-off
    button posts `enabled` alone, and updates leave absent fields as they are."""
    posted = _posted(request)
    return {name: posted[name] for name in names if name in posted}


def _saved(
    request, project, what: str, *, section: str, anchor: str = "", label_id=None
) -> HttpResponse:
    message = f"Saved: {what}"
    if request.htmx:
        project.refresh_from_db(fields=["codebook_version"])
        context = _page(request, project, status=message)
        return _fragment(request, context, section=section, label_id=label_id, saved=True)
    messages.success(request, message)
    return redirect(f"{reverse('codebook', args=[project.pk])}#{anchor or section}")


def _refused(
    request, project, error: ValidationError, *, form: tuple[str, Any], section: str, label_id=None
) -> HttpResponse:
    errors = (
        error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
    )
    refusal = Refusal(form=form, values=_posted(request), errors=errors)
    first = next(iter(errors.values()))[0]
    context = _page(request, project, refusal=refusal, status=f"Not saved: {first}")
    if request.htmx:
        return _fragment(request, context, section=section, label_id=label_id, status=422)
    return render(request, TEMPLATE, context, status=422)


def _fragment(
    request, context: dict, *, section: str, label_id=None, saved: bool = False, status: int = 200
) -> HttpResponse:
    context.update(section=section, saved=saved)
    if label_id is not None:
        context["row"] = next(row for row in context["label_rows"] if row["label"].pk == label_id)
    return render(request, f"{TEMPLATE}#response", context, status=status)


def _page(request, project, *, refusal: Refusal | None = None, status: str = "") -> dict:
    """Everything the page shows. Managers also get usage counts and a form state for every
    form: the object's values, or what was posted and why it was refused."""
    manager = access.is_manager(request.user, project)
    labels = project.labels.prefetch_related("attributes")
    relation_types = project.relation_types.select_related("from_label", "to_label")
    if manager:
        labels = labels.annotate(
            span_count=Count("annotations", filter=Q(annotations__deleted_at__isnull=True))
        )
        relation_types = relation_types.annotate(
            link_count=Count("relations", filter=Q(relations__deleted_at__isnull=True))
        )
    labels, relation_types = list(labels), list(relation_types)
    entries = list(project.list_entries.all())

    def url(name: str, *ids: int) -> str:
        return reverse(name, args=[project.pk, *ids])

    def form(kind: str, obj_id: Any, values: dict, action: str, target: str) -> dict | None:
        if not manager:
            return None
        state = {
            "id": _form_id(kind, obj_id),
            "action": action,
            "target": target,
            "values": values,
            "errors": [],
            "invalid": [],
            "open": False,
        }
        if refusal is not None and refusal.form == (kind, obj_id):
            state.update(
                values={**values, **refusal.values},
                errors=[
                    message for field_errors in refusal.errors.values() for message in field_errors
                ],
                invalid=[field for field in refusal.errors if field != NON_FIELD_ERRORS],
                open=True,
            )
        return state

    def label_row(label) -> dict:
        section = f"#label-{label.pk}"
        return {
            "label": label,
            "examples": [line for line in label.examples.splitlines() if line.strip()],
            "attributes": [
                {
                    "attribute": attribute,
                    "default": _default_text(attribute.default),
                    "form": form(
                        "attribute",
                        attribute.pk,
                        _attribute_values(attribute),
                        url("codebook-attribute-update", attribute.pk),
                        section,
                    ),
                    "delete": form(
                        "attribute-delete",
                        attribute.pk,
                        {},
                        url("codebook-attribute-delete", attribute.pk),
                        section,
                    ),
                }
                for attribute in label.attributes.all()
            ],
            "form": form(
                "label",
                label.pk,
                _label_values(label),
                url("codebook-label-update", label.pk),
                section,
            ),
            "delete": form(
                "label-delete", label.pk, {}, url("codebook-label-delete", label.pk), "#labels"
            ),
            "new_attribute": form(
                "attribute-new",
                label.pk,
                NEW_ATTRIBUTE,
                url("codebook-attribute-create", label.pk),
                section,
            ),
        }

    relation_rows = [
        {
            "type": relation_type,
            "form": form(
                "relation-type",
                relation_type.pk,
                _relation_type_values(relation_type),
                url("codebook-relation-type-update", relation_type.pk),
                "#relation-types",
            ),
            "delete": form(
                "relation-type-delete",
                relation_type.pk,
                {},
                url("codebook-relation-type-delete", relation_type.pk),
                "#relation-types",
            ),
        }
        for relation_type in relation_types
    ]
    used_by: dict[str, list[str]] = {}
    for label in labels:
        for attribute in label.attributes.all():
            if attribute.kind == AttributeKind.REFERENCE and attribute.list_name:
                used_by.setdefault(attribute.list_name, []).append(f"{label}.{attribute.name}")
    add_entry = url("codebook-list-entry-add")
    lists = [
        {
            "name": name,
            "used_by": used_by.get(name, []),
            "entries": [
                {
                    "entry": entry,
                    "delete": form(
                        "entry-delete",
                        entry.pk,
                        {},
                        url("codebook-list-entry-remove", entry.pk),
                        "#lists",
                    ),
                }
                for entry in entries
                if entry.list_name == name
            ],
            "form": form(
                "entry-new",
                name,
                {"list_name": name, "name": "", "aliases": ""},
                add_entry,
                "#lists",
            ),
        }
        for name in sorted({entry.list_name for entry in entries} | used_by.keys())
    ]
    return {
        "project": project,
        "version": project.codebook_version,
        "is_manager": manager,
        "labels": labels,
        "label_rows": [label_row(label) for label in labels],
        "relation_rows": relation_rows,
        "lists": lists,
        "kinds": AttributeKind.choices,
        "new_label": form("label-new", "", NEW_LABEL, url("codebook-label-create"), "#labels"),
        "new_relation_type": form(
            "relation-type-new",
            "",
            NEW_RELATION_TYPE,
            url("codebook-relation-type-create"),
            "#relation-types",
        ),
        "new_list": form(
            "entry-new", "", {"list_name": "", "name": "", "aliases": ""}, add_entry, "#lists"
        ),
        "status": status,
        "status_error": refusal is not None,
        "refused_form": _form_id(*refusal.form) if refusal else "",
    }


def _form_id(kind: str, obj_id: Any) -> str:
    return f"{kind}-{obj_id}-form" if obj_id != "" else f"{kind}-form"


def _label_values(label) -> dict:
    return {field: getattr(label, field) for field in LABEL_FIELDS}


def _attribute_values(attribute) -> dict:
    return {
        "name": attribute.name,
        "kind": attribute.kind,
        "values": "\n".join(str(value) for value in attribute.values or []),
        "list_name": attribute.list_name,
        "allow_other": attribute.allow_other,
        "default": _default_text(attribute.default),
        "help_text": attribute.help_text,
    }


def _relation_type_values(relation_type) -> dict:
    return {
        "name": relation_type.name,
        "from_label": str(relation_type.from_label_id),
        "to_label": str(relation_type.to_label_id),
        "min_per_source": str(relation_type.min_per_source),
        "max_per_source": ""
        if relation_type.max_per_source is None
        else str(relation_type.max_per_source),
        "hotkey": relation_type.hotkey,
        "description": relation_type.description,
    }


def _default_text(default: Any) -> str:
    """An attribute's default as typed in its form (several values comma-separated)."""
    if default is None:
        return ""
    if isinstance(default, bool):
        return "yes" if default else "no"
    if isinstance(default, list):
        return ", ".join(str(value) for value in default)
    return str(default)


urlpatterns = [
    path("", codebook_detail, name="codebook"),
    path("labels/", label_create, name="codebook-label-create"),
    path("labels/<int:label_id>/", label_update, name="codebook-label-update"),
    path("labels/<int:label_id>/delete/", label_delete, name="codebook-label-delete"),
    path("labels/<int:label_id>/attributes/", attribute_create, name="codebook-attribute-create"),
    path("attributes/<int:attribute_id>/", attribute_update, name="codebook-attribute-update"),
    path(
        "attributes/<int:attribute_id>/delete/", attribute_delete, name="codebook-attribute-delete"
    ),
    path("relation-types/", relation_type_create, name="codebook-relation-type-create"),
    path(
        "relation-types/<int:type_id>/", relation_type_update, name="codebook-relation-type-update"
    ),
    path(
        "relation-types/<int:type_id>/delete/",
        relation_type_delete,
        name="codebook-relation-type-delete",
    ),
    path("list-entries/", list_entry_add, name="codebook-list-entry-add"),
    path(
        "list-entries/<int:entry_id>/delete/", list_entry_remove, name="codebook-list-entry-remove"
    ),
]
