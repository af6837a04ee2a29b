"""The guidelines: one printable page per project (every member), the panel the coding screen
loads from it (htmx, the `guidelines-body` partial), and the manager's Markdown editor.

The page is the codebook as a coder reads it (labels with colour, hotkey, description and
examples; attributes and their values; relation types) followed by the manager's Markdown,
rendered and sanitised by annotator.guidelines.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods

from annotator import access
from annotator.codebook import get_codebook
from annotator.guidelines import digest, render_markdown
from annotator.models import AttributeKind, Role
from annotator.services import codebook as services
from annotator.services.numbers import OVERRIDDEN

TEMPLATE = "annotator/guidelines/page.html"
EDIT_TEMPLATE = "annotator/guidelines/edit.html"
SAVED = "Guidelines saved."
UNCHANGED = "Nothing to save: the guidelines are as they were."
HTMX_ERROR = 422


class GuidelinesForm(forms.Form):
    guidelines = forms.CharField(
        required=False,
        strip=False,
        max_length=services.GUIDELINES_LIMIT,
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "true"}),
        help_text="Markdown: # headings, **bold**, *italic*, - lists, [links](https://…), "
        "tables. Hard-case rulings belong here.",
    )
    based_on = forms.CharField(widget=forms.HiddenInput, required=False)


def _markdown_html(text: str) -> str:
    # render_markdown sanitises with nh3: only the tags and link schemes it lists survive.
    return mark_safe(render_markdown(text))  # noqa: S308


def guidelines_context(project) -> dict:
    """What the page and the coding screen's panel show: the codebook and the guidelines."""
    codebook = get_codebook(project)
    labels = [
        {
            "label": label,
            "examples": [line.strip() for line in label.examples.splitlines() if line.strip()],
            "attributes": [
                {"spec": spec, "kind": AttributeKind(spec.kind).label}
                for spec in label.attributes
                # Kept by the number normaliser for itself; coders never fill it in.
                if spec.name != OVERRIDDEN
            ],
        }
        for label in codebook.labels
        if label.enabled
    ]
    relation_types = [
        {
            "type": rt,
            "from": codebook.label_by_id(rt.from_label_id),
            "to": codebook.label_by_id(rt.to_label_id),
        }
        for rt in codebook.relation_types
    ]
    return {
        "project": project,
        "codebook": codebook,
        "labels": labels,
        "relation_types": relation_types,
        "guidelines_html": _markdown_html(project.guidelines),
    }


@login_required
@require_GET
def guidelines_page(request, project_id: int):
    """Every member reads the guidelines; htmx asks for the panel's body only."""
    project = access.get_project_for_user(request.user, project_id)
    context = {
        **guidelines_context(project),
        "is_manager": access.is_manager(request.user, project),
    }
    template = f"{TEMPLATE}#guidelines-body" if request.htmx else TEMPLATE
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def guidelines_edit(request, project_id: int):
    """The manager's editor: Preview shows the rendered text without saving; Save saves
    unless someone else saved meanwhile (then the text stays in the form, with the error)."""
    project = access.get_project_for_user(request.user, project_id, roles={Role.MANAGER})
    if request.method == "GET":
        form = GuidelinesForm(
            initial={"guidelines": project.guidelines, "based_on": digest(project.guidelines)}
        )
        return _editor(request, project, form, preview=project.guidelines)
    form = GuidelinesForm(request.POST)
    if not form.is_valid():
        return _editor(request, project, form, status=HTMX_ERROR)
    text = form.cleaned_data["guidelines"]
    if "preview" in request.POST:
        template = f"{EDIT_TEMPLATE}#preview" if request.htmx else EDIT_TEMPLATE
        context = {"project": project, "form": form, "preview_html": _markdown_html(text)}
        return render(request, template, context)
    try:
        changed = services.guidelines_update(
            project=project,
            user=request.user,
            text=text,
            based_on=form.cleaned_data["based_on"] or None,
        )
    except ValidationError as error:
        for message in error.message_dict.get("guidelines", error.messages):
            form.add_error("guidelines", message)
        # Show what is saved now, and base the next save on it: saving again is a decision
        # taken after seeing the other text, not a blind overwrite.
        project.refresh_from_db(fields=["guidelines"])
        form.data = form.data.copy()
        form.data["based_on"] = digest(project.guidelines)
        return _editor(request, project, form, preview=text, current=project.guidelines, status=409)
    messages.success(request, SAVED if changed else UNCHANGED)
    return redirect("guidelines-edit", project.pk)


def _editor(request, project, form, *, preview: str = "", current=None, status: int = 200):
    context = {"project": project, "form": form, "preview_html": _markdown_html(preview)}
    if current is not None:
        context["current_html"] = _markdown_html(current)
    return render(request, EDIT_TEMPLATE, context, status=status)


urlpatterns = [
    path("", guidelines_page, name="guidelines"),
    path("edit/", guidelines_edit, name="guidelines-edit"),
]
