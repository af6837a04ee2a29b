"""The number lexicon: data a project manager may edit, validated before use.

The shipped default is `lexicon_en.json` (the codebook's NUMBER LEXICON table); a project keeps its
own copy as JSON and builds a `Lexicon` with `Lexicon.from_dict`, which names every bad entry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from annotator.claims._text import phrase_key

MODIFIER_KINDS = ("approximate", "lower_bound", "upper_bound")

_SUGGEST_LISTS = (
    "victim_nouns",
    "object_verbs",
    "passive_auxiliaries",
    "force_size_cues",
    "attribution_verbs",
    "attribution_prefixes",
    "verb_auxiliaries",
    "determiners",
    "pronouns",
    "phrase_connectors",
    "phrase_stops",
)
_OUTCOMES = ("killed", "injured", "killed_or_injured", "captured", "missing")

_REQUIRED = ("number_words", "scale_words", "modifiers", "vague")
_OPTIONAL_DEFAULTS: dict[str, Any] = {
    "language": "",
    "number_conjunctions": [],
    "articles": [],
    "approximate_units": {},
    "one_words": [],
    "zero_words": [],
    "fillers": [],
    "suffix_modifiers": {},
    "range_separators": [],
    "range_patterns": [],
    "connectors": [],
    "multiplier_units": {},
    "suggest": {},
}


class LexiconError(ValueError):
    """A lexicon that cannot be used; `errors` lists one message per bad entry."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("invalid lexicon: " + "; ".join(errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class VagueWord:
    low: int
    high: int
    single: int


class Phrases(dict[tuple[str, ...], Any]):
    """Folded phrase -> value, knowing its longest phrase so look-ups stay cheap."""

    def __init__(self, items: Mapping[str, Any]) -> None:
        super().__init__((phrase_key(text), value) for text, value in items.items())
        self.longest = max(map(len, self), default=0)
        self.first_words = frozenset(key[0] for key in self)


@dataclass(frozen=True)
class Lexicon:
    """A validated lexicon. Build it with `from_dict` or `load_lexicon`, never by hand."""

    language: str
    number_words: Mapping[str, int]
    scale_words: Mapping[str, int]
    number_conjunctions: tuple[str, ...]
    articles: tuple[str, ...]
    approximate_units: Mapping[str, int]
    one_words: tuple[str, ...]
    zero_words: tuple[str, ...]
    fillers: tuple[str, ...]
    modifiers: Mapping[str, tuple[str, ...]]
    suffix_modifiers: Mapping[str, tuple[str, ...]]
    range_separators: tuple[str, ...]
    range_patterns: tuple[tuple[str, str], ...]
    connectors: tuple[str, ...]
    vague: Mapping[str, VagueWord]
    multiplier_units: Mapping[str, int]
    victim_nouns: frozenset[str] = frozenset()
    outcome_words: Mapping[str, str] = field(default_factory=dict)
    suggest_lists: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    source: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    # Look-up tables keyed by folded token tuples, built once from the fields above.
    prefix_phrases: Phrases = field(init=False, repr=False, compare=False)
    suffix_phrases: Phrases = field(init=False, repr=False, compare=False)
    vague_phrases: Phrases = field(init=False, repr=False, compare=False)
    zero_phrases: Phrases = field(init=False, repr=False, compare=False)
    one_phrases: Phrases = field(init=False, repr=False, compare=False)
    filler_phrases: Phrases = field(init=False, repr=False, compare=False)
    range_pattern_keys: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = field(
        init=False, repr=False, compare=False
    )
    range_separator_keys: tuple[tuple[str, ...], ...] = field(init=False, repr=False, compare=False)
    word_sets: Mapping[str, frozenset[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        prefix = {text: kind for kind in MODIFIER_KINDS for text in self.modifiers.get(kind, ())}
        suffix = {
            text: kind for kind in MODIFIER_KINDS for text in self.suffix_modifiers.get(kind, ())
        }
        set_ = object.__setattr__
        set_(self, "prefix_phrases", Phrases(prefix))
        set_(self, "suffix_phrases", Phrases(suffix))
        set_(self, "vague_phrases", Phrases(self.vague))
        set_(self, "zero_phrases", Phrases(dict.fromkeys(self.zero_words, 0)))
        set_(self, "one_phrases", Phrases(dict.fromkeys(self.one_words, 1)))
        set_(self, "filler_phrases", Phrases(dict.fromkeys(self.fillers, None)))
        set_(
            self,
            "range_pattern_keys",
            tuple((phrase_key(a), phrase_key(b)) for a, b in self.range_patterns),
        )
        set_(self, "range_separator_keys", tuple(phrase_key(s) for s in self.range_separators))
        set_(
            self,
            "word_sets",
            {name: _folded_set(words) for name, words in self.suggest_lists.items()},
        )

    def words(self, name: str) -> frozenset[str]:
        """A folded word list of the `suggest` section ("phrase_stops", "determiners", ...)."""
        return self.word_sets.get(name, frozenset())

    def to_dict(self) -> dict[str, Any]:
        """The JSON this lexicon was built from, for storing a project's copy."""
        return json.loads(json.dumps(dict(self.source)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Lexicon:
        """Validate `data` (the JSON shape of lexicon_en.json) and build a Lexicon.

        Raises LexiconError naming every bad entry, e.g. `vague["dozens"]: low 100 > high 99`.
        """
        errors: list[str] = []
        if not isinstance(data, Mapping):
            raise LexiconError([f"the lexicon must be a JSON object, got {type(data).__name__}"])
        for key in data:
            if key not in _REQUIRED and key not in _OPTIONAL_DEFAULTS:
                errors.append(f"unknown key {key!r}")
        for key in _REQUIRED:
            if key not in data:
                errors.append(f"missing key {key!r}")
        if errors:
            raise LexiconError(errors)
        d = {**_OPTIONAL_DEFAULTS, **data}

        language = d["language"]
        if not isinstance(language, str):
            errors.append(f"language: must be a string, got {language!r}")

        number_words = _int_map(d, "number_words", errors, minimum=0)
        scale_words = _int_map(d, "scale_words", errors, minimum=2)
        approximate_units = _int_map(d, "approximate_units", errors, minimum=2)
        multiplier_units = _int_map(d, "multiplier_units", errors, minimum=2)
        lists = {
            name: _phrase_list(d[name], name, errors)
            for name in (
                "number_conjunctions",
                "articles",
                "one_words",
                "zero_words",
                "fillers",
                "range_separators",
                "connectors",
            )
        }
        modifiers = _modifier_map(d, "modifiers", errors)
        suffix_modifiers = _modifier_map(d, "suffix_modifiers", errors)
        _check_modifier_clashes(modifiers, "modifiers", errors)
        _check_modifier_clashes(suffix_modifiers, "suffix_modifiers", errors)
        range_patterns = _range_patterns(d["range_patterns"], errors)
        vague = _vague_map(d["vague"], errors)
        victim_nouns, outcome_words, suggest_lists = _suggest_section(d["suggest"], errors)

        if errors:
            raise LexiconError(errors)
        frozen = MappingProxyType
        return cls(
            language=language,
            number_words=frozen({_key(k): v for k, v in number_words.items()}),
            scale_words=frozen({_key(k): v for k, v in scale_words.items()}),
            number_conjunctions=tuple(_key(w) for w in lists["number_conjunctions"]),
            articles=tuple(_key(w) for w in lists["articles"]),
            approximate_units=frozen({_key(k): v for k, v in approximate_units.items()}),
            one_words=lists["one_words"],
            zero_words=lists["zero_words"],
            fillers=lists["fillers"],
            modifiers=frozen(modifiers),
            suffix_modifiers=frozen(suffix_modifiers),
            range_separators=lists["range_separators"],
            range_patterns=range_patterns,
            connectors=tuple(_key(w) for w in lists["connectors"]),
            vague=frozen(vague),
            multiplier_units=frozen({_key(k): v for k, v in multiplier_units.items()}),
            victim_nouns=_folded_set(victim_nouns),
            outcome_words=frozen({_key(k): v for k, v in outcome_words.items()}),
            suggest_lists=frozen(suggest_lists),
            source=frozen(json.loads(json.dumps(dict(data)))),
        )


@lru_cache(maxsize=8)
def load_lexicon(language: str = "en") -> Lexicon:
    """The lexicon shipped with Annotator for `language` ("en", "ar")."""
    name = f"lexicon_{language}.json"
    package = resources.files("annotator.claims")
    resource = package / name
    if not resource.is_file():
        raise LookupError(f"no shipped lexicon for language {language!r} (looked for {name})")
    return Lexicon.from_dict(json.loads(resource.read_text(encoding="utf-8")))


def _key(text: str) -> str:
    return " ".join(phrase_key(text))


def _folded_set(words: tuple[str, ...] | list[str]) -> frozenset[str]:
    return frozenset(_key(word) for word in words)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _phrase_ok(value: object) -> bool:
    return isinstance(value, str) and bool(phrase_key(value))


def _int_map(d: Mapping[str, Any], name: str, errors: list[str], *, minimum: int) -> dict[str, int]:
    value = d[name]
    if not isinstance(value, Mapping):
        errors.append(f"{name}: must be an object of word -> integer")
        return {}
    good: dict[str, int] = {}
    for word, number in value.items():
        if not isinstance(word, str) or len(phrase_key(word)) != 1:
            errors.append(f"{name}[{word!r}]: must be a single word")
        elif not _is_int(number) or number < minimum:
            errors.append(f"{name}[{word!r}]: must be an integer >= {minimum}, got {number!r}")
        else:
            good[word] = number
    return good


def _phrase_list(value: object, name: str, errors: list[str]) -> tuple[str, ...]:
    if not isinstance(value, list):
        errors.append(f"{name}: must be a list of phrases")
        return ()
    good = []
    for index, phrase in enumerate(value):
        if _phrase_ok(phrase):
            good.append(phrase)
        else:
            errors.append(f"{name}[{index}]: must be a non-empty phrase, got {phrase!r}")
    return tuple(good)


def _modifier_map(d: Mapping[str, Any], name: str, errors: list[str]) -> dict[str, tuple[str, ...]]:
    value = d[name]
    if not isinstance(value, Mapping):
        errors.append(f"{name}: must be an object with keys {', '.join(MODIFIER_KINDS)}")
        return {}
    result = {}
    for kind, phrases in value.items():
        if kind not in MODIFIER_KINDS:
            errors.append(
                f"{name}[{kind!r}]: unknown modifier kind (use {', '.join(MODIFIER_KINDS)})"
            )
            continue
        result[kind] = _phrase_list(phrases, f"{name}[{kind!r}]", errors)
    return result


def _check_modifier_clashes(
    modifiers: Mapping[str, tuple[str, ...]], name: str, errors: list[str]
) -> None:
    seen: dict[str, str] = {}
    for kind, phrases in modifiers.items():
        for phrase in phrases:
            key = _key(phrase)
            if key in seen and seen[key] != kind:
                errors.append(f"{name}: {phrase!r} is listed as both {seen[key]} and {kind}")
            seen[key] = kind


def _range_patterns(value: object, errors: list[str]) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list):
        errors.append("range_patterns: must be a list of [before, between] pairs")
        return ()
    good = []
    for index, pair in enumerate(value):
        if isinstance(pair, list) and len(pair) == 2 and all(_phrase_ok(part) for part in pair):
            good.append((pair[0], pair[1]))
        else:
            errors.append(
                f'range_patterns[{index}]: must be a pair like ["between", "and"], got {pair!r}'
            )
    return tuple(good)


def _vague_map(value: object, errors: list[str]) -> dict[str, VagueWord]:
    if not isinstance(value, Mapping):
        errors.append("vague: must be an object of phrase -> {low, high, single}")
        return {}
    good = {}
    for phrase, entry in value.items():
        where = f"vague[{phrase!r}]"
        if not _phrase_ok(phrase):
            errors.append(f"{where}: the phrase is empty")
            continue
        if not isinstance(entry, Mapping):
            errors.append(f"{where}: must be an object with low, high and single")
            continue
        unknown = sorted(set(entry) - {"low", "high", "single"})
        if unknown:
            errors.append(f"{where}: unknown field(s) {', '.join(unknown)}")
        numbers = {}
        for name in ("low", "high", "single"):
            number = entry.get(name)
            if not _is_int(number) or number < 0:
                errors.append(f"{where}: {name} must be a non-negative integer, got {number!r}")
            else:
                numbers[name] = number
        if len(numbers) < 3:
            continue
        if numbers["low"] > numbers["high"]:
            errors.append(f"{where}: low {numbers['low']} > high {numbers['high']}")
            continue
        good[phrase] = VagueWord(**numbers)
    return good


def _suggest_section(
    value: object, errors: list[str]
) -> tuple[tuple[str, ...], dict[str, str], dict[str, tuple[str, ...]]]:
    if not isinstance(value, Mapping):
        errors.append("suggest: must be an object")
        return (), {}, {}
    for key in value:
        if key not in _SUGGEST_LISTS and key != "outcome_words":
            errors.append(f"suggest[{key!r}]: unknown key")
    lists = {
        name: _phrase_list(value.get(name, []), f"suggest[{name!r}]", errors)
        for name in _SUGGEST_LISTS
    }
    outcomes = value.get("outcome_words", {})
    good_outcomes: dict[str, str] = {}
    if not isinstance(outcomes, Mapping):
        errors.append("suggest['outcome_words']: must be an object of word -> outcome")
    else:
        for word, outcome in outcomes.items():
            if not _phrase_ok(word):
                errors.append(f"suggest['outcome_words'][{word!r}]: the word is empty")
            elif outcome not in _OUTCOMES:
                errors.append(
                    f"suggest['outcome_words'][{word!r}]: outcome must be one of "
                    f"{', '.join(_OUTCOMES)}, got {outcome!r}"
                )
            else:
                good_outcomes[word] = outcome
    return lists["victim_nouns"], good_outcomes, lists
