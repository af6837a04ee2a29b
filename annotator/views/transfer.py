"""Imports (managers) and exports (managers and adjudicators) in the browser.

Import: the form posts the file and its options; the file is kept in a private staging
folder and checked without writing (the preview: the summary, a few spans with their text,
every problem); "Import" then runs the same import for real on the staged file. Export: a
GET form whose answer is the file itself, streamed. Coders and outsiders get a 404 for all of
it (blind coding: an export would show the other coders' work). Both call the services that
the API and the management commands call.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from pathlib import Path

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotator import access
from annotator.models import Role
from annotator.services import exports, imports

IMPORT_TEMPLATE = "annotator/transfer/import.html"
EXPORT_TEMPLATE = "annotator/transfer/export.html"
SESSION_KEY = "annotator_staged_imports"
STAGING_DIR = Path(tempfile.gettempdir()) / "annotator-imports"
STAGED_FOR_SECONDS = 24 * 3600
ERRORS_SHOWN = 500
STAGED_GONE = "That upload has expired or was already imported; choose the file again."


# --- forms ------------------------------------------------------------------------------------


class ImportForm(forms.Form):
    file = forms.FileField()
    format = forms.ChoiceField(choices=list(imports.FORMATS.items()))
    on_duplicate = forms.ChoiceField(
        label="Documents already in the project",
        choices=[("skip", "Skip them"), ("update", "Update their metadata")],
        initial="skip",
        widget=forms.RadioSelect,
        help_text="Matched by external id, else by text. A coded document's text never changes.",
    )
    user_map = forms.CharField(
        label="User map",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: name in the file=username here (alice=amira). Unlisted names "
        "are taken as usernames (or e-mail addresses).",
    )
    create_coders = forms.BooleanField(
        label="Create coders for names that match nobody (accounts without a password)",
        required=False,
    )
    offsets = forms.ChoiceField(
        label="doccano offsets",
        choices=[
            ("utf16", "UTF-16 code units (doccano's default)"),
            ("codepoints", "Code points (characters)"),
        ],
        initial="utf16",
        widget=forms.RadioSelect,
    )
    user = forms.CharField(
        label="Whose spans",
        required=False,
        help_text="doccano: the user of a file whose name says nobody (all.jsonl). brat: the "
        "coder whose spans the files hold; empty makes them the gold layer.",
    )
    text_key = forms.CharField(
        label="Text key (JSONL, Label Studio)", required=False, initial="text"
    )
    text_column = forms.CharField(label="CSV: text column", required=False, initial="text")
    id_column = forms.CharField(label="CSV: external id column", required=False)
    metadata_columns = forms.CharField(
        label="CSV: metadata columns",
        required=False,
        help_text="Comma-separated; empty: every other column.",
    )
    delimiter = forms.CharField(label="CSV: delimiter", required=False, initial=",", max_length=1)
    discontinuous = forms.ChoiceField(
        label="brat: discontinuous spans",
        choices=[("error", "Refuse them"), ("split", "Import each fragment as a span")],
        initial="error",
    )

    def clean_user_map(self) -> dict[str, str]:
        try:
            return imports.parse_user_map(self.cleaned_data["user_map"].splitlines())
        except ValidationError as error:
            raise forms.ValidationError(error.message_dict["user_map"]) from None

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = imports.max_upload_bytes()
        if upload.size > limit:
            raise forms.ValidationError(
                imports.FILE_TOO_LARGE.format(
                    file=upload.name, limit=f"{imports.max_upload_mb():g}", size=upload.size
                )
            )
        return upload

    def options(self) -> dict:
        data = self.cleaned_data
        names = (
            "on_duplicate",
            "user_map",
            "create_coders",
            "offsets",
            "user",
            "text_key",
            "text_column",
            "id_column",
            "metadata_columns",
            "delimiter",
            "discontinuous",
        )
        return {name: data[name] for name in names}


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        choices=[(f.name, f.title) for f in exports.EXPORT_FORMATS.values()], initial="jsonl"
    )
    layer = forms.ChoiceField(initial=exports.GOLD)
    include_unadjudicated = forms.BooleanField(
        label="Gold: include documents not yet adjudicated", required=False
    )
    guard_formulas = forms.BooleanField(
        label="Claims table: guard cells a spreadsheet would run as formulas", required=False
    )

    def __init__(self, data, *, coders: list[str]):
        super().__init__(data)
        self.fields["layer"].choices = [
            (exports.GOLD, "Gold (adjudicated)"),
            (exports.ALL, "Every coder (JSONL only)"),
            *[(name, f"Coder: {name}") for name in coders],
        ]


# --- import -----------------------------------------------------------------------------------


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def import_page(request, project_id: int):
    project = access.get_project_for_user(request.user, project_id, roles={Role.MANAGER})
    if request.method == "GET":
        return render(request, IMPORT_TEMPLATE, _import_context(project, ImportForm()))
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, IMPORT_TEMPLATE, _import_context(project, form), status=422)
    token = _stage(request, project, form)
    staged = request.session[SESSION_KEY][token]
    result = _run(request, project, staged, dry_run=True)
    return render(
        request,
        IMPORT_TEMPLATE,
        _import_context(project, form, result, token=token),
        status=200 if result.ok else 422,
    )


@login_required
@require_POST
def import_confirm(request, project_id: int):
    project = access.get_project_for_user(request.user, project_id, roles={Role.MANAGER})
    token = request.POST.get("token", "")
    staged = request.session.get(SESSION_KEY, {}).get(token)
    if not staged or staged["project"] != project.pk or not _staged_path(token).exists():
        messages.error(request, STAGED_GONE)
        return redirect("project-import", project_id=project.pk)
    result = _run(request, project, staged, dry_run=False)
    if not result.written:
        # Something changed since the preview (a duplicate arrived, a label was switched off).
        _unstage(request, token)
        return render(
            request, IMPORT_TEMPLATE, _import_context(project, ImportForm(), result), status=422
        )
    _unstage(request, token)
    summary = result.summary
    messages.success(
        request,
        f"Imported {summary.documents_created:,} document(s), {summary.spans:,} span(s), "
        f"{summary.gold_spans:,} gold span(s); {summary.documents_updated:,} updated, "
        f"{summary.duplicates_skipped:,} duplicate(s) skipped.",
    )
    return redirect("project", project_id=project.pk)


def _run(request, project, staged: dict, *, dry_run: bool) -> imports.ImportResult:
    options = {**staged["options"], "dry_run": dry_run}
    path = _staged_path(staged["token"])
    with path.open("rb") as handle:
        source = _StagedFile(handle, staged["name"], path.stat().st_size)
        return imports.documents_import(
            project=project,
            user=request.user,
            source=source,
            format=staged["format"],
            options=options,
        )


def _import_context(project, form, result: imports.ImportResult | None = None, **extra) -> dict:
    context = {"project": project, "form": form, "max_mb": f"{imports.max_upload_mb():g}", **extra}
    if result is not None:
        context.update(
            result=result,
            summary=result.summary,
            errors=result.errors[:ERRORS_SHOWN],
            errors_hidden=max(0, len(result.errors) - ERRORS_SHOWN),
        )
    return context


class _StagedFile:
    """The staged copy of an upload, under the name the user gave it (doccano reads the user
    from it; errors name it)."""

    def __init__(self, handle, name: str, size: int) -> None:
        self.file = handle
        self.name = name
        self.size = size


def _staged_path(token: str) -> Path:
    if not token or not token.replace("-", "").replace("_", "").isalnum():
        raise Http404("No such upload")
    return STAGING_DIR / token


def _stage(request, project, form: ImportForm) -> str:
    """Keep the upload for the confirming POST; returns its token (also in the session)."""
    STAGING_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    _sweep()
    token = secrets.token_urlsafe(18)
    with _staged_path(token).open("wb") as out:
        for chunk in form.cleaned_data["file"].chunks():
            out.write(chunk)
    staged = request.session.get(SESSION_KEY, {})
    for old in [t for t, s in staged.items() if s["project"] == project.pk]:
        _staged_path(old).unlink(missing_ok=True)
        del staged[old]
    staged[token] = {
        "token": token,
        "project": project.pk,
        "format": form.cleaned_data["format"],
        "options": form.options(),
        "name": form.cleaned_data["file"].name,
    }
    request.session[SESSION_KEY] = staged
    return token


def _unstage(request, token: str) -> None:
    _staged_path(token).unlink(missing_ok=True)
    staged = request.session.get(SESSION_KEY, {})
    staged.pop(token, None)
    request.session[SESSION_KEY] = staged


def _sweep() -> None:
    """Forget uploads staged more than a day ago (previews nobody confirmed)."""
    cutoff = time.time() - STAGED_FOR_SECONDS
    for staged in STAGING_DIR.iterdir():
        try:
            if staged.stat().st_mtime < cutoff:
                staged.unlink()
        except FileNotFoundError:
            pass


# --- export -----------------------------------------------------------------------------------


@login_required
@require_GET
def export_page(request, project_id: int):
    project = access.get_project_for_adjudicator(request.user, project_id)
    coders = exports.coder_choices(project)
    if "format" not in request.GET:
        form = ExportForm(None, coders=coders)
        return render(request, EXPORT_TEMPLATE, {"project": project, "form": form})
    form = ExportForm(request.GET, coders=coders)
    if form.is_valid():
        data = form.cleaned_data
        try:
            export = exports.documents_export(
                project=project,
                format=data["format"],
                layer=data["layer"],
                include_unadjudicated=data["include_unadjudicated"],
                guard_formulas=data["guard_formulas"],
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            response = StreamingHttpResponse(export.chunks(), content_type=export.content_type)
            response["Content-Disposition"] = content_disposition_header(True, export.filename)
            response["Cache-Control"] = "private, no-store"
            return response
    return render(request, EXPORT_TEMPLATE, {"project": project, "form": form}, status=422)


urlpatterns = [
    path("import/", import_page, name="project-import"),
    path("import/confirm/", import_confirm, name="project-import-confirm"),
    path("export/", export_page, name="project-export"),
]
