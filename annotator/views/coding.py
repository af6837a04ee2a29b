"""The coding screen: one article, the coder's own spans, their attributes and links.

Every view: fetch through `access`, call one service, render the page or a fragment of it.
Fragments are partials of templates/annotator/coding/screen.html.
"""

from __future__ import annotations

import html
import json
from typing import NamedTuple

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from annotator import access, checks, services
from annotator.codebook import Codebook, get_codebook
from annotator.models import Annotation, Relation
from annotator.services import numbers as claim_numbers
from annotator.services import suggestions as suggested
from annotator.text import (
    RenderSpan,
    RenderSuggestion,
    cached_chunks,
    chunks_touching,
    render_chunk,
    render_text,
)

TEMPLATE = "annotator/coding/screen.html"


def _render_spans(codebook: Codebook, rows) -> list[RenderSpan]:
    names = {label.id: label.name for label in codebook.labels}
    return [
        RenderSpan(
            id=pk, label_id=label_id, label_name=names.get(label_id, "?"), start=start, end=end
        )
        for pk, label_id, start, end in rows
    ]


def _own_spans(document, coder):
    return Annotation.objects.for_document(document).by_coder(coder).alive()


class ListedSpan(NamedTuple):
    """A span as the side list and the article need it: tuples, not model instances, since
    a long article has thousands."""

    id: int
    label_id: int
    start: int
    end: int
    text: str

    @property
    def pk(self) -> int:
        return self.id


def _listed_spans(document, coder) -> list[ListedSpan]:
    rows = _own_spans(document, coder).values_list("id", "label_id", "start", "end", "text")
    return [ListedSpan(*row) for row in rows]


class ListedRelation(NamedTuple):
    """A link as the links list needs it (see ListedSpan)."""

    id: int
    type_id: int
    source_id: int
    target_id: int

    @property
    def pk(self) -> int:
        return self.id


def _listed_relations(document, coder) -> list[ListedRelation]:
    relations = Relation.objects.for_document(document).by_coder(coder).alive()
    rows = relations.values_list("id", "type_id", "source_id", "target_id")
    return [ListedRelation(*row) for row in rows]


def _render_suggestions(shown) -> list[RenderSuggestion]:
    return [RenderSuggestion(s.key, s.label_id, s.label, s.start, s.end) for s in shown]


def _chunk_html(document, coder, codebook: Codebook, start: int, end: int) -> list:
    """The re-rendered chunks touching [start, end), as out-of-band swaps. Only spans near
    those chunks are read, so the cost does not grow with the spans elsewhere."""
    touched = chunks_touching(cached_chunks(document.text), start, end)
    lo, hi = touched[0].start, touched[-1].end
    near = []
    if document.project.suggestions_enabled:
        near = [
            s
            for s in suggested.suggestions_for_coder(document, coder, codebook)
            if s.start < hi and s.end > lo
        ]
    # A suggestion reaching out of these chunks is hidden by a span anywhere along it.
    span_lo, span_hi = min([lo, *(s.start for s in near)]), max([hi, *(s.end for s in near)])
    rows = (
        _own_spans(document, coder)
        .touching(span_lo, span_hi)
        .values_list("id", "label_id", "start", "end")
    )
    spans = _render_spans(codebook, rows)
    visible = _render_suggestions(
        suggested.without_overlaps(near, [(s.start, s.end) for s in spans])
    )
    return [
        render_chunk(document.text, chunk, spans, oob=True, suggestions=visible)
        for chunk in touched
    ]


def _short(text: str, limit: int) -> str:
    """Django's truncatechars, without its per-call cost (see span_item_html)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def span_item_html(span: Annotation | ListedSpan) -> SafeString:
    """One entry of the side list. Built here rather than in the template because a long
    article lists thousands of spans, and the template engine costs about 0.2 ms per entry
    on our 2-core machine; the text is escaped like the article's (text.py)."""
    quote = html.escape(_short(span.text, 60))
    return mark_safe(  # noqa: S308 - the quote is escaped above, the ids are integers
        f'<li id="li-{span.pk}"><a href="?span={span.pk}" class="jump" data-span="{span.pk}">'
        f"{quote}</a></li>"
    )


def _span_groups(codebook: Codebook, spans: list[ListedSpan]) -> list[dict]:
    by_label: dict[int, list[ListedSpan]] = {label.id: [] for label in codebook.labels}
    for span in spans:
        by_label.setdefault(span.label_id, []).append(span)
    return [
        {
            "label": label,
            "count": len(by_label.get(label.id, [])),
            "items": mark_safe("".join(span_item_html(s) for s in by_label.get(label.id, []))),  # noqa: S308
        }
        for label in codebook.labels
        if label.enabled or by_label.get(label.id)
    ]


def _relation_rows(codebook: Codebook, relations, spans_by_id: dict) -> list[SafeString]:
    """The links list's entries, built like span_item_html and escaped the same way."""
    rows = []
    for relation in relations:
        source, target = spans_by_id.get(relation.source_id), spans_by_id.get(relation.target_id)
        rtype = codebook.relation_type_by_id(relation.type_id)
        if source and target and rtype:
            rows.append(
                mark_safe(  # noqa: S308 - quotes and the type name are escaped, ids are integers
                    f'<li id="rel-{relation.pk}">'
                    f'<a href="?span={source.id}" class="jump" data-span="{source.id}">'
                    f"{html.escape(_short(source.text, 30))}</a> "
                    f'<span class="rel-type">{html.escape(rtype.name)}</span> → '
                    f'<a href="?span={target.id}" class="jump" data-span="{target.id}">'
                    f"{html.escape(_short(target.text, 30))}</a></li>"
                )
            )
    return rows


def _counts(document, coder, label_id: int) -> dict:
    """The side list's counts after a change: one query for both."""
    return _own_spans(document, coder).aggregate(
        label_count=Count("pk", filter=Q(label_id=label_id)), span_total=Count("pk")
    )


def _panel_context(document, coder, codebook: Codebook, span: Annotation | None, **extra) -> dict:
    context = {"document": document, "codebook": codebook, "span": span, **extra}
    if span is None:
        return context
    label = codebook.label_by_id(span.label_id)
    # A span created by this very request has no links yet.
    relation_list = (
        []
        if extra.get("created")
        else list(
            Relation.objects.alive()
            .filter(document=document, coder=coder)
            .filter(Q(source=span) | Q(target=span))
            .select_related("source", "target")
        )
    )
    values = extra.get("submitted") or span.attributes
    if label is not None and label.name == "LOCATION" and document.project.suggestions_enabled:
        context["place_candidates"] = suggested.place_candidates(document.project, span.text)
    numbers = claim_numbers.panel_numbers(document, label, span.text, span.attributes)
    context.update(
        label=label,
        numbers=numbers,
        fields=[
            {
                "spec": spec,
                "value": values.get(spec.name),
                "id": f"attr-{spec.name}",
                "mark": numbers.get("marks", {}).get(spec.name),
            }
            for spec in (label.attributes if label else ())
            # Kept by the service from what changed; shown as marks beside the numbers.
            if spec.name != claim_numbers.OVERRIDDEN
        ],
        outgoing=[
            {"relation": r, "type": codebook.relation_type_by_id(r.type_id), "other": r.target}
            for r in relation_list
            if r.source_id == span.pk
        ],
        incoming=[
            {"relation": r, "type": codebook.relation_type_by_id(r.type_id), "other": r.source}
            for r in relation_list
            if r.target_id == span.pk
        ],
        link_types=[
            {"type": rt, "to_name": getattr(codebook.label_by_id(rt.to_label_id), "name", "?")}
            for rt in codebook.relation_types_from(span.label_id)
        ],
    )
    return context


def _client_config(document, codebook: Codebook, shown=None) -> dict:
    """What coding.js needs, delivered through json_script (never inline script)."""
    config = {
        "documentId": document.pk,
        "urls": {
            "createSpan": reverse("span-create", args=[document.pk]),
            "createRelation": reverse("relation-create", args=[document.pk]),
            "undo": reverse("undo", args=[document.pk]),
            "spanPanel": reverse("span-panel", args=[0]),
            "spanDelete": reverse("span-delete", args=[0]),
        },
        "labels": [
            {"id": label.id, "name": label.name, "hotkey": label.hotkey}
            for label in codebook.enabled_labels
        ],
        "relationTypes": [
            {
                "id": rt.id,
                "name": rt.name,
                "hotkey": rt.hotkey,
                "from": rt.from_label_id,
                "to": rt.to_label_id,
            }
            for rt in codebook.relation_types
        ],
    }
    if shown is not None:
        # Every suggestion not rejected, also those a span hides now: deleting the span
        # brings its suggestion back in the re-rendered chunk.
        config["suggestions"] = [s.as_client() for s in shown]
        config["urls"]["rejectSuggestion"] = reverse("suggestion-reject", args=[document.pk])
    return config


@login_required
@require_GET
def coding_screen(request, document_id: int):
    document, assignment = access.get_document_for_coding(request.user, document_id)
    codebook = get_codebook(document.project)
    spans = _listed_spans(document, request.user)
    spans_by_id = {span.id: span for span in spans}
    relations = _listed_relations(document, request.user)
    selected = None
    if selected_id := request.GET.get("span"):
        selected = next((s for s in spans if str(s.pk) == selected_id), None)
        if selected is not None:
            selected = access.get_annotation_for_coder(request.user, selected.pk)
    shown = None
    if document.project.suggestions_enabled:
        shown = suggested.suggestions_for_coder(document, request.user, codebook)
    visible = suggested.without_overlaps(shown or [], [(s.start, s.end) for s in spans])
    context = {
        "project": document.project,
        "document": document,
        "codebook": codebook,
        "article": render_text(
            document.text,
            _render_spans(codebook, [(s.id, s.label_id, s.start, s.end) for s in spans]),
            _render_suggestions(visible),
        ),
        "groups": _span_groups(codebook, spans),
        "relations": _relation_rows(codebook, relations, spans_by_id),
        "span_total": len(spans),
        "suggestions_on": shown is not None,
        "client_config": _client_config(document, codebook, shown),
        "assignment": assignment,
        "checks": None,  # the section fetches itself once the page is up
        **_panel_context(document, request.user, codebook, selected),
    }
    return render(request, TEMPLATE, context)


def _form_attributes(request) -> dict:
    """Attributes from a form: `attr-NAME` fields (several values for a multi-valued one)."""
    attributes: dict = {}
    for key in request.POST:
        if key.startswith("attr-"):
            values = request.POST.getlist(key)
            attributes[key[5:]] = values if key.endswith("[]") else values[-1]
    return {k.removesuffix("[]"): v for k, v in attributes.items()}


def _error_text(error: ValidationError) -> list[str]:
    if hasattr(error, "message_dict"):
        return [
            f"{field}: {message}"
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    return list(error.messages)


# Fragments answering a change. The Checks section reads every span and link of the coder,
# so recomputing it inside the answer would make each save cost more as the document fills
# up; instead the answer fires `checks-changed` and the section fetches itself (checks_view),
# after "Saved" is already on screen.
_CHANGED_BLOCKS = frozenset({"created", "panel-saved", "deleted", "refresh"})
CHECKS_CHANGED = "checks-changed"


def _checks_context(document, coder) -> dict:
    return {
        "checks": checks.coder_findings(document, coder),
        "blocking_checks": document.project.blocking_checks,
    }


def _fragment(request, block: str, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, f"{TEMPLATE}#{block}", context, status=status)
    if block in _CHANGED_BLOCKS and status < 400:
        trigger_client_event(response, CHECKS_CHANGED)
    return response


@login_required
@require_GET
def checks_view(request, document_id: int):
    """The Checks section of the coder's own work, re-read after each change."""
    document, _ = access.get_document_for_coding(request.user, document_id)
    context = {"document": document, **_checks_context(document, request.user)}
    return render(request, f"{TEMPLATE}#checks", context)


@login_required
@require_POST
def span_create_view(request, document_id: int):
    document, assignment = access.get_document_for_coding(request.user, document_id, write=True)
    codebook = get_codebook(document.project)
    attributes = request.POST.get("attributes")
    try:
        with transaction.atomic():
            services.assignment_take(document=document, coder=request.user, current=assignment)
            span, created = services.span_create(
                document=document,
                coder=request.user,
                label=request.POST.get("label"),
                start=request.POST.get("start"),
                end=request.POST.get("end"),
                text=request.POST.get("text"),
                attributes=json.loads(attributes) if attributes else None,
                client_id=request.POST.get("client_id") or None,
            )
    except ValidationError as error:
        return _fragment(
            request,
            "error",
            {"errors": _error_text(error), "action": "Span not created"},
            status=422,
        )
    except json.JSONDecodeError:
        return _fragment(
            request,
            "error",
            {"errors": ["attributes: not valid JSON"], "action": "Span not created"},
            status=422,
        )
    # `span` is the coder's own, just written or found by its client_id: no second lookup.
    span.document = document
    context = _panel_context(
        document, request.user, codebook, span, saved_at=timezone.now(), created=created
    )
    context["chunks"] = _chunk_html(document, request.user, codebook, span.start, span.end)
    context.update(_counts(document, request.user, span.label_id))
    context["item"] = span_item_html(span)
    if not created:
        # A retry whose first answer was lost: the list may lack the span, so send it whole.
        label_spans = _own_spans(document, request.user).filter(label_id=span.label_id)
        context["label_items"] = mark_safe(  # noqa: S308 - built by span_item_html
            "".join(span_item_html(s) for s in label_spans.only("id", "text"))
        )
    response = _fragment(request, "created", context, status=201 if created else 200)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def span_panel(request, span_id: int):
    span = access.get_annotation_for_coder(request.user, span_id)
    document = span.document
    if request.method == "GET" and not request.htmx:
        return redirect(f"{reverse('coding', args=[document.pk])}?span={span.pk}")
    codebook = get_codebook(document.project)
    if request.method == "GET":
        return _fragment(request, "panel", _panel_context(document, request.user, codebook, span))
    old_label_id = span.label_id
    submitted = _form_attributes(request)
    assignment = access.coding_assignment(request.user, document, write=True)
    try:
        with transaction.atomic():
            services.assignment_take(document=document, coder=request.user, current=assignment)
            services.span_update(
                annotation=span,
                coder=request.user,
                version=request.POST.get("version"),
                label=request.POST.get("label") or None,
                attributes=submitted,
            )
    except services.ConflictError as conflict:
        fresh = Annotation.objects.filter(pk=span.pk, deleted_at__isnull=True).first()
        context = _panel_context(
            document,
            request.user,
            codebook,
            fresh and access.get_annotation_for_coder(request.user, span.pk),
            conflict=str(conflict),
        )
        return _fragment(request, "panel", context, status=409)
    except ValidationError as error:
        context = _panel_context(
            document, request.user, codebook, span, errors=_error_text(error), submitted=submitted
        )
        return _fragment(request, "panel", context, status=422)
    context = _panel_context(document, request.user, codebook, span, saved_at=timezone.now())
    if span.label_id != old_label_id:
        context["chunks"] = _chunk_html(document, request.user, codebook, span.start, span.end)
        context["relabelled"] = True
    return _fragment(request, "panel-saved", context)


@login_required
@require_POST
def span_delete_view(request, span_id: int):
    span = access.get_annotation_for_coder(request.user, span_id)
    document = span.document
    codebook = get_codebook(document.project)
    assignment = access.coding_assignment(request.user, document, write=True)
    try:
        with transaction.atomic():
            services.assignment_take(document=document, coder=request.user, current=assignment)
            services.span_delete(
                annotation=span, coder=request.user, version=request.POST.get("version")
            )
    except services.ConflictError as conflict:
        return _fragment(
            request, "error", {"errors": [str(conflict)], "action": "Span not deleted"}, status=409
        )
    except ValidationError as error:
        return _fragment(
            request,
            "error",
            {"errors": _error_text(error), "action": "Span not deleted"},
            status=422,
        )
    context = {
        "document": document,
        "codebook": codebook,
        "deleted": span,
        "chunks": _chunk_html(document, request.user, codebook, span.start, span.end),
        **_counts(document, request.user, span.label_id),
        "relation_ids": list(
            Relation.objects.filter(document=document, coder=request.user, deleted_at__isnull=False)
            .filter(source=span)
            .values_list("id", flat=True)
        )
        + list(
            Relation.objects.filter(document=document, coder=request.user, deleted_at__isnull=False)
            .filter(target=span)
            .values_list("id", flat=True)
        ),
    }
    return _fragment(request, "deleted", context)


@login_required
@require_POST
def relation_create_view(request, document_id: int):
    document, assignment = access.get_document_for_coding(request.user, document_id, write=True)
    codebook = get_codebook(document.project)
    try:
        with transaction.atomic():
            services.assignment_take(document=document, coder=request.user, current=assignment)
            relation, _ = services.relation_create(
                document=document,
                coder=request.user,
                type=request.POST.get("type"),
                source_id=request.POST.get("source"),
                target_id=request.POST.get("target"),
                client_id=request.POST.get("client_id") or None,
            )
    except ValidationError as error:
        return _fragment(
            request,
            "error",
            {"errors": _error_text(error), "action": "Link not created"},
            status=422,
        )
    source = access.get_annotation_for_coder(request.user, relation.source_id)
    return _sidebar_refresh(request, document, codebook, source, saved_at=timezone.now())


@login_required
@require_POST
def relation_delete_view(request, relation_id: int):
    relation = access.get_relation_for_coder(request.user, relation_id)
    document = relation.document
    codebook = get_codebook(document.project)
    assignment = access.coding_assignment(request.user, document, write=True)
    try:
        with transaction.atomic():
            services.assignment_take(document=document, coder=request.user, current=assignment)
            services.relation_delete(relation=relation, coder=request.user)
    except ValidationError as error:
        return _fragment(
            request,
            "error",
            {"errors": _error_text(error), "action": "Link not deleted"},
            status=422,
        )
    source = Annotation.objects.alive().filter(pk=relation.source_id).first()
    if source is not None:
        source = access.get_annotation_for_coder(request.user, source.pk)
    return _sidebar_refresh(request, document, codebook, source, saved_at=timezone.now())


def _sidebar_refresh(request, document, codebook, span, **extra) -> HttpResponse:
    """Panel plus the whole side list and links: for rarer actions (links, undo)."""
    spans = _listed_spans(document, request.user)
    relations = _listed_relations(document, request.user)
    context = _panel_context(document, request.user, codebook, span, **extra)
    context.update(
        groups=_span_groups(codebook, spans),
        relations=_relation_rows(codebook, relations, {s.id: s for s in spans}),
        span_total=len(spans),
        refresh_sidebar=True,
    )
    return _fragment(request, "refresh", context)


@login_required
@require_POST
def undo_view(request, document_id: int):
    document, assignment = access.get_document_for_coding(request.user, document_id, write=True)
    codebook = get_codebook(document.project)
    try:
        with transaction.atomic():
            services.assignment_take(document=document, coder=request.user, current=assignment)
            event = services.undo_last(document=document, coder=request.user)
    except ValidationError as error:
        return _fragment(
            request, "error", {"errors": _error_text(error), "action": "Undo"}, status=422
        )
    span = None
    if event.object_type == "annotation":
        span_id = event.object_id
    else:
        span_id = (
            Relation.objects.filter(pk=event.object_id).values_list("source_id", flat=True).first()
        )
    span = Annotation.objects.alive().filter(pk=span_id, coder=request.user).first()
    if span is not None:
        span = access.get_annotation_for_coder(request.user, span.pk)
    context_extra = {"undone": event.action}
    affected = Annotation.objects.filter(pk=span_id).values_list("start", "end").first()
    response = _sidebar_refresh(request, document, codebook, span, **context_extra)
    if affected:
        chunk_html = "".join(_chunk_html(document, request.user, codebook, *affected))
        response.content += chunk_html.encode()
    return response


@login_required
@require_POST
def suggestion_reject_view(request, document_id: int):
    """Delete on a suggestion: remember the no, and redraw the chunks without it."""
    document, assignment = access.get_document_for_coding(request.user, document_id, write=True)
    codebook = get_codebook(document.project)
    values = {key: request.POST.get(key) for key in ("start", "end", "label")}
    if not document.project.suggestions_enabled:
        return _fragment(
            request,
            "error",
            {"errors": ["suggestions are off in this project"], "action": "Not rejected"},
            status=422,
        )
    try:
        with transaction.atomic():
            services.assignment_take(document=document, coder=request.user, current=assignment)
            rejection = suggested.suggestion_reject(
                document=document, coder=request.user, codebook=codebook, **values
            )
    except ValidationError as error:
        return _fragment(
            request, "error", {"errors": _error_text(error), "action": "Not rejected"}, status=422
        )
    if not request.htmx:
        return redirect("coding", document.pk)
    context = {
        "document": document,
        "rejected": rejection,
        "chunks": _chunk_html(document, request.user, codebook, rejection.start, rejection.end),
    }
    return _fragment(request, "suggestion-rejected", context)


@login_required
@require_GET
def codebook_css(request, project_id: int):
    """Label colours as CSS classes, so the page needs no inline styles (CSP)."""
    project = access.get_project_for_user(request.user, project_id)
    codebook = get_codebook(project)
    rules = []
    for label in codebook.labels:
        rules.append(f".l{label.id}{{--c:{label.colour}}}")
        rules.append(f".o{label.id}{{--o:{label.colour}}}")
    response = HttpResponse("\n".join(rules), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "private, max-age=3600"
    return response
