"""The agreement report of a project, for its managers and adjudicators (coders get a 404:
the report shows every coder's work).

The page reads its filters from GET, asks `reports.snapshot_for` for the report (computed
once per change of the data and kept in the database), and renders it. A big report is
computed in the background: the page then shows the previous report, if any, under a status
line that polls (`#report-status`, every 2 s) and swaps the finished report in (out of band
into `#report`). Exports and the side-by-side comparison of one document live here too.
Fragments are partials of templates/annotator/agreement/report.html.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from annotator import access, reports
from annotator.codebook import get_codebook
from annotator.models import AgreementSnapshot, Role
from annotator.text import RenderSpan, render_text

TEMPLATE = "annotator/agreement/report.html"
DOCUMENT_TEMPLATE = "annotator/agreement/document.html"
REPORT_ROLES = {Role.MANAGER, Role.ADJUDICATOR}

MEASURES = (
    ("exact_f1", "Span F1, exact"),
    ("overlap_f1", "Span F1, overlap"),
    ("alpha_u", "αU (unitizing)"),
)


# --- input ------------------------------------------------------------------------------------


class AgreementFilterForm(forms.Form):
    """The report's filters from the query string (the page, its exports)."""

    label = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    coder = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    documents = forms.CharField(
        required=False, label="Document ids", help_text="Comma-separated; empty: all documents."
    )
    published_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    published_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    sample = forms.IntegerField(
        required=False, min_value=1, label="Random sample of", help_text="documents"
    )
    seed = forms.IntegerField(required=False, min_value=0, initial=0)
    codebook_version = forms.IntegerField(required=False, min_value=1)

    def __init__(self, data, *, labels: list[str], coders: list[tuple[int, str]]):
        super().__init__(data)
        self.fields["label"].choices = [(name, name) for name in labels]
        self.fields["coder"].choices = coders

    def clean_documents(self) -> tuple[int, ...]:
        text = self.cleaned_data["documents"]
        try:
            return tuple(int(part) for part in re.split(r"[\s,]+", text) if part)
        except ValueError:
            raise forms.ValidationError("Document ids are whole numbers.") from None

    def clean(self):
        data = super().clean()
        start, end = data.get("published_from"), data.get("published_to")
        if start and end and start > end:
            self.add_error("published_to", "The range ends before it starts.")
        return data

    def filters(self) -> reports.AgreementFilters:
        data = self.cleaned_data
        return reports.AgreementFilters(
            labels=tuple(data["label"]),
            coders=tuple(data["coder"]),
            document_ids=data["documents"],
            published_from=data["published_from"],
            published_to=data["published_to"],
            sample=data["sample"],
            seed=data["seed"] or 0,
            codebook_version=data["codebook_version"],
        )


def _form(request, project) -> AgreementFilterForm:
    codebook = get_codebook(project)
    show = reports.shows_coder_names(request.user, project)
    coders = [
        (coder["id"], coder["username"] if show else coder["key"])
        for coder in reports.project_coders(project)
    ]
    labels = [label.name for label in codebook.labels]
    return AgreementFilterForm(request.GET, labels=labels, coders=coders)


# --- presentation -----------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _heat_class(value: float | None) -> str:
    if value is None:
        return "heat-na"
    if value < 0:
        return "heat-neg"
    return f"heat-{min(int(value * 5), 4)}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _summary_cell(summary: dict[str, Any]) -> dict[str, Any]:
    """A mean over coder pairs, with what it rests on (pooled over the pairs)."""
    pairs = summary["per_pair"]
    spans = sum((p["spans_a"] or 0) + (p["spans_b"] or 0) for p in pairs)
    counted = summary["pairs"]
    compared = summary["pairs_compared"]
    pair_text = (
        _plural(counted, "pair") if counted == compared else f"{counted} of {compared} pairs"
    )
    if any(p["tp"] is not None for p in pairs):
        tp = sum(p["tp"] or 0 for p in pairs)
        basis = f"{tp} matched · {_plural(spans, 'span')}"
    else:
        basis = _plural(spans, "span")
    return {
        "value": fmt(summary["mean"]),
        "range": None
        if summary["mean"] is None or counted < 2
        else f"{fmt(summary['min'])}–{fmt(summary['max'])}",
        "basis": basis,
        "pairs": pair_text,
        "reason": summary["reason"],
        "css": _heat_class(summary["mean"]),
    }


def _label_rows(payload: dict[str, Any], names: dict[str, str]) -> list[dict[str, Any]]:
    counts = {row["label"]: row for row in payload["label_counts"]}
    report = payload["report"]
    rows = []
    for item in [report["overall"], *report["labels"]]:
        count = counts.get(item["label"]) if item["label"] else None
        if item["label"] is None:
            per_coder = {c["coder"]: c["spans"] for c in report["counts"]["spans_per_coder"]}
            documents = report["counts"]["documents_compared"]
            coders = report["counts"]["coders"]
        else:
            per_coder = count["spans_per_coder"] if count else {}
            documents = count["documents"] if count else 0
            coders = count["coders"] if count else 0
        cells = [_summary_cell(item[measure]) for measure, _ in MEASURES]
        rows.append(
            {
                "label": item["label"],
                "spans": item["spans"],
                "documents": documents,
                "coders": coders,
                "per_coder": [(names.get(k, k), n) for k, n in per_coder.items()],
                "cells": cells,
                # One reason for three n/a cells says it once.
                "all_na": _all_na(cells),
            }
        )
    return rows


def _all_na(cells: list[dict[str, Any]]) -> str | None:
    reasons = {cell["reason"] for cell in cells}
    if all(cell["value"] == "n/a" for cell in cells) and len(reasons) == 1:
        return reasons.pop()
    return None


CELL = 64
NAME_CHARS = 16  # longer names are cut, with their full form in the cell's tooltip


def _heatmap(matrix: dict[str, Any], names: dict[str, str], title: str) -> dict[str, Any]:
    """Geometry of an SVG heatmap: cells coloured by value class, the number in each."""
    coders = [names.get(k, k) for k in matrix["coders"]]
    size = len(coders)
    longest = min(max((len(name) for name in coders), default=1), NAME_CHARS)
    # Room for the row names (about 7 px a character) and the slanted column names.
    left = 16 + 7 * longest
    top = 24 + 4 * longest
    short = [name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…" for name in coders]
    cells = []
    for i, row in enumerate(matrix["values"]):
        for j, value in enumerate(row):
            documents = matrix["documents"][i][j]
            if i == j:
                text, note, css = "—", f"{coders[i]} (the same coder)", "heat-diag"
            elif value is None:
                reason = "no document coded by both" if not documents else "undefined"
                text, note, css = "n/a", f"{coders[i]} vs {coders[j]}: n/a, {reason}", "heat-na"
            else:
                text = fmt(value)
                note = f"{coders[i]} vs {coders[j]}: {text} over {documents} shared documents"
                css = _heat_class(value)
            cells.append(
                {
                    "x": left + j * CELL,
                    "y": top + i * CELL,
                    "cx": left + j * CELL + CELL // 2,
                    "cy": top + i * CELL + CELL // 2 + 5,
                    "text": text,
                    "sub": "" if i == j or value is None else _plural(documents, "doc"),
                    "note": note,
                    "css": css,
                }
            )
    return {
        "title": title,
        "measure": matrix["measure"],
        "width": left + size * CELL + 10,
        "height": top + size * CELL + 10,
        "cell": CELL,
        "name_x": left - 8,
        "rows": [
            {"name": name, "y": top + i * CELL + CELL // 2 + 5} for i, name in enumerate(short)
        ],
        "columns": [
            {"name": name, "x": left + j * CELL + CELL // 2 - 6, "y": top - 8}
            for j, name in enumerate(short)
        ],
        "cells": cells,
    }


CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 640, 220, 44
SERIES = (("overlap_f1", "Overlap F1"), ("exact_f1", "Exact F1"), ("alpha_u", "αU"))


def _trend_chart(trend: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A small line chart: one line per measure over the weeks, y from min(0, lowest) to 1."""
    if not trend:
        return None
    values = [p[m]["mean"] for p in trend for m, _ in SERIES if p[m]["mean"] is not None]
    low = min([0.0, *values])
    span = 1.0 - low or 1.0
    inner_w = CHART_WIDTH - 2 * CHART_PAD
    inner_h = CHART_HEIGHT - 2 * CHART_PAD
    step = inner_w / max(len(trend) - 1, 1)

    def x(i: int) -> float:
        return round(CHART_PAD + (i * step if len(trend) > 1 else inner_w / 2), 1)

    def y(v: float) -> float:
        return round(CHART_PAD + (1.0 - v) / span * inner_h, 1)

    series = []
    for measure, name in SERIES:
        segments, current, points = [], [], []
        for i, point in enumerate(trend):
            value = point[measure]["mean"]
            if value is None:
                if current:
                    segments.append(" ".join(current))
                current = []
                continue
            current.append(f"{x(i)},{y(value)}")
            points.append(
                {
                    "x": x(i),
                    "y": y(value),
                    "note": f"{point['week']}: {name} {fmt(value)} "
                    f"({point[measure]['pairs']} coder pairs, {point['documents']} documents)",
                }
            )
        if current:
            segments.append(" ".join(current))
        series.append({"measure": measure, "name": name, "segments": segments, "points": points})
    ticks = sorted({0.0, 0.5, 1.0, round(low, 1)} if low < 0 else {0.0, 0.5, 1.0})
    every = max(1, len(trend) // 8)
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_PAD,
        "right": CHART_WIDTH - CHART_PAD,
        "series": series,
        "ticks": [{"y": y(t), "label": fmt(t, 1)} for t in ticks],
        "weeks": [
            {"x": x(i), "y": CHART_HEIGHT - CHART_PAD + 18, "label": p["week"]}
            for i, p in enumerate(trend)
            if i % every == 0
        ],
    }


def _prf(prf: dict[str, Any]) -> dict[str, Any]:
    return {
        "p": fmt(prf["precision"]),
        "r": fmt(prf["recall"]),
        "f1": fmt(prf["f1"]),
        "basis": f"{prf['tp']} matched; {prf['n_predicted']} own spans, "
        f"{prf['n_reference']} of the others",
        "css": _heat_class(prf["f1"]),
    }


def report_context(payload: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """Everything the report's template shows, from a snapshot's payload."""
    report = payload["report"]
    titles = payload["document_titles"]
    matrices = {m["measure"]: m for m in report["matrices"]}
    coders: dict[str, list[dict[str, Any]]] = {}
    for row in report["coders"]:
        overlap = row["overlap"]
        if row["label"] is not None and not (overlap["n_predicted"] or overlap["n_reference"]):
            continue  # a label neither this coder nor their partners used
        coders.setdefault(row["coder"], []).append(
            {
                "label": row["label"],
                "exact": _prf(row["exact"]),
                "overlap": _prf(overlap),
                "counts": f"{row['exact']['tp']} / {overlap['tp']} of "
                f"{overlap['n_predicted']} own, {overlap['n_reference']} others'",
                "documents": row["documents"],
                "partners": row["partners"],
            }
        )
    return {
        "payload": payload,
        "counts": report["counts"],
        "spans_per_coder": [
            {**c, "name": names.get(c["coder"], c["coder"])}
            for c in report["counts"]["spans_per_coder"]
        ],
        "measures": MEASURES,
        "label_rows": _label_rows(payload, names),
        "heatmaps": [
            _heatmap(matrices[measure], names, title)
            for measure, title in MEASURES
            if measure in matrices and matrices[measure]["coders"]
        ],
        "confusion": report["confusion"],
        "attributes": [{**a, "value": fmt(a["alpha"])} for a in report["attributes"]],
        "relations": [{**r, "value": fmt(r["f1"])} for r in report["relations"]],
        "documents": [
            {
                **d,
                "title": titles.get(str(d["document"]), f"Document {d['document']}"),
                "disagreement_text": fmt(d["disagreement"]),
                "f1_text": fmt(d["overlap_f1"]),
                "reasons": [reports.named(r, names) for r in d["reasons"]],
            }
            for d in report["documents"]
        ],
        "coder_rows": [{"name": names.get(key, key), "rows": rows} for key, rows in coders.items()],
        "trend": [
            {
                **point,
                "values": [
                    {
                        "text": fmt(point[m]["mean"]),
                        "reason": point[m]["reason"],
                        "basis": f"{point[m]['pairs']} of {point[m]['pairs_compared']} coder pairs",
                    }
                    for m in ("exact_f1", "overlap_f1", "alpha_u")
                ],
            }
            for point in payload["trend"]
        ],
        "chart": _trend_chart(payload["trend"]),
    }


def _elapsed(delta) -> str:
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60:02d} s"


# --- views ------------------------------------------------------------------------------------


def _project(request, project_id: int):
    return access.get_project_for_user(request.user, project_id, roles=REPORT_ROLES)


def _poll_url(request, snapshot: AgreementSnapshot) -> str:
    query = request.GET.copy()
    query["snapshot"] = str(snapshot.pk)
    return f"{request.path}?{query.urlencode()}"


def _page_context(request, project, form, snapshot, previous=None) -> dict[str, Any]:
    names_shown = reports.shows_coder_names(request.user, project)
    shown = snapshot if snapshot is not None and snapshot.is_ready else previous
    context: dict[str, Any] = {
        "project": project,
        "form": form,
        "snapshot": snapshot,
        "shown": shown,
        "polling": snapshot is not None and snapshot.is_computing,
        "query": urlencode(form.filters().query_items(), doseq=True) if form.is_valid() else "",
        "now": timezone.now(),
    }
    if snapshot is not None:
        context["poll_url"] = _poll_url(request, snapshot)
        context["elapsed"] = _elapsed(context["now"] - snapshot.created)
    if shown is not None and shown.payload:
        names = reports.coder_names(shown.payload, show_names=names_shown)
        context.update(report_context(shown.payload, names))
        # Against the gold: read now (the gold is not part of the cached report), and only
        # for those who may see coder names.
        if names_shown and form.is_valid():
            context["gold"] = gold_context(reports.gold_report(project, form.filters()))
    return context


def _gold_prf(prf: dict[str, Any], what: str) -> dict[str, Any]:
    """One matching's P, R, F1 against the gold; n/a with its reason."""
    no_own = "no spans of theirs" + what
    no_gold = "no gold spans" + what
    reasons = {
        "precision": no_own,
        "recall": no_gold,
        "f1": "neither they nor the gold have spans" + what,
    }
    return {
        "values": [
            {"text": fmt(prf[name]), "reason": reasons[name] if prf[name] is None else ""}
            for name in ("precision", "recall", "f1")
        ],
        "css": _heat_class(prf["f1"]),
    }


def gold_context(gold: dict[str, Any]) -> dict[str, Any]:
    """The against-gold section of the page, from ``reports.gold_report``."""
    coders = []
    for coder in gold["coders"]:
        rows = []
        for row in coder["rows"]:
            what = f" of {row['label']}" if row["label"] else ""
            exact, overlap = row["exact"], row["overlap"]
            rows.append(
                {
                    "label": row["label"],
                    "measures": [_gold_prf(exact, what), _gold_prf(overlap, what)],
                    "counts": f"{exact['tp']} exact / {overlap['tp']} overlap of "
                    f"{exact['n_predicted']} theirs, {exact['n_reference']} gold",
                }
            )
        coders.append(
            {
                "name": coder["username"] or coder["key"],
                "documents": coder["documents"],
                "rows": rows,
            }
        )
    return {"documents": gold["documents"], "reason": gold["reason"], "coders": coders}


@login_required
@require_GET
def agreement_page(request, project_id: int):
    project = _project(request, project_id)
    form = _form(request, project)
    if request.htmx and "snapshot" in request.GET:
        return _poll(request, project, form)
    if not form.is_valid():
        context = _page_context(request, project, form, None)
        return render(request, TEMPLATE, context)
    filters = form.filters()
    snapshot = reports.snapshot_for(project, filters, background=True)
    previous = None if snapshot.is_ready else reports.previous_snapshot(project, filters)
    return render(request, TEMPLATE, _page_context(request, project, form, snapshot, previous))


def _poll(request, project, form):
    """The status line while a report computes; once it is done, the report (out of band)."""
    try:
        snapshot = project.agreement_snapshots.get(pk=int(request.GET["snapshot"]))
    except (AgreementSnapshot.DoesNotExist, ValueError):
        raise Http404("No such report") from None
    form.is_valid()
    if snapshot.is_computing:
        context = _page_context(request, project, form, snapshot)
        return render(request, f"{TEMPLATE}#report-status", context)
    context = _page_context(request, project, form, snapshot)
    context["oob"] = True
    return render(request, f"{TEMPLATE}#poll-done", context)


@login_required
@require_GET
def agreement_export(request, project_id: int, fmt: str):
    """The report as CSV or JSON, with the page's filters (computed now if not stored)."""
    project = _project(request, project_id)
    form = _form(request, project)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    snapshot = reports.snapshot_for(project, form.filters(), background=False)
    if not snapshot.is_ready:
        return JsonResponse({"detail": f"the report failed: {snapshot.error}"}, status=500)
    payload = snapshot.payload
    show = reports.shows_coder_names(request.user, project)
    names = reports.coder_names(payload, show_names=show)
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    filename = f"agreement-project{project.pk}-{stamp}.{fmt}"
    # Against the gold: only for those who may see coder names (it names them).
    gold = reports.gold_report(project, form.filters()) if show else None
    if fmt == "json":
        response = JsonResponse(
            {**reports.public_payload(payload, names, show_names=show), "gold": gold},
            json_dumps_params={"indent": 1},
        )
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(reports.CSV_COLUMNS)
        writer.writerows(reports.csv_rows(payload, names))
        if gold is not None:
            writer.writerows(reports.gold_csv_rows(gold))
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
def agreement_document(request, project_id: int, document_id: int):
    """One document side by side: each counted coder's spans over the text, in columns."""
    project = _project(request, project_id)
    try:
        document = project.documents.get(pk=document_id)
    except (project.documents.model.DoesNotExist, ValueError):
        raise Http404("No such document") from None
    comparison = reports.document_comparison(project, document)
    names = reports.coder_names(
        comparison, show_names=reports.shows_coder_names(request.user, project)
    )
    columns = []
    for coder in comparison["coders"]:
        spans = [
            RenderSpan(s["id"], s["label_id"], s["label"], s["start"], s["end"])
            for s in coder["spans"]
        ]
        columns.append(
            {
                "name": names.get(coder["key"], coder["key"]),
                "text": render_text(document.text, spans),
                "spans": coder["spans"],
                "links": coder["links"],
            }
        )
    report = comparison["report"]
    pairs = [
        {
            "a": names.get(p["coder_a"], p["coder_a"]),
            "b": names.get(p["coder_b"], p["coder_b"]),
            "value": fmt(p["value"]),
            "p": p,
        }
        for p in report["overall"]["overlap_f1"]["per_pair"]
    ]
    exact = {(p["coder_a"], p["coder_b"]): p for p in report["overall"]["exact_f1"]["per_pair"]}
    for row, raw in zip(pairs, report["overall"]["overlap_f1"]["per_pair"], strict=True):
        e = exact.get((raw["coder_a"], raw["coder_b"]))
        row["exact"] = fmt(e["value"]) if e else "n/a"
        row["exact_tp"] = e["tp"] if e else None
    reasons = [reports.named(r, names) for d in report["documents"] for r in d["reasons"]]
    context = {
        "project": project,
        "document": document,
        "columns": columns,
        "pairs": pairs,
        "reasons": reasons,
        "confusion": report["confusion"],
        "mode": comparison["mode"],
        "span_differences": comparison["span_differences"],
        "attribute_differences": comparison["attribute_differences"],
        "back": reverse("agreement", args=[project.pk]),
    }
    return render(request, DOCUMENT_TEMPLATE, context)


urlpatterns = [
    path("", agreement_page, name="agreement"),
    path("export.csv", agreement_export, {"fmt": "csv"}, name="agreement-export-csv"),
    path("export.json", agreement_export, {"fmt": "json"}, name="agreement-export-json"),
    path("documents/<int:document_id>/", agreement_document, name="agreement-document"),
]
