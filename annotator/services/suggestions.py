"""Suggested spans on the coding screen: the adapter from a project's rows to the pure
suggester (annotator.claims.gazetteer.suggest_document), its cache, and rejections.

A suggestion is never a row: it is recomputed from the document's text, the project's lists
(actors; places: the manager's own sites) and the shipped Syria gazetteer, and it becomes an
Annotation only when a coder accepts it, through span_create like any other span. So agreement,
exports, checks and counts never see one. What a coder rejects is remembered per coder and
document (SuggestionRejection), and only that coder's own spans hide a suggestion.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction

from annotator.claims.gazetteer import (
    Place,
    load_gazetteer,
    sites_from_list,
    suggest_document,
)
from annotator.claims.gazetteer import place_candidates as gazetteer_candidates
from annotator.codebook import Codebook, LabelSpec
from annotator.models import ListEntry, SuggestionRejection
from annotator.services import numbers

ACTORS_LIST = "actors"
PLACES_LIST = "places"  # the project list where managers add sites (hills, roads, bases)
CACHE_SECONDS = 24 * 3600

NOT_A_SUGGESTION = "there is no {label} suggestion at [{start}, {end}) in this document"


@dataclass(frozen=True)
class ShownSuggestion:
    start: int
    end: int
    label: str
    label_id: int
    text: str
    reason: str
    # Only attributes the codebook accepts; a claim's numbers are left to span_create.
    attributes: dict[str, Any] = field(default_factory=dict)
    candidates: tuple[dict[str, str], ...] = ()

    @property
    def key(self) -> str:
        return f"{self.start}-{self.end}-{self.label}"

    def as_client(self) -> dict[str, Any]:
        """What coding.js needs to show and accept it (delivered through json_script)."""
        return {
            "key": self.key,
            "start": self.start,
            "end": self.end,
            "label": self.label,
            "text": self.text,
            "reason": self.reason,
            "attributes": self.attributes,
            "candidates": list(self.candidates),
        }


def _digest(value: Any) -> str:
    raw = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def document_suggestions(document, codebook: Codebook) -> list[ShownSuggestion]:
    """Every suggestion for the document, the same for every coder.

    They are pure in the text, the codebook (its version also changes with every list edit),
    the lexicon and the gazetteer, so they are cached under exactly those.
    """
    language = numbers.language_of(document)
    key = ":".join(
        (
            "suggestions",
            str(document.pk),
            _digest(document.text),
            str(codebook.version),
            _digest((document.project.lexicon or {}).get(language)),
            load_gazetteer().version,
        )
    )
    found = cache.get(key)
    if found is None:
        found = _compute(document, codebook)
        cache.set(key, found, CACHE_SECONDS)
    return found


def _compute(document, codebook: Codebook) -> list[ShownSuggestion]:
    lists: dict[str, list[dict]] = {ACTORS_LIST: [], PLACES_LIST: []}
    for list_name, name, aliases in ListEntry.objects.filter(
        project_id=document.project_id, list_name__in=list(lists)
    ).values_list("list_name", "name", "aliases"):
        lists[list_name].append({"name": name, "aliases": aliases or []})
    placed = suggest_document(
        document.text,
        actors=lists[ACTORS_LIST],
        sites=sites_from_list(lists[PLACES_LIST]),
        lexicon=numbers.document_lexicon(document),
    )
    shown = []
    for item in placed:
        suggestion = item.suggestion
        label = codebook.label_by_name(suggestion.label)
        if label is None or not label.enabled:
            continue
        shown.append(
            ShownSuggestion(
                start=suggestion.start,
                end=suggestion.end,
                label=label.name,
                label_id=label.id,
                text=suggestion.text,
                reason=suggestion.reason,
                attributes=_codebook_attributes(label, suggestion.attributes),
                candidates=tuple(_candidate(place) for place in item.candidates),
            )
        )
    return shown


def _candidate(place: Place) -> dict[str, str]:
    return {"id": place.id, "name": place.name, "description": place.description}


def _codebook_attributes(label: LabelSpec, attributes: dict[str, Any]) -> dict[str, Any]:
    """The suggester's attributes the label's codebook accepts as they are."""
    kept = {}
    for name, value in attributes.items():
        spec = label.attribute(name)
        if spec is None or name in numbers.NUMBER_FIELDS:
            continue
        if spec.kind == "enum" and value in spec.values and not isinstance(value, bool):
            kept[name] = value
        elif spec.kind == "reference" and isinstance(value, str) and value:
            if spec.allow_other or value in spec.list_values:
                kept[name] = value
        elif spec.kind == "text" and isinstance(value, str):
            kept[name] = value
    return kept


def suggestions_for_coder(document, coder, codebook: Codebook) -> list[ShownSuggestion]:
    """The document's suggestions minus those this coder rejected."""
    rejected = set(
        SuggestionRejection.objects.filter(document=document, coder=coder).values_list(
            "start", "end", "label"
        )
    )
    return [
        s
        for s in document_suggestions(document, codebook)
        if (s.start, s.end, s.label) not in rejected
    ]


def without_overlaps(
    suggestions: list[ShownSuggestion], spans: list[tuple[int, int]]
) -> list[ShownSuggestion]:
    """Suggestions sharing no character with any of the given (start, end) spans."""
    return [s for s in suggestions if not any(a < s.end and s.start < b for a, b in spans)]


def place_candidates(project, text: str) -> list[dict[str, str]]:
    """Project sites and gazetteer places a LOCATION's words may name."""
    entries = ListEntry.objects.filter(project=project, list_name=PLACES_LIST).values_list(
        "name", "aliases"
    )
    sites = sites_from_list({"name": name, "aliases": aliases or []} for name, aliases in entries)
    return [_candidate(place) for place in gazetteer_candidates(text, sites)]


@transaction.atomic
def suggestion_reject(
    *, document, coder, codebook: Codebook, start: Any, end: Any, label: Any
) -> SuggestionRejection:
    """Remember that the coder does not want this suggestion (again: the same answer twice)."""
    try:
        start, end = int(start), int(end)
    except (TypeError, ValueError):
        raise ValidationError(NOT_A_SUGGESTION.format(label=label, start=start, end=end)) from None
    if not any(
        (s.start, s.end, s.label) == (start, end, label)
        for s in document_suggestions(document, codebook)
    ):
        raise ValidationError(NOT_A_SUGGESTION.format(label=label, start=start, end=end))
    rejection, _ = SuggestionRejection.objects.get_or_create(
        document=document, coder=coder, start=start, end=end, label=label
    )
    return rejection
