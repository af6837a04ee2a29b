"""The claims table of a project: every CASUALTY claim with what its links say, totals that
never add a subset to its superset, and claimed deaths per week by the source's partisanship.

Who sees what:
- managers and adjudicators: the gold of adjudicated documents (`Document.adjudicated_at`),
  and each coder's claims in the other documents, under the coder's name (a pseudonym for
  adjudicators when the project hides coder names);
- coders: their own claims only, in every document (never the gold, never another coder's);
- anyone else: 404.

The page reads its filters from GET (a plain form; htmx swaps `#claims-results`), loads the
claims with a fixed number of queries (`_load`), and hands plain data to
`annotator.formats.claims_table.claim_rows` (the links followed) and `annotator.claims.table`
(totals, the weekly chart). Rows link to the coder's own claim in the coding screen, else to a
read-only view of the claim in its article (`claim_span`, `claim_gold`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from annotator import access, reports
from annotator.claims import table
from annotator.codebook import Codebook, get_codebook
from annotator.formats import claims_table
from annotator.formats.model import Document as PlainDocument
from annotator.formats.model import Relation as PlainRelation
from annotator.formats.model import Span as PlainSpan
from annotator.models import Annotation, GoldRelation, GoldSpan, Relation
from annotator.text import RenderSpan, render_text

TEMPLATE = "annotator/claims/table.html"
CLAIM_TEMPLATE = "annotator/claims/claim.html"
CLAIM_LABEL = claims_table.CLAIM_LABEL
PER_PAGE = 50
SORTS = {
    "document": "Document",
    "-document": "Document (last first)",
    "date": "Published (oldest first)",
    "-date": "Published (newest first)",
    "-best": "Best (largest first)",
    "best": "Best (smallest first)",
}
PARTY_NAMES = {
    "party_to_conflict": "Party to the conflict",
    "aligned_with_party": "Aligned with a party",
    "independent": "Independent",
    "unknown": "Unknown",
}


@dataclass
class Claim:
    """One row of the table: the claim, its links (`row`), and where it belongs."""

    row: claims_table.ClaimRow
    figure: table.Figure
    document: dict[str, Any]
    span_id: int
    gold: bool
    coder_id: int | None
    layer_name: str = ""
    link: str = ""

    @property
    def numbers(self) -> dict[str, str]:
        f = self.figure
        return {"low": grouped(f.low), "best": grouped(f.best), "high": grouped(f.high)}


def grouped(value: int | float | None) -> str:
    """2359 -> "2,359"; None -> "" (the codebook's "no value")."""
    return "" if value is None else f"{round(value):,}"


# --- input ------------------------------------------------------------------------------------


class ClaimFilterForm(forms.Form):
    outcome = forms.ChoiceField(required=False)
    victim_status = forms.ChoiceField(required=False, label="Victim status")
    partisanship = forms.ChoiceField(required=False, label="Source partisanship")
    layer = forms.ChoiceField(required=False, label="Coder")
    published_from = forms.DateField(
        required=False, label="Published from", widget=forms.DateInput(attrs={"type": "date"})
    )
    published_to = forms.DateField(
        required=False, label="to", widget=forms.DateInput(attrs={"type": "date"})
    )
    sort = forms.ChoiceField(required=False, choices=list(SORTS.items()))

    def __init__(self, data, *, codebook: Codebook, layers: list[tuple[str, str]]):
        super().__init__(data)
        label = codebook.label_by_name(CLAIM_LABEL)

        def values(spec_label, name):
            spec = spec_label.attribute(name) if spec_label else None
            return [("", "any")] + [(str(v), str(v)) for v in (spec.values if spec else ())]

        self.fields["outcome"].choices = values(label, "outcome")
        self.fields["victim_status"].choices = values(label, "victim_status")
        self.fields["partisanship"].choices = [("", "any")] + [
            (key, name.lower()) for key, name in PARTY_NAMES.items()
        ]
        if layers:
            self.fields["layer"].choices = [("", "all")] + layers
        else:
            del self.fields["layer"]

    def clean(self):
        data = super().clean()
        start, end = data.get("published_from"), data.get("published_to")
        if start and end and start > end:
            self.add_error("published_to", "The end of the range is before its start.")
        return data


# --- the adapter: rows to plain data ------------------------------------------------------------


CLAIM_COLUMNS = ("pk", "document_id", "label_id", "start", "end", "text", "attributes")
LINK_COLUMNS = (
    "pk", "document_id", "type_id", "source_id", "target_id",
    "target__label_id", "target__start", "target__end", "target__text", "target__attributes",
)  # fmt: skip


def _load(user, project, codebook: Codebook, *, sees_all: bool) -> list[Claim]:
    """Every claim the user may see, with its links followed: five queries, however many."""
    claim_labels = [label.id for label in codebook.labels if label.name == CLAIM_LABEL]
    if not claim_labels:
        return []
    documents = {
        row["id"]: row
        for row in project.documents.without_text().values(
            "id", "title", "external_id", "outlet", "url", "published", "position", "adjudicated_at"
        )
    }
    claims = Annotation.objects.alive().filter(document__project=project, label_id__in=claim_labels)
    links = Relation.objects.alive().filter(
        document__project=project,
        source__label_id__in=claim_labels,
        source__deleted_at__isnull=True,
        target__deleted_at__isnull=True,
    )
    if sees_all:  # the coders' versions of documents not adjudicated yet
        claims = claims.filter(document__adjudicated_at__isnull=True)
        links = links.filter(document__adjudicated_at__isnull=True)
    else:  # a coder: their own, everywhere
        claims, links = claims.by_coder(user), links.by_coder(user)
    claim_rows = list(claims.order_by().values_list("coder_id", *CLAIM_COLUMNS))
    link_rows = list(links.order_by().values_list("coder_id", *LINK_COLUMNS))
    if sees_all:
        gold_claims = GoldSpan.objects.alive().filter(
            document__project=project,
            document__adjudicated_at__isnull=False,
            label_id__in=claim_labels,
        )
        gold_links = GoldRelation.objects.alive().filter(
            document__project=project,
            document__adjudicated_at__isnull=False,
            source__label_id__in=claim_labels,
            source__deleted_at__isnull=True,
            target__deleted_at__isnull=True,
        )
        claim_rows += [(table.GOLD, *r) for r in gold_claims.order_by().values_list(*CLAIM_COLUMNS)]
        link_rows += [(table.GOLD, *r) for r in gold_links.order_by().values_list(*LINK_COLUMNS)]
    return _claims(codebook, documents, claim_rows, link_rows)


def _claims(codebook: Codebook, documents: dict, claim_rows, link_rows) -> list[Claim]:
    """Rows (owner first: a coder id or GOLD) to claims, through formats' claim_rows."""
    names = {label.id: label.name for label in codebook.labels}
    types = {rt.id: rt.name for rt in codebook.relation_types}
    # (owner, document id) -> the spans by id (claims and what they link to), and the links.
    spans: dict[tuple, dict[str, PlainSpan]] = defaultdict(dict)
    links: dict[tuple, list[PlainRelation]] = defaultdict(list)
    for owner, pk, document_id, label_id, start, end, text, attributes in claim_rows:
        span = PlainSpan(str(pk), start, end, names.get(label_id, "?"), text, attributes or {})
        spans[(owner, document_id)][span.id] = span
    for owner, pk, document_id, type_id, source_id, target_id, *target in link_rows:
        label_id, start, end, text, attributes = target
        target_span = PlainSpan(
            str(target_id), start, end, names.get(label_id, "?"), text, attributes or {}
        )
        spans[(owner, document_id)].setdefault(target_span.id, target_span)
        relation = PlainRelation(str(pk), types.get(type_id, "?"), str(source_id), str(target_id))
        links[(owner, document_id)].append(relation)
    claims = []
    for (owner, document_id), by_id in spans.items():
        document = documents[document_id]
        layer = table.GOLD if owner == table.GOLD else f"c{owner}"
        published = document["published"]
        plain_document = PlainDocument(
            external_id=document["external_id"],
            text="",
            outlet=document["outlet"],
            url=document["url"],
            published=published.isoformat() if published else None,
        )
        rows = claims_table.claim_rows(
            plain_document, list(by_id.values()), links[(owner, document_id)]
        )
        for row in rows:
            numbers = by_id[row.claim_id].attributes
            parties = [p for p in row.partisanship.split(claims_table.LIST_SEPARATOR) if p]
            supersets = [i for i in row.subset_of_id.split(claims_table.LIST_SEPARATOR) if i]
            figure = table.Figure(
                id=f"{layer}:{row.claim_id}",
                layer=layer,
                document=str(document_id),
                low=_count(numbers.get("low")),
                best=_count(numbers.get("best")),
                high=_count(numbers.get("high")),
                subset_of=tuple(f"{layer}:{i}" for i in supersets),
                outcome=row.outcome,
                published=published,
                # A claim with several sources (a coding error) counts as of unknown partisanship.
                partisanship=parties[0] if len(parties) == 1 else "unknown",
            )
            claims.append(
                Claim(
                    row=row,
                    figure=figure,
                    document=document,
                    span_id=int(row.claim_id),
                    gold=owner == table.GOLD,
                    coder_id=None if owner == table.GOLD else owner,
                )
            )
    return claims


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


# --- filtering, sorting, naming -----------------------------------------------------------------


def _layers(project, claims: list[Claim], *, show_names: bool) -> dict[str, str]:
    """Layer key -> what the viewer sees: Gold, a coder's name or pseudonym."""
    directory = reports.project_coders(project)
    known = {coder["id"]: coder for coder in directory}
    for coder_id in sorted({c.coder_id for c in claims if c.coder_id is not None} - set(known)):
        # A former member: a pseudonym after the members', like the agreement report.
        known[coder_id] = {"key": reports.pseudonym(len(known)), "id": coder_id, "username": ""}
    names = {table.GOLD: "Gold"}
    for coder in known.values():
        shown = coder["username"] if show_names and coder["username"] else coder["key"]
        names[f"c{coder['id']}"] = shown
    return names


def _filtered(claims: list[Claim], data: dict) -> list[Claim]:
    def keep(claim: Claim) -> bool:
        row, figure = claim.row, claim.figure
        published = claim.document["published"]
        return (
            (not data.get("outcome") or row.outcome == data["outcome"])
            and (not data.get("victim_status") or row.victim_status == data["victim_status"])
            and (not data.get("partisanship") or figure.partisanship == data["partisanship"])
            and (not data.get("layer") or figure.layer == data["layer"])
            and (
                not data.get("published_from")
                or (published and published >= data["published_from"])
            )
            and (not data.get("published_to") or (published and published <= data["published_to"]))
        )

    return [claim for claim in claims if keep(claim)]


def _sorted(claims: list[Claim], sort: str) -> list[Claim]:
    claims = sorted(
        claims,
        key=lambda c: (
            c.document["position"],
            c.document["id"],
            c.figure.layer != table.GOLD,
            c.figure.layer,
            c.span_id,
        ),
    )
    descending = sort.startswith("-")
    field = sort.lstrip("-") or "document"
    if field == "best":
        present = [c for c in claims if c.figure.best is not None]
        missing = [c for c in claims if c.figure.best is None]
        return sorted(present, key=lambda c: c.figure.best, reverse=descending) + missing
    if field == "date":
        present = [c for c in claims if c.document["published"] is not None]
        missing = [c for c in claims if c.document["published"] is None]
        return sorted(present, key=lambda c: c.document["published"], reverse=descending) + missing
    return list(reversed(claims)) if descending else claims


def _link(user, project, claim: Claim, *, codes: bool) -> str:
    if not claim.gold and claim.coder_id == user.pk and codes:
        return f"{reverse('coding', args=[claim.document['id']])}?span={claim.span_id}"
    if claim.gold:
        return reverse("claim-gold", args=[project.pk, claim.span_id])
    return reverse("claim-span", args=[project.pk, claim.span_id])


# --- views --------------------------------------------------------------------------------------


@login_required
@require_GET
def claims_page(request, project_id: int):
    project = access.get_project_for_user(request.user, project_id)
    sees_all = access.sees_all_coders(request.user, project)
    codebook = get_codebook(project)
    claims = _load(request.user, project, codebook, sees_all=sees_all)
    if sees_all:
        show_names = reports.shows_coder_names(request.user, project)
        layer_names = _layers(project, claims, show_names=show_names)
        present = {c.figure.layer for c in claims}
        layer_choices = [(key, name) for key, name in layer_names.items() if key in present]
    else:
        layer_names, layer_choices = {f"c{request.user.pk}": "You"}, []
    form = ClaimFilterForm(request.GET or None, codebook=codebook, layers=layer_choices)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    shown = _filtered(claims, data)
    everything = [c.figure for c in claims]  # subset_of chains may pass through hidden claims
    totals = _totals([c.figure for c in shown], everything, layer_names)
    weeks, undated = table.weekly_deaths([c.figure for c in shown], everything)
    chart = table.stacked_bars(weeks) if weeks else None
    ordered = _sorted(shown, data.get("sort") or "document")
    page = Paginator(ordered, PER_PAGE).get_page(request.GET.get("page"))
    codes = access.is_coder(request.user, project)
    for claim in page.object_list:
        claim.layer_name = layer_names.get(claim.figure.layer, claim.figure.layer)
        claim.link = _link(request.user, project, claim, codes=codes)
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    context = {
        "project": project,
        "form": form,
        "page": page,
        "total_claims": len(claims),
        "shown_claims": len(shown),
        "totals": totals,
        "chart": chart,
        "weeks": weeks,
        "undated": undated,
        "parties": [(key, PARTY_NAMES[key]) for key in table.PARTISANSHIPS],
        "sees_all": sees_all,
        "has_gold": any(c.gold for c in claims),
        "sort_links": _sort_links(query, data.get("sort") or "document"),
    }
    template = TEMPLATE
    if request.htmx and request.htmx.target == "claims-results":
        template += "#results"
    return render(request, template, context)


def _totals(shown, everything, layer_names: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "name": layer_names.get(total.layer, total.layer),
            "total": total,
            "low": grouped(total.low),
            "high": grouped(total.high),
            "best": grouped(total.best),
        }
        for total in table.totals(shown, everything)
    ]


def _sort_links(query: dict, current: str) -> dict[str, str]:
    """For each sortable column, the query string that sorts by it (toggling direction)."""
    result = {}
    for field, first in (("best", "-best"), ("date", "date"), ("document", "document")):
        if current.lstrip("-") == field:
            target = field if current.startswith("-") else f"-{field}"
        else:
            target = first
        result[field] = urlencode({**query, "sort": target})
    return result


def _plain(span, names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": span.pk,
        "label_id": span.label_id,
        "label": names.get(span.label_id, "?"),
        "start": span.start,
        "end": span.end,
        "text": span.text,
    }


def _claim_page(request, project, span, relations, *, layer: str):
    """A claim (an Annotation or a GoldSpan) in its article with the spans it links to."""
    codebook = get_codebook(project)
    names = {label.id: label.name for label in codebook.labels}
    types = {rt.id: rt.name for rt in codebook.relation_types}
    links = [
        {"type": types.get(r.type_id, "?"), "target": _plain(r.target, names)} for r in relations
    ]
    shown = [_plain(span, names)] + [link["target"] for link in links]
    unique = {s["id"]: s for s in shown}.values()  # a span linked twice is marked once
    marks = sorted(
        (RenderSpan(s["id"], s["label_id"], s["label"], s["start"], s["end"]) for s in unique),
        key=lambda s: (s.start, s.end),
    )
    context = {
        "project": project,
        "document": span.document,
        "claim": _plain(span, names),
        "attributes": [
            (name, ", ".join(map(str, value)) if isinstance(value, list) else str(value))
            for name, value in (span.attributes or {}).items()
        ],
        "links": links,
        "article": render_text(span.document.text, marks),
        "codebook": codebook,
        "layer": layer,
    }
    return render(request, CLAIM_TEMPLATE, context)


@login_required
@require_GET
def claim_span(request, project_id: int, span_id: int):
    """A coder's claim in its article, read-only: their own, or any for managers and
    adjudicators (access.get_annotation_for_user)."""
    project = access.get_project_for_user(request.user, project_id)
    span = access.get_annotation_for_user(request.user, span_id)
    if span.document.project_id != project.pk or span.label.name != CLAIM_LABEL:
        raise Http404("No such claim")
    relations = (
        Relation.objects.alive()
        .filter(source=span, target__deleted_at__isnull=True)
        .select_related("target")
    )
    own = span.coder_id == request.user.pk
    if own or reports.shows_coder_names(request.user, project):
        layer = span.coder.username
    else:
        layer = _pseudonym(project, span.coder_id)
    return _claim_page(request, project, span, relations, layer=layer)


@login_required
@require_GET
def claim_gold(request, project_id: int, gold_span_id: int):
    """A gold claim in its article, read-only (managers and adjudicators)."""
    project = access.get_project_for_adjudicator(request.user, project_id)
    span = access.get_gold_span_for_adjudicator(request.user, gold_span_id)
    if span.document.project_id != project.pk or span.label.name != CLAIM_LABEL:
        raise Http404("No such claim")
    relations = (
        GoldRelation.objects.alive()
        .filter(source=span, target__deleted_at__isnull=True)
        .select_related("target")
    )
    return _claim_page(request, project, span, relations, layer="Gold")


def _pseudonym(project, coder_id: int) -> str:
    for coder in reports.project_coders(project):
        if coder["id"] == coder_id:
            return coder["key"]
    return "a former coder"


urlpatterns = [
    path("", claims_page, name="claims"),
    path("spans/<int:span_id>/", claim_span, name="claim-span"),
    path("gold/<int:gold_span_id>/", claim_gold, name="claim-gold"),
]
