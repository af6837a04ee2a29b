"""Adjudication: the queue of documents ready for it, and the screen where one document's
coders' versions become its gold.

Managers and adjudicators only (``access.get_*_for_adjudicator``: a 404 for everyone else, coders
included). Each decision view: the document or gold row through ``access``, one service from
``annotator.services.gold``, then ``_decided`` (htmx: out-of-band swaps of the units it touched,
the article's gold layer, the gold list and the progress bar; plain form: redirect to the unit)
or ``_refused`` (htmx: 422 + the messages in the unit's error box; plain form: the message and
a redirect). Fragments are partials of templates/annotator/adjudication/screen.html.
"""

from __future__ import annotations

from collections import Counter, defaultdict, namedtuple
from dataclasses import dataclass, field
from fractions import Fraction
from html import escape
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotator import access, reports
from annotator.agreement.adjudication import (
    RELATIONS,
    Unit,
    align,
    count_candidates,
    differing_attributes,
    disagreement,
    link_differences,
    link_signatures,
    settle,
)
from annotator.codebook import Codebook, get_codebook
from annotator.models import (
    Annotation,
    Assignment,
    AssignmentState,
    GoldRejection,
    GoldRelation,
    GoldSpan,
    Relation,
)
from annotator.services import gold as services
from annotator.text import RenderSpan, render_text

TEMPLATE = "annotator/adjudication/screen.html"
QUEUE_TEMPLATE = "annotator/adjudication/queue.html"
CONTEXT_CHARS = 40  # of article text shown either side of a unit
STATE_NAMES = {
    services.READY: "ready",
    services.IN_PROGRESS: "in progress",
    services.ADJUDICATED_STATE: "adjudicated",
    services.NOT_READY_STATE: "not ready",
}
KIND_NAMES = {
    "missing": "missing",
    "label": "label",
    "boundary": "boundary",
    "extra": "extra span",
    "attributes": "attributes",
    RELATIONS: "links",
}


# --- who the coders are, as the viewer may see them -------------------------------------------


def _coder_names(request, project, user_ids) -> dict[int, str]:
    """User id -> what the viewer sees: the username, or the pseudonym the agreement report
    uses ("Coder A" ... by user id) when the project hides names from adjudicators."""
    directory = {c["id"]: c for c in reports.project_coders(project)}
    missing = sorted(set(user_ids) - set(directory))
    if missing:
        names = dict(get_user_model().objects.filter(pk__in=missing).values_list("pk", "username"))
        for user_id in missing:
            key = reports.pseudonym(len(directory))
            directory[user_id] = {"key": key, "id": user_id, "username": names.get(user_id, "")}
    show = reports.shows_coder_names(request.user, project)
    return {
        user_id: (entry["username"] or entry["key"]) if show else entry["key"]
        for user_id, entry in directory.items()
    }


# --- the queue --------------------------------------------------------------------------------


def _ready_documents(project):
    """(documents, coders by document): documents with at least k counted codings."""
    k = project.overlap_k
    coders: dict[int, list[int]] = defaultdict(list)
    if Assignment.objects.filter(project=project).exists():
        rows = Assignment.objects.filter(project=project, state=AssignmentState.SUBMITTED)
        for document_id, coder_id in rows.order_by("coder_id").values_list(
            "document_id", "coder_id"
        ):
            coders[document_id].append(coder_id)
    else:
        rows = Annotation.objects.alive().filter(document__project=project).order_by("coder_id")
        for document_id, coder_id in rows.values_list("document_id", "coder_id").distinct():
            coders[document_id].append(coder_id)
    ready = {document_id: ids for document_id, ids in coders.items() if len(ids) >= k}
    documents = project.documents.without_text().filter(pk__in=list(ready))
    return documents, ready


@login_required
@require_GET
def queue(request, project_id: int):
    """Documents ready for adjudication, least agreement first; each coder against the gold."""
    project = access.get_project_for_adjudicator(request.user, project_id)
    codebook = get_codebook(project)
    documents, coders_of = _ready_documents(project)
    names = _coder_names(request, project, {c for ids in coders_of.values() for c in ids})
    label = codebook.label_by_name(request.GET.get("label", ""))
    coder_filter = request.GET.get("coder", "")
    wanted_coder = next((uid for uid, name in names.items() if name == coder_filter), None)
    if coder_filter and wanted_coder is None:
        coders_of = {}
    elif wanted_coder is not None:
        coders_of = {d: ids for d, ids in coders_of.items() if wanted_coder in ids}
    spans: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    counts: Counter = Counter()
    rows = Annotation.objects.alive().filter(document_id__in=list(coders_of))
    if label is not None:
        rows = rows.filter(label_id=label.id)
    for document_id, coder_id, start, end, label_id in rows.values_list(
        "document_id", "coder_id", "start", "end", "label_id"
    ):
        if coder_id in coders_of[document_id]:
            spans[document_id][coder_id].append((start, end, label_id))
            counts[document_id] += 1
    entries = []
    for document in documents.filter(pk__in=list(coders_of)):
        if label is not None and not counts[document.pk]:
            continue
        ids = coders_of[document.pk]
        score = disagreement({c: spans[document.pk][c] for c in ids})
        state = services.adjudication_state(document, len(ids))
        entries.append(
            {
                "document": document,
                "state": state,
                "state_name": STATE_NAMES[state],
                "coders": [names.get(c, "?") for c in ids],
                "spans": counts[document.pk],
                "agreement": round(100 * (1 - score)),
                "sort": (
                    state == services.ADJUDICATED_STATE,
                    -score,
                    document.position,
                    document.pk,
                ),
            }
        )
    entries.sort(key=lambda e: e["sort"])
    comparison = services.gold_scores(project)
    score_rows = _score_rows(comparison, names)
    return render(
        request,
        QUEUE_TEMPLATE,
        {
            "project": project,
            "codebook": codebook,
            "entries": entries,
            "label_filter": label.name if label else "",
            "coder_filter": coder_filter if wanted_coder is not None else "",
            "coder_choices": sorted(set(names.values())),
            "scores": score_rows,
            "adjudicated_count": comparison.documents,
        },
    )


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def _score_rows(comparison, names: dict[int, str]) -> list[dict]:
    """Per coder: the overall line, then one per label."""
    by_coder: dict[int, dict] = {}
    for score in comparison.scores:
        entry = by_coder.setdefault(
            score.coder,
            {"name": names.get(score.coder, "?"), "documents": score.documents, "labels": []},
        )
        line = {
            "label": score.label,
            "precision": _percent(score.exact.precision),
            "recall": _percent(score.exact.recall),
            "f1": _percent(score.exact.f1),
            "overlap_f1": _percent(score.overlap.f1),
            "counts": f"{score.exact.tp}/{score.exact.n_reference}/{score.exact.n_predicted}",
        }
        if score.label is None:
            entry["all"] = line
        else:
            entry["labels"].append(line)
    return sorted(by_coder.values(), key=lambda e: e["name"])


# --- the screen: building what it shows ---------------------------------------------------------


# The coders' rows as plain tuples: hundreds of them per screen, and model instances of
# deferred fields cost several times more to build.
CodedSpan = namedtuple("CodedSpan", "pk coder_id label_id start end text attributes")
CodedLink = namedtuple("CodedLink", "pk coder_id type_id source_id target_id")


@dataclass
class Screen:
    """Everything read for one document's adjudication: eight queries however many spans."""

    document: Any
    codebook: Codebook
    coders: list[int]
    names: dict[int, str]
    spans: dict[int, CodedSpan]
    relations: list[CodedLink]
    gold: list[GoldSpan]
    gold_relations: list[GoldRelation]
    rejections: list[GoldRejection]
    units: list[Unit] = field(default_factory=list)
    # Indexes the unit cards share, filled by _prepare.
    status: dict = field(default_factory=dict)
    gold_by_id: dict = field(default_factory=dict)
    gold_views: dict = field(default_factory=dict)
    unit_of: dict = field(default_factory=dict)
    unit_numbers: dict = field(default_factory=dict)
    links_of: dict = field(default_factory=dict)
    gold_relation_keys: set = field(default_factory=set)
    gold_relation_sources: set = field(default_factory=set)
    rejection_of: dict = field(default_factory=dict)
    gold_links_from: dict = field(default_factory=dict)
    urls: dict = field(default_factory=dict)

    @property
    def state(self) -> str:
        return services.adjudication_state(self.document, len(self.coders))


def _read(request, document) -> Screen:
    project = document.project
    coders = services.document_coders(document)
    spans = {
        row[0]: CodedSpan(*row)
        for row in services.coder_spans(document, coders).values_list(
            "id", "coder_id", "label_id", "start", "end", "text", "attributes"
        )
    }
    relations = [
        CodedLink(*row)
        for row in Relation.objects.for_document(document)
        .alive()
        .filter(coder_id__in=coders)
        .values_list("id", "coder_id", "type_id", "source_id", "target_id")
    ]
    screen = Screen(
        document=document,
        codebook=get_codebook(project),
        coders=coders,
        names=_coder_names(request, project, coders),
        spans=spans,
        relations=relations,
        gold=list(GoldSpan.objects.for_document(document).alive()),
        gold_relations=list(GoldRelation.objects.for_document(document).alive()),
        rejections=list(GoldRejection.objects.for_document(document).alive()),
    )
    screen.units = align(services.versions(spans.values()), coders)
    return screen


def _aligned_html(text: str, unit: Unit, versions) -> str:
    """The unit's stretch of text with one coder's spans marked, so that boundaries line up
    row under row. Every piece of text is escaped here; this builds the only markup."""
    cuts = sorted({unit.start, unit.end, *(v.start for v in versions), *(v.end for v in versions)})
    parts = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        piece = escape(text[start:end], quote=False)
        covering = [v for v in versions if v.start <= start and v.end >= end]
        if covering:
            inner = min(covering, key=lambda v: v.end - v.start)
            parts.append(f'<mark class="ann l{inner.label}">{piece}</mark>')
        else:
            parts.append(piece)
    return "".join(parts)


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _versions_html(rows: list[dict], link_accept_url: str, locked: bool) -> str:
    """The rows of a unit card: each coder's version (the text with their spans marked, label,
    offsets, attributes, links) and its Accept button.

    Built here rather than in the template because it is the screen's hot loop (200 units x k
    coders, a dozen values each), where the template engine's per-node cost alone took the
    page past its time budget. As in text.render_chunk, every piece of data goes through
    html.escape and this function builds the only markup, so marking the result safe is sound.
    """
    out = []
    for row in rows:
        name = escape(row["name"])
        out.append(
            f'<tr class="version{"" if row["spans"] else " missing"}">'
            f'<th scope="row"><kbd>{escape(str(row["number"]))}</kbd> {name}</th>'
            f'<td class="aligned">{row["aligned"]}</td><td class="detail">'
        )
        for span in row["spans"]:
            out.append(
                f'<div class="coded"><span class="tag l{span["label_id"]}'
                f'{" differs" if span["label_differs"] else ""}">{escape(span["label"])}</span> '
                f'<span class="offsets{" differs" if span["bounds_differ"] else ""}">'
                f"[{span['start']}, {span['end']})</span> "
            )
            for attribute in span["attributes"]:
                out.append(
                    f'<span class="chip{" differs" if attribute["differs"] else ""}">'
                    f"{escape(attribute['name'])}: {escape(attribute['value'])}</span>"
                )
            for link in span["links"]:
                kind = escape(link["type"])
                arrow = f"{kind} → " if link["direction"] == "out" else f"← {kind} "
                out.append(
                    f'<span class="chip link{" differs" if link["differs"] else ""}">{arrow}'
                    f'<a href="#unit-{link["other_key"]}">#{link["other_unit"]}</a> '
                    f"{escape(link['other'])}"
                )
                if link["in_gold"]:
                    out.append(' <span class="in-gold" title="in the gold">✓</span>')
                elif link["acceptable"] and not locked:
                    out.append(
                        f' <button type="submit" formaction="{escape(link_accept_url)}" '
                        f'name="relations" value="{link["id"]}" class="link">accept link</button>'
                    )
                out.append("</span>")
            out.append("</div>")
        if not row["spans"]:
            out.append('<span class="muted">nothing marked</span>')
        out.append('</td><td class="act">')
        if row["spans"] and not locked:
            out.append(
                f'<button type="submit" name="annotations" value="{row["ids"]}" '
                f'data-keys="{row["keys"]}" class="accept" '
                f'title="Accept {name}&#x27;s version ({escape(str(row["number"]))})">Accept</button>'
            )
        out.append("</td></tr>")
    return "".join(out)


def _unit_card_html(unit: dict, urls: dict, csrf_token: str, *, locked: bool, oob: bool) -> str:
    """One unit's card: its stretch of text, what the coders disagree on, their versions (see
    _versions_html), the decision form (Accept per coder, Reject, Edit, a note) and the gold
    over it. The page and the out-of-band answers of a decision both use it.

    Built here, not in screen.html, for the same reason as _versions_html: 200 cards a page
    put the template engine's per-node cost over the screen's budget. Every value is escaped
    (or an int, or built by the escaping helpers), and this function builds the only markup.
    """
    key = unit["key"]
    e = escape
    kinds = "".join(f'<span class="badge kind">{e(kind)}</span>' for kind in unit["kinds"])
    if unit["agreed"]:
        kinds = '<span class="badge agreed">agreed</span>' + kinds
    swap = ' hx-swap-oob="true"' if oob else ""
    out = [
        f'<article id="unit-{key}" class="unit {unit["status"]}{" agreed" if unit["agreed"] else ""}"'
        f' data-start="{unit["start"]}" data-end="{unit["end"]}" tabindex="-1"'
        f' aria-label="Unit {unit["number"]}"{swap}>'
        f'<header class="unit-head"><a class="unit-number" href="#unit-{key}">#{unit["number"]}</a>'
        f'<q class="unit-quote"><span class="ctx">{e(unit["before"])}</span>'
        f'<b>{e(unit["quote"])}</b><span class="ctx">{e(unit["after"])}</span></q>'
        f'<span class="badges"><span class="badge state-{unit["status"]}">{e(unit["status_text"])}'
        f"</span>{kinds}"
        f"</span></header>"
        f'<form method="post" action="{e(urls["accept"])}" hx-post="{e(urls["accept"])}"'
        f' hx-swap="none" class="decide">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{e(csrf_token)}">'
        f'<input type="hidden" name="unit" value="{key}">'
        f'<table class="versions">{unit["versions_html"]}</table>'
    ]
    if not locked:
        if unit["gold"]:
            first = unit["gold"][0]
            edit = (
                f'<a class="button" data-key="e" href="?edit={first["span"].pk}#editor"'
                f' hx-get="{e(first["edit_url"])}" hx-target="#editor" hx-swap="innerHTML">'
                "Edit gold <kbd>e</kbd></a>"
            )
        else:
            edit = (
                f'<a class="button" data-key="e" href="?draft={key}#editor"'
                f' hx-get="{e(urls["draft"])}?unit={key}" hx-target="#editor" hx-swap="innerHTML">'
                "Edit… <kbd>e</kbd></a>"
            )
        out.append(
            '<div class="decide-row"><input type="text" name="note" maxlength="1000" class="note"'
            ' placeholder="note: why (optional, kept with the decision)"'
            f' aria-label="Note for the decision on unit {unit["number"]}">'
            f'<button type="submit" formaction="{e(urls["reject"])}" name="annotations"'
            f' value="{unit["all_ids"]}" data-key="x" class="danger"'
            ' title="None of these belong in the gold (x)">Reject <kbd>x</kbd></button>'
            f"{edit}</div>"
        )
    out.append("</form>")
    if unit["gold"]:
        out.append('<ul class="unit-gold" aria-label="Gold here">')
        for item in unit["gold"]:
            span = item["span"]
            review = ' <span class="badge review">review</span>' if span.needs_review else ""
            note = f' · <span class="note">{e(item["short_note"])}</span>' if span.note else ""
            out.append(
                f'<li><span class="tag l{span.label_id}">{e(item["label"])}</span> '
                f'<q>{e(item["short"])}</q> <span class="muted">{e(item["provenance"])}</span>'
                f"{review}{note}</li>"
            )
        out.append("</ul>")
    elif unit["status"] == "rejected":
        note = unit["rejection"].note if unit["rejection"] else ""
        out.append(f'<p class="unit-rejected">Rejected{f": {e(note)}" if note else ""}</p>')
    out.append(f'<div id="unit-{key}-errors" class="unit-errors" role="alert"></div></article>')
    return "".join(out)


def _gold_item_html(item: dict, csrf_token: str, *, locked: bool) -> str:
    """One gold span in the gold list, with its provenance, attributes, note and links.
    Built here for the reason given in _unit_card_html; every value is escaped."""
    e = escape
    span = item["span"]
    out = [
        f'<li id="gold-{span.pk}" class="gold-item origin-{e(span.origin)}'
        f'{" review" if span.needs_review else ""}"><div class="gold-line">'
        f'<span class="tag l{span.label_id}">{e(item["label"])}</span> <q>{e(item["short"])}</q> '
        f'<span class="offsets muted">[{span.start}, {span.end})</span>'
    ]
    if span.needs_review:
        out.append(' <span class="badge review">review</span>')
    if not locked:
        out.append(
            f' <a class="button small" href="?edit={span.pk}#editor" hx-get="{e(item["edit_url"])}"'
            ' hx-target="#editor">Edit</a>'
        )
    out.append(f'</div><p class="provenance muted">{e(item["provenance"])}</p>')
    if item["attributes_text"]:
        out.append(f'<p class="attributes-line">{e(item["attributes_text"])}</p>')
    if span.note:
        out.append(f'<p class="note">{e(span.note).replace(chr(10), "<br>")}</p>')
    for link in item["links"]:
        out.append(
            f'<div class="gold-link"><span class="rel-type">{e(link["type"])}</span> → '
            f'<a href="#gold-{link["target_id"]}">{e(link["target_short"])}</a>'
        )
        if not locked:
            url = e(link["delete_url"])
            out.append(
                f' <form method="post" action="{url}" hx-post="{url}" hx-swap="none" class="inline">'
                f'<input type="hidden" name="csrfmiddlewaretoken" value="{e(csrf_token)}">'
                f'<button type="submit" class="link danger" aria-label="Remove link '
                f'{e(link["type"])}">remove</button></form>'
            )
        out.append("</div>")
    out.append("</li>")
    return "".join(out)


def _majority(counts: Counter):
    """The value most versions share, if one does; None on a tie (then every version differs)."""
    ranked = counts.most_common(2)
    if len(ranked) == 2 and ranked[0][1] == ranked[1][1]:
        return None
    return ranked[0][0]


def _unit_view(screen: Screen, unit: Unit, number: int, status, signatures, gold_of) -> dict:
    codebook = screen.codebook
    text = screen.document.text
    labels = Counter(v.label for v in unit.spans)
    bounds = Counter((v.start, v.end) for v in unit.spans)
    common_label, common_bounds = _majority(labels), _majority(bounds)
    attribute_diffs = differing_attributes(unit.spans)
    link_diffs = link_differences(unit, signatures.get(unit.key, {}))
    kinds = set(unit.disagreements(attribute_diffs))
    if link_diffs:
        kinds.add(RELATIONS)
    by_coder: dict[int, list] = defaultdict(list)
    for version in unit.spans:
        by_coder[version.coder].append(version)
    # Every coder made the same span with the same attributes and links: one row says it, so
    # the other coders' rows are not built at all (most units of a settled document).
    collapse = unit.agreed and not kinds and len(screen.coders) > 1
    rows = []
    for index, coder in enumerate(screen.coders[:1] if collapse else screen.coders):
        versions = by_coder.get(coder, ())
        spans = []
        for version in versions:
            label = codebook.label_by_id(version.label)
            differing = attribute_diffs.get(version.key, frozenset())
            spans.append(
                {
                    "id": version.id,
                    "label_id": version.label,
                    "label": label.name if label else "?",
                    "start": version.start,
                    "end": version.end,
                    "label_differs": len(labels) > 1 and version.label != common_label,
                    "bounds_differ": len(bounds) > 1
                    and (version.start, version.end) != common_bounds,
                    "attributes": [
                        {"name": name, "value": _value(value), "differs": name in differing}
                        for name, value in version.attributes.items()
                    ],
                    "links": [
                        _link_view(screen, unit, direction, relation, link_diffs, gold_of)
                        for direction, relation in screen.links_of.get(version.id, ())
                    ],
                }
            )
        rows.append(
            {
                "number": index + 1,
                "keys": str(index + 1),
                "name": screen.names.get(coder, "?"),
                "spans": spans,
                "ids": " ".join(str(v.id) for v in versions),
                "aligned": mark_safe(_aligned_html(text, unit, versions)),  # noqa: S308 - escaped
            }
        )
    if collapse:
        count = len(screen.coders)
        rows = [
            {
                **rows[0],
                "name": f"All {count} coders",
                "number": f"1–{count}",
                "keys": " ".join(str(number) for number in range(1, count + 1)),
            }
        ]
    gold = [screen.gold_by_id[pk] for pk in status.gold]
    return {
        "key": unit.key,
        "number": number,
        "start": unit.start,
        "end": unit.end,
        "before": text[max(0, unit.start - CONTEXT_CHARS) : unit.start],
        "quote": text[unit.start : unit.end],
        "after": text[unit.end : unit.end + CONTEXT_CHARS],
        "status": status.status,
        "status_text": {"gold": "in gold"}.get(status.status, status.status),
        "agreed": unit.agreed,
        "kinds": [
            KIND_NAMES[k]
            for k in ("missing", "label", "boundary", "extra", "attributes", RELATIONS)
            if k in kinds
        ],
        "rows": rows,
        "versions_html": _versions_html(
            rows, screen.urls["link_accept"], screen.state == services.ADJUDICATED_STATE
        ),
        "all_ids": " ".join(str(v.id) for v in unit.spans),
        "gold": [screen.gold_views[g.pk] for g in gold],
        "rejection": screen.rejection_of.get(unit.key),
    }


def _link_view(screen: Screen, unit: Unit, direction, relation, link_diffs, gold_of) -> dict:
    rtype = screen.codebook.relation_type_by_id(relation.type_id)
    other_id = relation.target_id if direction == "out" else relation.source_id
    other = screen.spans.get(other_id)
    other_unit = screen.unit_of.get(other_id)
    signature = (direction, relation.type_id, other_unit)
    source, target = gold_of.get(relation.source_id), gold_of.get(relation.target_id)
    in_gold = relation.pk in screen.gold_relation_sources or (
        source is not None
        and target is not None
        and (relation.type_id, source.pk, target.pk) in screen.gold_relation_keys
    )
    return {
        "id": relation.pk,
        "direction": direction,
        "type": rtype.name if rtype else "?",
        "other": _short(other.text, 30) if other else "?",
        "other_unit": screen.unit_numbers.get(other_unit),
        "other_key": other_unit,
        "differs": signature in link_diffs,
        "in_gold": in_gold,
        "acceptable": not in_gold and source is not None and target is not None,
    }


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _with_id(pattern: str, pk: int) -> str:
    """A URL reversed once with id 0 (see _urls), for another id: no reverse() per row."""
    return pattern.replace("/0/", f"/{pk}/", 1)


def _gold_view(screen: Screen, span: GoldSpan) -> dict:
    codebook = screen.codebook
    label = codebook.label_by_id(span.label_id)
    coders = sorted(
        {screen.spans[pk].coder_id for pk in span.source_annotations if pk in screen.spans},
        key=screen.coders.index,
    )
    links = []
    for relation in screen.gold_links_from.get(span.pk, ()):
        target = screen.gold_by_id.get(relation.target_id)
        links.append(
            {
                "relation": relation,
                "type": getattr(codebook.relation_type_by_id(relation.type_id), "name", "?"),
                "target_id": relation.target_id,
                "target_short": _short(target.text, 40) if target else "?",
                "delete_url": _with_id(screen.urls["gold_link_delete"], relation.pk),
            }
        )
    return {
        "span": span,
        "label": label.name if label else "?",
        "short": _short(span.text, 80),
        "short_note": _short(span.note, 120),
        "provenance": (
            f"{span.origin} from {', '.join(screen.names.get(c, '?') for c in coders)}"
            if coders
            else f"{span.origin} by the adjudicator"
        ),
        "attributes_text": " · ".join(f"{k}: {_value(v)}" for k, v in span.attributes.items()),
        "links": links,
        "edit_url": _with_id(screen.urls["gold_edit"], span.pk),
    }


def _urls(document) -> dict[str, str]:
    """Every URL the page repeats, reversed once."""
    names = {
        "accept": "adjudicate-accept",
        "reject": "adjudicate-reject",
        "add": "adjudicate-add",
        "draft": "adjudicate-draft",
        "agreed": "adjudicate-agreed",
        "majority": "adjudicate-majority",
        "link_accept": "adjudicate-link-accept",
        "link_add": "adjudicate-link-add",
        "start": "adjudicate-start",
        "complete": "adjudicate-complete",
        "reopen": "adjudicate-reopen",
    }
    urls = {key: reverse(name, args=[document.pk]) for key, name in names.items()}
    urls["gold_edit"] = reverse("gold-edit", args=[0])
    urls["gold_link_delete"] = reverse("gold-link-delete", args=[0])
    return urls


def _prepare(screen: Screen) -> None:
    """Indexes the unit cards share (computed once per request)."""
    screen.urls = _urls(screen.document)
    screen.gold_by_id = {g.pk: g for g in screen.gold}
    screen.gold_links_from = defaultdict(list)
    for relation in screen.gold_relations:
        screen.gold_links_from[relation.source_id].append(relation)
    screen.unit_of = {v.id: u.key for u in screen.units for v in u.spans}
    screen.unit_numbers = {u.key: n for n, u in enumerate(screen.units, start=1)}
    screen.links_of = defaultdict(list)
    for relation in screen.relations:
        screen.links_of[relation.source_id].append(("out", relation))
        screen.links_of[relation.target_id].append(("in", relation))
    screen.gold_relation_keys = {
        (r.type_id, r.source_id, r.target_id) for r in screen.gold_relations
    }
    screen.gold_relation_sources = {pk for r in screen.gold_relations for pk in r.source_relations}
    screen.gold_views = {g.pk: _gold_view(screen, g) for g in screen.gold}
    screen.status = settle(
        screen.units,
        [(g.pk, g.start, g.end) for g in screen.gold],
        [pk for r in screen.rejections for pk in r.annotations],
    )
    screen.rejection_of = {}
    for rejection in screen.rejections:
        ids = set(rejection.annotations)
        for unit in screen.units:
            if unit.ids & ids:
                screen.rejection_of[unit.key] = rejection


def _gold_of(screen: Screen) -> dict[int, GoldSpan]:
    gold_of = {}
    for span in screen.gold:
        for pk in span.source_annotations:
            gold_of[pk] = span
    return gold_of


def _units(request, screen: Screen, keys=None, *, oob: bool = False) -> list[SafeString]:
    """The unit cards' HTML (all, or those whose key is in ``keys``)."""
    signatures = link_signatures(screen.units, services.links(screen.relations))
    gold_of = _gold_of(screen)
    csrf_token = get_token(request)
    locked = screen.state == services.ADJUDICATED_STATE
    cards = []
    for number, unit in enumerate(screen.units, start=1):
        if keys is None or unit.key in keys:
            view = _unit_view(screen, unit, number, screen.status[unit.key], signatures, gold_of)
            html = _unit_card_html(view, screen.urls, csrf_token, locked=locked, oob=oob)
            cards.append(mark_safe(html))  # noqa: S308 - _unit_card_html escapes every value
    return cards


def _progress(screen: Screen) -> dict:
    open_units = [u for u in screen.units if screen.status[u.key].status == "open"]
    n = len(screen.coders)
    # Shares above one half: 2 of 3, 3 of 3; 3 of 4, 4 of 4; ...
    choices = [Fraction(c, n) for c in range(n // 2 + 1, n + 1)] if n else []
    threshold = choices[0] if choices else Fraction(1)
    counts = count_candidates(open_units, {*choices, Fraction(1)})
    return {
        "state": screen.state,
        "state_name": STATE_NAMES[screen.state],
        "total": len(screen.units),
        "open": len(open_units),
        "settled": len(screen.units) - len(open_units),
        "gold": len(screen.gold),
        "review": sum(1 for g in screen.gold if g.needs_review),
        "agreed": counts[Fraction(1)],
        "majority": counts[threshold],
        "threshold": f"{threshold.numerator}/{threshold.denominator}",
        "thresholds": [
            {
                "value": f"{c.numerator}/{c.denominator}",
                "text": f"{c.numerator} of {n} coders ({counts[c]} spans)",
            }
            for c in choices
        ],
    }


def _article(screen: Screen):
    names = {label.id: label.name for label in screen.codebook.labels}
    return render_text(
        screen.document.text,
        [
            RenderSpan(
                id=g.pk,
                label_id=g.label_id,
                label_name=names.get(g.label_id, "?"),
                start=g.start,
                end=g.end,
            )
            for g in screen.gold
        ],
    )


def _gold_list(request, screen: Screen) -> dict:
    csrf_token = get_token(request)
    locked = screen.state == services.ADJUDICATED_STATE
    items = [screen.gold_views[g.pk] for g in screen.gold]
    for item in items:
        item["html"] = mark_safe(_gold_item_html(item, csrf_token, locked=locked))  # noqa: S308
    return {
        "gold_items": items,
        # Both link selects list every gold span: built once, escaped here (a long document
        # has hundreds, and the template engine would build them twice).
        "gold_options": mark_safe(  # noqa: S308 - the label and quote are escaped, ids are integers
            "".join(
                f'<option value="{i["span"].pk}">'
                f"{escape(i['label'] + ': ' + _short(i['span'].text, 40))}</option>"
                for i in items
            )
        ),
        "relation_types": screen.codebook.relation_types,
    }


def _base_context(request, screen: Screen) -> dict:
    document = screen.document
    return {
        "project": document.project,
        "document": document,
        "codebook": screen.codebook,
        "urls": screen.urls,
        "locked": screen.state == services.ADJUDICATED_STATE,
        "coder_names": [screen.names.get(c, "?") for c in screen.coders],
        "progress": _progress(screen),
        "article": _article(screen),
        **_gold_list(request, screen),
    }


@login_required
@require_GET
def screen(request, document_id: int):
    document = access.get_document_for_adjudicator(request.user, document_id)
    data = _read(request, document)
    _prepare(data)
    context = _base_context(request, data)
    context["units"] = _units(request, data)
    context["client_config"] = {"documentId": document.pk}
    editing = request.GET.get("edit")
    drafting = request.GET.get("draft")
    if editing:
        span = next((g for g in data.gold if str(g.pk) == editing), None)
        if span is not None:
            context["editor"] = _editor_for_gold(data, span)
    elif drafting:
        unit = next((u for u in data.units if str(u.key) == drafting), None)
        if unit is not None:
            context["editor"] = _editor_for_unit(data, unit, request.GET.get("from"))
    return render(request, TEMPLATE, context)


# --- the editor (edit a gold span; or a coder's version before it enters the gold) --------------


def _fields(label, values: dict) -> list[dict]:
    return [
        {"spec": spec, "value": values.get(spec.name), "id": f"gold-attr-{spec.name}"}
        for spec in (label.attributes if label else ())
    ]


def _editor(screen: Screen, *, label_id, start, end, attributes, note, action, **extra) -> dict:
    label = screen.codebook.label_by_id(label_id)
    return {
        "label": label,
        "start": start,
        "end": end,
        "quote": screen.document.text[start:end]
        if 0 <= start < end <= len(screen.document.text)
        else "",
        "note": note,
        "fields": _fields(label, attributes),
        "action": action,
        **extra,
    }


def _editor_for_gold(screen: Screen, span: GoldSpan, **extra) -> dict:
    return _editor(
        screen,
        label_id=span.label_id,
        start=span.start,
        end=span.end,
        attributes=span.attributes,
        note=span.note,
        action=reverse("gold-edit", args=[span.pk]),
        gold=span,
        **extra,
    )


def _editor_for_unit(screen: Screen, unit: Unit, chosen: str | None, **extra) -> dict:
    versions = [v for v in unit.spans if str(v.id) == chosen] or list(unit.spans[:1])
    version = versions[0]
    return _editor(
        screen,
        label_id=version.label,
        start=version.start,
        end=version.end,
        attributes=dict(version.attributes),
        note="",
        action=reverse("adjudicate-add", args=[screen.document.pk]),
        based_on=version.id,
        unit_key=unit.key,
        **extra,
    )


def _posted_attributes(data) -> dict:
    """Attributes from the editor: `attr-NAME` fields (several values for a multi-valued one)."""
    attributes: dict = {}
    for key in data:
        if key.startswith("attr-"):
            values = data.getlist(key)
            attributes[key[5:].removesuffix("[]")] = values if key.endswith("[]") else values[-1]
    return attributes


def _posted_editor(screen: Screen, data, **extra) -> dict:
    """The editor as the user left it (re-rendered with errors, or for another label)."""
    label = screen.codebook.label_by_name(data.get("label", ""))
    try:
        start, end = int(data.get("start", "")), int(data.get("end", ""))
    except ValueError:
        start, end = 0, 0
    context = _editor(
        screen,
        label_id=label.id if label else None,
        start=start,
        end=end,
        attributes=_posted_attributes(data),
        note=data.get("note", ""),
        **extra,
    )
    context["posted_label"] = data.get("label", "")
    return context


@login_required
@require_http_methods(["GET", "POST"])
def edit(request, gold_span_id: int):
    """GET: the editor for a gold span (htmx: the #editor fragment; else the page with it).
    POST: save it (version-checked)."""
    span = access.get_gold_span_for_adjudicator(request.user, gold_span_id)
    document = span.document
    if request.method == "GET" and not request.htmx:
        return redirect(f"{reverse('adjudicate', args=[document.pk])}?edit={span.pk}#editor")
    data = _read(request, document)
    _prepare(data)
    if request.method == "GET":
        editor = (
            _posted_editor(
                data, request.GET, action=reverse("gold-edit", args=[span.pk]), gold=span
            )
            if "label" in request.GET
            else _editor_for_gold(data, span)
        )
        return _fragment(request, "editor", _editor_context(data, editor))
    before = (span.start, span.end)
    try:
        services.gold_edit(
            adjudicator=request.user,
            gold_span=span,
            version=request.POST.get("version"),
            label=request.POST.get("label") or None,
            start=request.POST.get("start") or None,
            end=request.POST.get("end") or None,
            attributes=_posted_attributes(request.POST),
            note=request.POST.get("note", ""),
        )
    except services.GoldConflictError as conflict:
        fresh = GoldSpan.objects.alive().filter(pk=span.pk).first()
        editor = _editor_for_gold(data, fresh) if fresh else None
        return _editor_refused(request, data, editor, [str(conflict)], status=409)
    except ValidationError as error:
        editor = _posted_editor(
            data, request.POST, action=reverse("gold-edit", args=[span.pk]), gold=span
        )
        return _editor_refused(request, data, editor, _error_text(error))
    return _decided(
        request, document, ranges=[before, (span.start, span.end)], saved="Gold span saved"
    )


def _editor_context(screen: Screen, editor: dict | None, **extra) -> dict:
    return {"editor": editor, "document": screen.document, "codebook": screen.codebook, **extra}


def _editor_refused(request, screen: Screen, editor, errors, status=422):
    if not request.htmx:
        for error in errors:
            messages.error(request, error)
        return redirect(reverse("adjudicate", args=[screen.document.pk]) + "#editor")
    editor = editor and {**editor, "errors": errors}
    return _fragment(
        request, "editor", _editor_context(screen, editor, errors=errors), status=status
    )


@login_required
@require_GET
def draft(request, document_id: int):
    """The editor prefilled from a coder's version of a unit: saving adds it to the gold as
    "edited" (from that coder's span)."""
    document = access.get_document_for_adjudicator(request.user, document_id)
    if not request.htmx:
        query = f"?draft={request.GET.get('unit', '')}&from={request.GET.get('from', '')}"
        return redirect(reverse("adjudicate", args=[document.pk]) + query + "#editor")
    data = _read(request, document)
    _prepare(data)
    unit = next((u for u in data.units if str(u.key) == request.GET.get("unit")), None)
    if unit is None:
        return _fragment(request, "editor", _editor_context(data, None))
    if "label" in request.GET:
        editor = _posted_editor(
            data,
            request.GET,
            action=reverse("adjudicate-add", args=[document.pk]),
            based_on=request.GET.get("based_on"),
            unit_key=unit.key,
        )
    else:
        editor = _editor_for_unit(data, unit, request.GET.get("from"))
    return _fragment(request, "editor", _editor_context(data, editor))


# --- decisions ---------------------------------------------------------------------------------


def _error_text(error: ValidationError) -> list[str]:
    if hasattr(error, "message_dict"):
        return [
            f"{field}: {message}" if field not in ("__all__", "document") else message
            for field, messages_ in error.message_dict.items()
            for message in messages_
        ]
    return list(error.messages)


def _fragment(request, block: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, f"{TEMPLATE}#{block}", context, status=status)


def _unit_key(request) -> int | None:
    try:
        return int(request.POST.get("unit", ""))
    except ValueError:
        return None


def _refused(request, document, error: ValidationError | Exception, status: int = 422):
    errors = _error_text(error) if isinstance(error, ValidationError) else [str(error)]
    unit = _unit_key(request)
    if not request.htmx:
        for message in errors:
            messages.error(request, message)
        anchor = f"#unit-{unit}" if unit else ""
        return redirect(reverse("adjudicate", args=[document.pk]) + anchor)
    context = {"errors": errors, "unit_key": unit, "document": document}
    return _fragment(request, "refused", context, status=status)


def _ids(value: str) -> list[str]:
    return [part for part in value.replace(",", " ").split() if part]


def _decided(request, document, *, ranges=(), unit_keys=(), saved: str = "", reset_add=False):
    """After a decision. htmx: the units touching ``ranges`` (or named), the article's gold
    layer, the gold list and the progress, all out of band. Plain form: back to the unit."""
    if not request.htmx:
        if saved:
            messages.success(request, saved)
        unit = _unit_key(request)
        return redirect(
            reverse("adjudicate", args=[document.pk]) + (f"#unit-{unit}" if unit else "")
        )
    data = _read(request, document)
    _prepare(data)
    keys = set(unit_keys)
    if (unit := _unit_key(request)) is not None:
        keys.add(unit)
    for start, end in ranges:
        keys.update(u.key for u in data.units if u.start < end and u.end > start)
    context = _base_context(request, data)
    context.update(
        units=_units(request, data, keys, oob=True),
        saved=saved,
        reset_add=reset_add,
        editor_closed=True,
    )
    return _fragment(request, "decided", context)


def _gold_ranges(document, annotation_ids) -> list[tuple[int, int]]:
    return list(
        Annotation.objects.filter(document=document, pk__in=annotation_ids).values_list(
            "start", "end"
        )
    )


@login_required
@require_POST
def accept(request, document_id: int):
    """Accept a coder's version of a unit (their spans there), replacing the unit's gold."""
    document = access.get_document_for_adjudicator(request.user, document_id)
    ids = _ids(request.POST.get("annotations", ""))
    try:
        accepted = services.gold_accept(
            adjudicator=request.user,
            document=document,
            annotation_ids=ids,
            note=request.POST.get("note", ""),
            replace=True,
        )
    except ValidationError as error:
        return _refused(request, document, error)
    ranges = [(g.start, g.end) for g in accepted]
    return _decided(request, document, ranges=ranges, saved=f"Accepted {len(accepted)} span(s)")


@login_required
@require_POST
def reject(request, document_id: int):
    document = access.get_document_for_adjudicator(request.user, document_id)
    ids = _ids(request.POST.get("annotations", ""))
    try:
        services.gold_reject(
            adjudicator=request.user,
            document=document,
            annotation_ids=ids,
            note=request.POST.get("note", ""),
        )
    except ValidationError as error:
        return _refused(request, document, error)
    ranges = _gold_ranges(document, [i for i in ids if i.isdigit()])
    return _decided(request, document, ranges=ranges, saved="Rejected")


@login_required
@require_POST
def add(request, document_id: int):
    """A gold span from a text selection (or typed offsets), or from the editor's draft."""
    document = access.get_document_for_adjudicator(request.user, document_id)
    start, end = request.POST.get("start", ""), request.POST.get("end", "")
    text = request.POST.get("text")
    if not text and start.isdigit() and end.isdigit():
        # Without JavaScript the form sends offsets only: the quote is then the text there.
        text = document.text[int(start) : int(end)]
    based_on = request.POST.get("based_on") or ()
    try:
        span = services.gold_add(
            adjudicator=request.user,
            document=document,
            label=request.POST.get("label"),
            start=start,
            end=end,
            text=text,
            attributes=_posted_attributes(request.POST),
            note=request.POST.get("note", ""),
            based_on=based_on,
            replace=bool(based_on),
        )
    except ValidationError as error:
        if request.POST.get("from_editor") and request.htmx:
            data = _read(request, document)
            _prepare(data)
            editor = _posted_editor(
                data,
                request.POST,
                action=reverse("adjudicate-add", args=[document.pk]),
                based_on=request.POST.get("based_on"),
                unit_key=request.POST.get("unit"),
            )
            return _editor_refused(request, data, editor, _error_text(error))
        return _refused(request, document, error)
    return _decided(
        request, document, ranges=[(span.start, span.end)], saved="Gold span added", reset_add=True
    )


@login_required
@require_POST
def delete(request, gold_span_id: int):
    span = access.get_gold_span_for_adjudicator(request.user, gold_span_id)
    document = span.document
    try:
        services.gold_delete(
            adjudicator=request.user, gold_span=span, version=request.POST.get("version")
        )
    except ValidationError as error:
        return _refused(request, document, error)
    except services.GoldConflictError as conflict:
        return _refused(request, document, conflict, status=409)
    return _decided(request, document, ranges=[(span.start, span.end)], saved="Gold span removed")


@login_required
@require_POST
def link_accept(request, document_id: int):
    document = access.get_document_for_adjudicator(request.user, document_id)
    try:
        relations = services.gold_relation_accept(
            adjudicator=request.user,
            document=document,
            relation_ids=_ids(request.POST.get("relations", "")),
            note=request.POST.get("note", ""),
        )
    except ValidationError as error:
        return _refused(request, document, error)
    ends = GoldSpan.objects.filter(
        pk__in=[pk for r in relations for pk in (r.source_id, r.target_id)]
    ).values_list("start", "end")
    return _decided(request, document, ranges=ends, saved="Link accepted")


@login_required
@require_POST
def link_add(request, document_id: int):
    document = access.get_document_for_adjudicator(request.user, document_id)
    try:
        relation = services.gold_relation_add(
            adjudicator=request.user,
            document=document,
            type=request.POST.get("type"),
            source_id=request.POST.get("source"),
            target_id=request.POST.get("target"),
            note=request.POST.get("note", ""),
        )
    except ValidationError as error:
        return _refused(request, document, error)
    ends = GoldSpan.objects.filter(pk__in=[relation.source_id, relation.target_id])
    return _decided(request, document, ranges=ends.values_list("start", "end"), saved="Link added")


@login_required
@require_POST
def link_delete(request, gold_relation_id: int):
    relation = access.get_gold_relation_for_adjudicator(request.user, gold_relation_id)
    document = relation.document
    try:
        services.gold_relation_delete(adjudicator=request.user, gold_relation=relation)
    except ValidationError as error:
        return _refused(request, document, error)
    ends = GoldSpan.objects.filter(pk__in=[relation.source_id, relation.target_id])
    return _decided(
        request, document, ranges=ends.values_list("start", "end"), saved="Link removed"
    )


def _whole_page(request, document, message: str | None):
    """Decisions that change much of the page: post/redirect/get (htmx follows HX-Redirect)."""
    if message:
        messages.success(request, message)
    url = reverse("adjudicate", args=[document.pk])
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _refused_page(request, document, error: ValidationError):
    for message in _error_text(error):
        messages.error(request, message)
    return _whole_page(request, document, None)


@login_required
@require_POST
def accept_agreed(request, document_id: int):
    document = access.get_document_for_adjudicator(request.user, document_id)
    try:
        created = services.gold_accept_agreed(
            adjudicator=request.user, document=document, note=request.POST.get("note", "")
        )
    except ValidationError as error:
        return _refused_page(request, document, error)
    flagged = sum(1 for g in created if g.needs_review)
    message = f"Accepted {len(created)} span(s) all coders agree on"
    return _whole_page(
        request, document, message + (f"; {flagged} flagged for review" if flagged else "")
    )


@login_required
@require_POST
def accept_majority(request, document_id: int):
    document = access.get_document_for_adjudicator(request.user, document_id)
    try:
        created = services.gold_accept_majority(
            adjudicator=request.user,
            document=document,
            threshold=request.POST.get("threshold", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationError as error:
        return _refused_page(request, document, error)
    flagged = sum(1 for g in created if g.needs_review)
    message = f"Accepted {len(created)} span(s) by majority"
    return _whole_page(
        request, document, message + (f"; {flagged} flagged for review" if flagged else "")
    )


@login_required
@require_POST
def start(request, document_id: int):
    document = access.get_document_for_adjudicator(request.user, document_id)
    try:
        services.adjudication_start(adjudicator=request.user, document=document)
    except ValidationError as error:
        return _refused_page(request, document, error)
    return _whole_page(
        request, document, "Adjudication started: coders can no longer reopen this document"
    )


@login_required
@require_POST
def complete(request, document_id: int):
    document = access.get_document_for_adjudicator(request.user, document_id)
    try:
        services.adjudication_complete(
            adjudicator=request.user, document=document, note=request.POST.get("note", "")
        )
    except ValidationError as error:
        return _refused_page(request, document, error)
    return _whole_page(request, document, "Document adjudicated")


@login_required
@require_POST
def reopen(request, document_id: int):
    document = access.get_document_for_adjudicator(request.user, document_id)
    try:
        services.adjudication_reopen(
            adjudicator=request.user, document=document, note=request.POST.get("note", "")
        )
    except ValidationError as error:
        return _refused_page(request, document, error)
    return _whole_page(request, document, "Adjudication reopened")


urlpatterns = [
    path("projects/<int:project_id>/adjudication/", queue, name="adjudication-queue"),
    path("documents/<int:document_id>/adjudicate/", screen, name="adjudicate"),
    path("documents/<int:document_id>/adjudicate/accept/", accept, name="adjudicate-accept"),
    path("documents/<int:document_id>/adjudicate/reject/", reject, name="adjudicate-reject"),
    path("documents/<int:document_id>/adjudicate/add/", add, name="adjudicate-add"),
    path("documents/<int:document_id>/adjudicate/draft/", draft, name="adjudicate-draft"),
    path("documents/<int:document_id>/adjudicate/agreed/", accept_agreed, name="adjudicate-agreed"),
    path(
        "documents/<int:document_id>/adjudicate/majority/",
        accept_majority,
        name="adjudicate-majority",
    ),
    path(
        "documents/<int:document_id>/adjudicate/links/accept/",
        link_accept,
        name="adjudicate-link-accept",
    ),
    path("documents/<int:document_id>/adjudicate/links/add/", link_add, name="adjudicate-link-add"),
    path("documents/<int:document_id>/adjudicate/start/", start, name="adjudicate-start"),
    path("documents/<int:document_id>/adjudicate/complete/", complete, name="adjudicate-complete"),
    path("documents/<int:document_id>/adjudicate/reopen/", reopen, name="adjudicate-reopen"),
    path("gold/<int:gold_span_id>/edit/", edit, name="gold-edit"),
    path("gold/<int:gold_span_id>/delete/", delete, name="gold-delete"),
    path("gold-links/<int:gold_relation_id>/delete/", link_delete, name="gold-link-delete"),
]
