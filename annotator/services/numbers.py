"""The number normaliser at work: a claim's numbers filled from its text, overrides that need a
note, and the per-project lexicon that decides the reading.

Which numbers are whose (attribute ``numbers_overridden``)
    A CASUALTY span's ``count_text``, ``quantifier_type``, ``low``, ``best`` and ``high`` are
    the normaliser's reading of the span's text unless the coder changed them. The service
    keeps the list of the fields the coder set in ``numbers_overridden`` (a multi_enum of those
    five names; absent means "all are the normaliser's"). Clients never write it: whatever they
    send is replaced by what the service works out.

    - On create, when the client sent none of the five (the coding screen never does), they
      are filled from the reading. A client that sends numbers owns them: they are kept as
      sent, and listed where they differ from the reading (no note is asked on create: that
      is an import of numbers coded elsewhere, e.g. the demo's second coder).
    - On update, a field the coder *changes* to a value other than the reading is listed; one
      changed back to the reading leaves the list. Changing ``quantifier_type``, ``low``,
      ``best`` or ``high`` away from the reading needs a non-empty ``numbers_note``, else the
      update is refused (``OVERRIDE_NEEDS_NOTE``). Unchanged values never need a note, so a
      lexicon edit does not block coders from saving their older spans.
    - When the boundaries change, fields the coder has not overridden are read again from
      the new text. A field counts as the normaliser's only if it is not listed *and* it
      equals the reading of the old text (or is empty): a value we cannot prove came from the
      normaliser (coded before this existed, or under an older lexicon) is kept.
    - A span relabelled into CASUALTY gets the missing numbers filled, as on create.

    The rule applies to any label with all five number attributes (CASUALTY in the default
    codebook); the note is asked for only where the label has a ``numbers_note`` attribute.

The lexicon
    ``Project.lexicon`` maps a language to a lexicon (the JSON shape of
    annotator/claims/lexicon_en.json); a language without an entry uses the lexicon shipped
    for it, else the English one. A document is read with the lexicon of its language.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from annotator.claims import Lexicon, LexiconError, Quantity, load_lexicon, parse_quantity
from annotator.claims import checks as claim_checks
from annotator.codebook import LabelSpec, clean_attributes
from annotator.models import AuditEvent, Project

NUMBER_FIELDS = ("count_text", "quantifier_type", "low", "best", "high")
# Changing these away from the reading needs a note; count_text is only the quoted words.
NOTED_FIELDS = ("quantifier_type", "low", "best", "high")
NOTE = "numbers_note"
OVERRIDDEN = "numbers_overridden"
DEFAULT_LANGUAGE = "en"

OVERRIDE_NEEDS_NOTE = "{fields}; add a short note in numbers_note"
OVERRIDE_FIELD = '{field}: {value} differs from the text\'s reading {reading} ("{words}")'
LEXICON_NOT_AN_OBJECT = "the lexicon must be a JSON object (the shape of the shipped lexicon)"
LEXICON_BAD_JSON = "not valid JSON: {error}"
LEXICON_BAD_LANGUAGE = "language {value!r} must be a short code such as en or ar"
UNKNOWN_CHECK = "{code!r} is not a check (known: {known})"

# Every finding code run_checks can report: what a manager may make blocking.
CHECK_CODES = {
    claim_checks.CLAIM_WITHOUT_SOURCE: "A claim has no claimed_by link",
    claim_checks.CLAIM_WITH_SEVERAL_SOURCES: "A claim has several claimed_by links",
    claim_checks.COUNT_NOT_A_NUMBER: "low / best / high is not a whole number",
    claim_checks.COUNT_BOUNDS_OUT_OF_ORDER: "low ≤ best ≤ high does not hold",
    claim_checks.SUBSET_LARGER_THAN_SUPERSET: "A subset_of claim is larger than its superset",
    claim_checks.DATE_NOT_EVENT_DATE: "A claim's date link is not an event date",
    claim_checks.TOO_MANY_RELATIONS: "More links of a type than the codebook allows",
    claim_checks.RELATION_WRONG_LABELS: "A link joins the wrong labels",
    claim_checks.RELATION_TO_MISSING_SPAN: "A link points to a missing span",
}


# --- the lexicon -------------------------------------------------------------------------------


def language_code(language: str) -> str:
    """The lexicon language of a language tag: its primary subtag ("en-GB" -> "en")."""
    return (language or DEFAULT_LANGUAGE).split("-")[0].strip().lower() or DEFAULT_LANGUAGE


def language_of(document) -> str:
    """The lexicon language of a document, English when it has none."""
    return language_code(document.language)


def shipped_lexicon(language: str) -> Lexicon:
    try:
        return load_lexicon(language)
    except LookupError:
        return load_lexicon(DEFAULT_LANGUAGE)


def project_lexicon(project: Project, language: str = DEFAULT_LANGUAGE) -> Lexicon:
    """The lexicon the project reads `language` with: its own, else the shipped one."""
    own = (project.lexicon or {}).get(language)
    if not own:
        return shipped_lexicon(language)
    # Keyed by the JSON itself, not the project id: ids of rolled-back rows are reused.
    return _lexicon_from_json(json.dumps(own, sort_keys=True))


@lru_cache(maxsize=32)
def _lexicon_from_json(text: str) -> Lexicon:
    return Lexicon.from_dict(json.loads(text))


def document_lexicon(document) -> Lexicon:
    return project_lexicon(document.project, language_of(document))


def reading(text: str, lexicon: Lexicon) -> tuple[Quantity | None, dict[str, Any]]:
    """The normaliser's quantity for a span text and its attributes, unset values left out
    (as clean_attributes leaves them out)."""
    quantity = parse_quantity(text, lexicon)
    if quantity is None:
        return None, {}
    values = {k: v for k, v in quantity.as_attributes().items() if v not in (None, "")}
    return quantity, values


def has_numbers(label: LabelSpec | None) -> bool:
    return label is not None and all(label.attribute(name) for name in NUMBER_FIELDS)


# --- on create and update (called by services.annotations) -----------------------------------


def fill_missing(label: LabelSpec, text: str, given: Mapping[str, Any], lexicon: Lexicon) -> dict:
    """`given` with the number fields it lacks filled from the text's reading."""
    if not has_numbers(label):
        return dict(given)
    _, values = reading(text, lexicon)
    return {**{n: values[n] for n in NUMBER_FIELDS if n in values and n not in given}, **given}


def track_on_create(
    label: LabelSpec, text: str, sent: Mapping[str, Any], cleaned: dict, lexicon: Lexicon
) -> dict:
    """`cleaned` with numbers_overridden listing the sent number fields that differ from the
    reading (the client's own value for it is ignored)."""
    if not has_numbers(label):
        return cleaned
    _, values = reading(text, lexicon)
    overridden = [n for n in NUMBER_FIELDS if n in sent and cleaned.get(n) != values.get(n)]
    return _with_overridden(label, cleaned, overridden)


def apply_on_update(
    label: LabelSpec,
    *,
    old_text: str,
    new_text: str,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    relabelled: bool,
    lexicon: Lexicon,
) -> dict:
    """The attributes to store after an update of a span with number attributes.

    `old` are the stored attributes, `new` the cleaned attributes after the update (equal to
    `old` when the client sent none). Raises ValidationError(OVERRIDE_NEEDS_NOTE) when the
    coder changed a number away from the reading without a note.
    """
    if not has_numbers(label):
        return dict(new)
    result = dict(new)
    old_reading_q, old_reading = reading(old_text, lexicon)
    quantity, values = (
        (old_reading_q, old_reading) if new_text == old_text else reading(new_text, lexicon)
    )
    listed = set(old.get(OVERRIDDEN) or ()) if not relabelled else set()
    changed = {n for n in NUMBER_FIELDS if result.get(n) != old.get(n)}
    if relabelled:
        # A span that just became a claim: fill what it lacks, as on create.
        for name in NUMBER_FIELDS:
            if name not in new and name in values:
                result[name] = values[name]
                changed.discard(name)
    elif new_text != old_text:
        for name in NUMBER_FIELDS:
            if name in changed or name in listed:
                continue
            if old.get(name) is None or old.get(name) == old_reading.get(name):
                if name in values:
                    result[name] = values[name]
                else:
                    result.pop(name, None)
    wrong = [
        OVERRIDE_FIELD.format(
            field=name,
            value=_shown(result.get(name)),
            reading=_shown(values.get(name)),
            words=(quantity.count_text if quantity and quantity.count_text else new_text),
        )
        for name in NOTED_FIELDS
        if name in changed and result.get(name) != values.get(name)
    ]
    if wrong and label.attribute(NOTE) and not str(result.get(NOTE) or "").strip():
        raise ValidationError({"attributes": [OVERRIDE_NEEDS_NOTE.format(fields=", ".join(wrong))]})
    for name in changed:
        if result.get(name) == values.get(name):
            listed.discard(name)
        else:
            listed.add(name)
    return _with_overridden(label, result, [n for n in NUMBER_FIELDS if n in listed])


def _with_overridden(label: LabelSpec, attributes: dict, overridden: list[str]) -> dict:
    result = {k: v for k, v in attributes.items() if k != OVERRIDDEN}
    if overridden and label.attribute(OVERRIDDEN):
        result[OVERRIDDEN] = overridden
    return result


def _shown(value: Any) -> str:
    return "no value" if value is None else str(value)


# --- what the panel shows ----------------------------------------------------------------------

RULES = {
    "exact": "an exact number",
    "approximate": "an approximate number (about, around, a dozen …)",
    "lower_bound": "a lower bound (over, at least, N-plus …): no high",
    "upper_bound": "an upper bound (up to, as many as …)",
    "range": "a range: low and high, no best",
    "vague": "a vague quantity from the lexicon: low and high, no best",
    "unspecified": "no number, a bare plural: at least one",
}


def panel_numbers(document, label: LabelSpec | None, text: str, attributes: Mapping) -> dict:
    """For the coding panel: the reading of the span's text, the rule it followed, and for
    each number field whether it is the normaliser's, the coder's, or differs otherwise."""
    if not has_numbers(label):
        return {}
    quantity, values = reading(text, document_lexicon(document))
    listed = set(attributes.get(OVERRIDDEN) or ())
    marks = {}
    for name in NUMBER_FIELDS:
        if name in listed:
            by = "coder"
        elif attributes.get(name) == values.get(name):
            by = "normaliser"
        else:
            by = "differs"  # coded before the normaliser, or under another lexicon
        marks[name] = {"by": by, "reading": _shown(values.get(name))}
    rule = ""
    if quantity is not None:
        rule = RULES.get(str(quantity.quantifier_type), str(quantity.quantifier_type))
    return {
        "marks": marks,
        "reading": values,
        "count_text": quantity.count_text if quantity else "",
        "rule": rule,
        "language": language_of(document),
        "own_lexicon": bool((document.project.lexicon or {}).get(language_of(document))),
    }


# --- a manager edits the lexicon and the blocking checks ---------------------------------------


def parse_lexicon_json(text: str) -> dict:
    """The lexicon a manager typed, validated; ValidationError lists every bad entry."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValidationError({"lexicon": [LEXICON_BAD_JSON.format(error=error)]}) from None
    if not isinstance(data, dict):
        raise ValidationError({"lexicon": [LEXICON_NOT_AN_OBJECT]})
    try:
        Lexicon.from_dict(data)
    except LexiconError as error:
        raise ValidationError({"lexicon": list(error.errors)}) from None
    return data


def _check_language(language: Any) -> str:
    if not isinstance(language, str) or not language.isalpha() or not 2 <= len(language) <= 8:
        raise ValidationError({"language": [LEXICON_BAD_LANGUAGE.format(value=language)]})
    return language.lower()


def _bump_codebook(project: Project) -> None:
    Project.objects.filter(pk=project.pk).update(codebook_version=F("codebook_version") + 1)
    project.refresh_from_db(fields=["codebook_version"])


@transaction.atomic
def lexicon_update(*, project: Project, user, language: Any, lexicon: dict | None) -> Project:
    """Set the project's lexicon for `language` (None: back to the shipped one).

    Bumps codebook_version: the lexicon changes what the normaliser fills.
    """
    language = _check_language(language)
    if lexicon is not None:
        try:
            Lexicon.from_dict(lexicon)
        except LexiconError as error:
            raise ValidationError({"lexicon": list(error.errors)}) from None
    locked = Project.objects.select_for_update().get(pk=project.pk)
    before = (locked.lexicon or {}).get(language)
    lexicons = dict(locked.lexicon or {})
    if lexicon is None:
        lexicons.pop(language, None)
    else:
        lexicons[language] = lexicon
    if lexicons.get(language) == before:
        project.refresh_from_db(fields=["lexicon", "codebook_version"])
        return project
    Project.objects.filter(pk=project.pk).update(lexicon=lexicons)
    _bump_codebook(project)
    project.refresh_from_db(fields=["lexicon"])
    AuditEvent.objects.create(
        project=project,
        user=user,
        action="codebook.lexicon.update" if lexicon is not None else "codebook.lexicon.reset",
        object_type="lexicon",
        object_id=None,
        before={"language": language, "lexicon": before},
        after={"language": language, "lexicon": lexicon},
    )
    return project


@transaction.atomic
def blocking_checks_update(*, project: Project, user, codes: Any) -> Project:
    """Which pre-submit findings block submitting (codes of annotator.claims.checks)."""
    codes = list(dict.fromkeys(codes or ()))
    unknown = [code for code in codes if code not in CHECK_CODES]
    if unknown:
        known = ", ".join(CHECK_CODES)
        raise ValidationError(
            {"blocking_checks": [UNKNOWN_CHECK.format(code=code, known=known) for code in unknown]}
        )
    codes = [code for code in CHECK_CODES if code in codes]  # a stable order
    before = list(project.blocking_checks or [])
    if codes == before:
        return project
    Project.objects.filter(pk=project.pk).update(blocking_checks=codes)
    project.blocking_checks = codes
    AuditEvent.objects.create(
        project=project,
        user=user,
        action="project.blocking_checks.update",
        object_type="project",
        object_id=project.pk,
        before={"blocking_checks": before},
        after={"blocking_checks": codes},
    )
    return project


# --- the two calls services.annotations makes --------------------------------------------------


def attributes_on_create(
    document, label: LabelSpec, text: str, given: Mapping[str, Any], defaults: Mapping[str, Any]
) -> dict:
    """The cleaned attributes of a new span: the client's over the codebook defaults, with a
    claim's numbers filled from its text when the client sent none of them (a client that
    sends some numbers owns them all), and tracked."""
    if not has_numbers(label):
        return clean_attributes(label, {**defaults, **given})
    lexicon = document_lexicon(document)
    attributes = {**defaults, **given}
    if not any(name in given for name in NUMBER_FIELDS):
        attributes = fill_missing(label, text, attributes, lexicon)
    return track_on_create(label, text, given, clean_attributes(label, attributes), lexicon)


def changes_on_update(document, label: LabelSpec, span, changes: dict) -> dict:
    """`changes` of span_update with a claim's numbers kept in step (see the module doc)."""
    if not has_numbers(label) or not changes.keys() & {"attributes", "text", "label_id"}:
        return changes
    new = apply_on_update(
        label,
        old_text=span.text,
        new_text=changes.get("text", span.text),
        old=span.attributes or {},
        new=changes.get("attributes", span.attributes or {}),
        relabelled="label_id" in changes,
        lexicon=document_lexicon(document),
    )
    if new != (span.attributes or {}) or "attributes" in changes:
        changes = {**changes, "attributes": new}
    return changes
