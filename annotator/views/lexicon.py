"""The number lexicon of a project and the checks that block submitting: managers only (anyone
else gets a 404).

The lexicon is edited as JSON, one language at a time (`?language=en`); saving validates it
with `Lexicon.from_dict` and lists every bad entry. The "try it" box reads a phrase with the
saved lexicon (htmx swaps `#try-result`; without JavaScript the page reloads with the reading).
Plain forms with post/redirect/get; a refused save answers 422 with the form and its errors.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotator import access
from annotator.claims import parse_quantity
from annotator.models import Role
from annotator.services import numbers

TEMPLATE = "annotator/lexicon/page.html"
SAVED = "Saved the {language} lexicon: new spans are read with it (codebook version {version})."
RESET = "The {language} lexicon is the default again (codebook version {version})."
CHECKS_SAVED = "Saved which checks block submitting."


def _project(request, project_id: int):
    return access.get_project_for_user(request.user, project_id, roles={Role.MANAGER})


def _language(request) -> str:
    value = (request.POST.get("language") or request.GET.get("language") or "en").strip().lower()
    return value if value.isalpha() and 2 <= len(value) <= 8 else "en"


def _languages(project, current: str) -> list[str]:
    found = {"en", "ar", current, *(project.lexicon or {})}
    used = project.documents.exclude(language="").values_list("language", flat=True)
    found |= {numbers.language_code(code) for code in used.order_by().distinct()}
    return sorted(found)


def _context(project, language: str, **extra) -> dict:
    own = (project.lexicon or {}).get(language)
    shown = own if own else numbers.shipped_lexicon(language).to_dict()
    return {
        "project": project,
        "language": language,
        "languages": _languages(project, language),
        "own": bool(own),
        "lexicon_text": json.dumps(shown, ensure_ascii=False, indent=2),
        "checks": [
            {"code": code, "description": text, "blocking": code in (project.blocking_checks or [])}
            for code, text in numbers.CHECK_CODES.items()
        ],
        **extra,
    }


def _here(project, language: str) -> str:
    return f"{reverse('lexicon', args=[project.pk])}?{urlencode({'language': language})}"


@login_required
@require_http_methods(["GET", "POST"])
def lexicon_page(request, project_id: int):
    project = _project(request, project_id)
    language = _language(request)
    if request.method == "GET":
        return render(request, TEMPLATE, _context(project, language))
    reset = request.POST.get("action") == "reset"
    text = request.POST.get("lexicon", "")
    try:
        data = None if reset else numbers.parse_lexicon_json(text)
        numbers.lexicon_update(project=project, user=request.user, language=language, lexicon=data)
    except ValidationError as error:
        errors = [m for messages_ in error.message_dict.values() for m in messages_]
        context = _context(project, language, errors=errors)
        context["lexicon_text"] = text
        return render(request, TEMPLATE, context, status=422)
    done = RESET if reset else SAVED
    messages.success(request, done.format(language=language, version=project.codebook_version))
    return redirect(_here(project, language))


@login_required
@require_GET
def lexicon_try(request, project_id: int):
    """How the saved lexicon reads a phrase (a CASUALTY span's text)."""
    project = _project(request, project_id)
    language = _language(request)
    phrase = request.GET.get("phrase", "")[:500]
    quantity = (
        parse_quantity(phrase, numbers.project_lexicon(project, language)) if phrase else None
    )
    context = _context(project, language, phrase=phrase, quantity=quantity, tried=bool(phrase))
    if quantity is not None:
        context["rule"] = numbers.RULES.get(str(quantity.quantifier_type), "")
    if request.htmx:
        return render(request, f"{TEMPLATE}#try-result", context)
    return render(request, TEMPLATE, context)


@login_required
@require_POST
def blocking_checks(request, project_id: int):
    project = _project(request, project_id)
    language = _language(request)
    try:
        numbers.blocking_checks_update(
            project=project, user=request.user, codes=request.POST.getlist("blocking")
        )
    except ValidationError as error:
        errors = [m for messages_ in error.message_dict.values() for m in messages_]
        return render(
            request, TEMPLATE, _context(project, language, check_errors=errors), status=422
        )
    messages.success(request, CHECKS_SAVED)
    return redirect(_here(project, language) + "#checks")


urlpatterns = [
    path("", lexicon_page, name="lexicon"),
    path("try/", lexicon_try, name="lexicon-try"),
    path("checks/", blocking_checks, name="lexicon-blocking-checks"),
]
