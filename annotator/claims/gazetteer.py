"""The shipped Syria gazetteer, a project's own sites, and suggestions that use both.

gazetteer_sy.json is built from GeoNames data (CC BY 4.0, https://www.geonames.org/) by
annotator/claims/geonames.py. A LOCATION suggestion carries its candidates: every gazetteer
place or project site one of whose names has the suggestion's name key ("Idlib" is a city and
a governorate), so the coder sees which places the words may mean.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from annotator.claims.geonames import AMBIGUOUS
from annotator.claims.lexicon import Lexicon
from annotator.claims.suggest import (
    LOCATION,
    Entity,
    EntityLike,
    Suggestion,
    name_key,
    suggest_spans,
)

GAZETTEER_PATH = Path(__file__).with_name("gazetteer_sy.json")
KIND_NAMES = {
    "country": "country",
    "admin1": "governorate",
    "populated_place": "populated place",
    "site": "project site",
}
# loc_type and geo_precision (the codebook's LOCATION attributes) a place kind implies.
_KIND_ATTRIBUTES: dict[str, dict[str, Any]] = {
    "country": {"loc_type": "country", "geo_precision": 5},
    "admin1": {"loc_type": "admin1", "geo_precision": 4},
    "populated_place": {"loc_type": "populated_place"},
    "site": {},
}


@dataclass(frozen=True)
class Place:
    id: str  # "geonames:170063" or "site:Thardat hill"
    name: str
    kind: str  # country, admin1, populated_place or site
    aliases: tuple[str, ...] = ()
    code: str = ""  # ISO country code, GeoNames admin1 code (SY.09) or feature code
    within: str = ""  # the governorate of a populated place

    @property
    def description(self) -> str:
        parts = [KIND_NAMES.get(self.kind, self.kind)]
        if self.kind in ("country", "admin1") and self.code:
            parts.append(self.code)
        if self.within:
            parts.append(f"in {self.within}")
        return ", ".join(parts)

    def entity(self) -> Entity:
        return Entity(self.name, self.aliases, dict(_KIND_ATTRIBUTES.get(self.kind, {})))


@dataclass(frozen=True)
class Gazetteer:
    places: tuple[Place, ...]
    version: str  # a digest of the data: part of every cache key of suggestions
    attribution: str = ""
    _index: dict[str, tuple[Place, ...]] = field(default_factory=dict, compare=False, repr=False)

    def candidates(self, text: str) -> tuple[Place, ...]:
        return self._index.get(name_key(text), ())


def gazetteer_from_json(data: Mapping[str, Any], version: str = "") -> Gazetteer:
    places = tuple(
        Place(
            id=f"geonames:{p['id']}",
            name=p["name"],
            kind=p["kind"],
            aliases=tuple(p.get("aliases", ())),
            code=p.get("code", ""),
            within=p.get("within", ""),
        )
        for p in data["places"]
    )
    return Gazetteer(places, version, data.get("attribution", ""), _build_index(places))


@lru_cache(maxsize=4)
def load_gazetteer(path: Path = GAZETTEER_PATH) -> Gazetteer:
    import json

    raw = path.read_bytes()
    return gazetteer_from_json(json.loads(raw), hashlib.sha256(raw).hexdigest()[:16])


def _build_index(places: Iterable[Place]) -> dict[str, tuple[Place, ...]]:
    index: dict[str, list[Place]] = {}
    for place in places:
        for alias in dict.fromkeys((place.name, *place.aliases)):
            key = name_key(alias)
            if key and place not in index.setdefault(key, []):
                index[key].append(place)
    return {key: tuple(found) for key, found in index.items()}


def sites_from_list(entries: Iterable[EntityLike]) -> tuple[Place, ...]:
    """A project's own places ("places" list entries: hills, roads, bases) as sites."""
    sites = []
    for entry in entries:
        entity = Entity.coerce(entry)
        sites.append(Place(f"site:{entity.name}", entity.name, "site", tuple(entity.aliases)))
    return tuple(sites)


def place_candidates(
    text: str, sites: Sequence[Place] = (), gazetteer: Gazetteer | None = None
) -> tuple[Place, ...]:
    """The project's sites, then the gazetteer's places, that `text` may name."""
    gazetteer = gazetteer if gazetteer is not None else load_gazetteer()
    return (*_build_index(sites).get(name_key(text), ()), *gazetteer.candidates(text))


@dataclass(frozen=True)
class PlacedSuggestion:
    suggestion: Suggestion
    candidates: tuple[Place, ...] = ()


def suggest_document(
    text: str,
    *,
    actors: Iterable[EntityLike] = (),
    sites: Sequence[Place] = (),
    lexicon: Lexicon | None = None,
    gazetteer: Gazetteer | None = None,
) -> list[PlacedSuggestion]:
    """suggest_spans with the gazetteer and the project's sites as places.

    A LOCATION whose words name several places gets all of them as candidates and keeps only
    the attributes they agree on (a city and a governorate called Idlib: no loc_type).
    """
    gazetteer = gazetteer if gazetteer is not None else load_gazetteer()
    places = [p.entity() for p in (*sites, *gazetteer.places)]
    site_index = _build_index(sites)
    result = []
    for suggestion in suggest_spans(text, actors, places, lexicon):
        if suggestion.label != LOCATION:
            result.append(PlacedSuggestion(suggestion))
            continue
        key = name_key(suggestion.text)
        if key in AMBIGUOUS and suggestion.text.islower() and key not in site_index:
            continue  # "at the bab": a word, not Al Bab
        candidates = (*site_index.get(key, ()), *gazetteer._index.get(key, ()))
        agreed = _agreed_attributes([p.entity().attributes for p in candidates])
        result.append(
            PlacedSuggestion(
                Suggestion(
                    suggestion.start,
                    suggestion.end,
                    suggestion.label,
                    suggestion.text,
                    suggestion.reason,
                    agreed,
                ),
                candidates,
            )
        )
    return result


def _agreed_attributes(all_attributes: list[Mapping[str, Any]]) -> dict[str, Any]:
    if not all_attributes:
        return {}
    first = all_attributes[0]
    return {
        name: value
        for name, value in first.items()
        if all(other.get(name) == value for other in all_attributes[1:])
    }
