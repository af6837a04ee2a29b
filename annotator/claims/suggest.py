"""Pre-annotation: spans a coder may accept or reject, found by rules and the project's lists.

Offsets are Python str indices (code points), half-open, like every span in Annotator. The rules
are deliberately plain (a number with a victim noun in a sentence about killing; the subject of
"said"); `evaluate` measures them against a coder's gold so a change can be judged by numbers.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from annotator.claims._text import Token, tokenize
from annotator.claims.lexicon import Lexicon, load_lexicon
from annotator.claims.quantity import QuantifierType, match_quantity

CASUALTY, SOURCE, ACTOR, LOCATION = "CASUALTY", "SOURCE", "ACTOR", "LOCATION"
_PRIORITY = {CASUALTY: 0, SOURCE: 1, ACTOR: 2, LOCATION: 2}

_ARTICLE_PREFIXES = frozenset({"al", "el"})
_ARABIC_ARTICLE = "\u0627\u0644"  # the Arabic article, written joined to its word
_NAME_GAP = re.compile(r"[ \t\u00a0\-\u2010\u2011'\u2019]{0,3}")
_WORD_JOINERS = frozenset("-\u2010\u2011'\u2019")
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*\s+|\n\s*")


@dataclass(frozen=True)
class Entity:
    """An entry of a project's actor or place list: canonical name, aliases, default attributes."""

    name: str
    aliases: tuple[str, ...] = ()
    attributes: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def coerce(cls, value: Entity | str | Mapping[str, Any]) -> Entity:
        """Accept "Idlib", {"name": ..., "aliases": [...], "attributes": {...}} or an Entity."""
        if isinstance(value, Entity):
            return value
        if isinstance(value, str):
            return cls(value)
        name = value.get("name") or value.get("canonical")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"a list entry needs a name: {value!r}")
        return cls(name, tuple(value.get("aliases", ())), dict(value.get("attributes", {})))


@dataclass(frozen=True)
class Suggestion:
    start: int
    end: int
    label: str
    text: str
    reason: str
    attributes: dict[str, Any] = field(default_factory=dict)


EntityLike = Entity | str | Mapping[str, Any]


def suggest_spans(
    text: str,
    actors: Iterable[EntityLike] = (),
    places: Iterable[EntityLike] = (),
    lexicon: Lexicon | None = None,
) -> list[Suggestion]:
    """CASUALTY, SOURCE, ACTOR and LOCATION suggestions for `text`, sorted, never overlapping.

    ACTOR and LOCATION come only from the given lists (matching ignores case, diacritics and
    "al-"/"el-" prefixes; whole words only; short all-capital aliases such as "IS" match only
    in capitals). As the codebook asks, no ACTOR or LOCATION is suggested inside a CASUALTY or
    SOURCE span; an actor named inside a CASUALTY becomes its `victim_affiliation`.
    """
    lex = lexicon or load_lexicon("en")
    tokens = tokenize(text)
    sentence_of = _sentence_index(text, tokens)
    names = _name_tokens(text, tokens)
    actor_hits = _entity_hits(text, names, [Entity.coerce(a) for a in actors], ACTOR)
    place_hits = _entity_hits(text, names, [Entity.coerce(p) for p in places], LOCATION)

    casualties = _casualties(text, tokens, sentence_of, lex)
    casualties = [_with_affiliation(c, actor_hits) for c in casualties]
    sources = _sources(text, tokens, lex)
    return _without_overlaps([*casualties, *sources, *actor_hits, *place_hits])


# --- CASUALTY ----------------------------------------------------------------------------------


def _casualties(
    text: str, tokens: list[Token], sentence_of: list[int], lex: Lexicon
) -> list[Suggestion]:
    found: list[Suggestion] = []
    force_cues = lex.words("force_size_cues")
    outcomes = _outcome_words_by_sentence(tokens, sentence_of, lex)
    i = 0
    while i < len(tokens):
        match = match_quantity(tokens, i, lex, text)
        if match is None:
            i += 1
            continue
        quantity, after = match
        phrase = _victim_phrase(tokens, after, lex)
        candidates = outcomes.get(sentence_of[i], [])
        outcome = _outcome_near(tokens, candidates, i, phrase[1] if phrase else after, lex)
        if i > 0 and tokens[i - 1].key in force_cues:
            phrase = None  # "numbering about 1,500 fighters": the size of a force (hard case 5)
        if phrase is not None and outcome is not None:
            head, end = phrase
            start_char, end_char = quantity.count_start, tokens[end - 1].end
            reason = (
                f"quantity {quantity.count_text!r} with victim noun "
                f"{tokens[head].text!r} in a sentence with {outcome[0]!r}"
            )
            attributes = {"outcome": outcome[1], **quantity.as_attributes()}
            found.append(
                Suggestion(
                    start_char, end_char, CASUALTY, text[start_char:end_char], reason, attributes
                )
            )
            i = end
        else:
            i = after
    found.extend(_bare_plurals(text, tokens, lex))
    return found


def _victim_phrase(tokens: list[Token], j: int, lex: Lexicon) -> tuple[int, int] | None:
    """(head index, index after) of the victim phrase starting at token j, or None.

    The phrase is a run of words ending in a victim noun ("ISIS field commanders"), optionally
    "of the ..." before it ("16 of the soldiers"), and a restrictive "from/of ..." after it
    ("citizens from the former Soviet Republics").
    """
    connectors = lex.words("phrase_connectors")
    determiners = lex.words("determiners")
    stops = _stop_words(lex)
    if j < len(tokens) and tokens[j].key in connectors:  # "16 of the soldiers"
        j += 1
        while j < len(tokens) and tokens[j].key in determiners:
            j += 1
    end = _word_run(tokens, j, stops | connectors, limit=6)
    if end == j or tokens[end - 1].key not in lex.victim_nouns:
        return None
    head = end - 1
    if end < len(tokens) and tokens[end].key in connectors:
        tail = _word_run(tokens, end + 1, stops, limit=8)
        while tail > end + 1 and tokens[tail - 1].key in determiners | connectors:
            tail -= 1
        if tail > end + 1:
            end = tail
    return head, end


def _bare_plurals(text: str, tokens: list[Token], lex: Lexicon) -> list[Suggestion]:
    """Victim phrases with no number: "killing ISIS terrorists", "civilians were killed"."""
    found = []
    object_verbs = lex.words("object_verbs")
    determiners = lex.words("determiners")
    stops = _stop_words(lex)
    auxiliaries = [tuple(a.split()) for a in lex.words("passive_auxiliaries")]
    for v, verb in enumerate(tokens):
        if verb.key in object_verbs:  # active: the victims follow the verb
            j = v + 1
            while j < len(tokens) and tokens[j].key in determiners:
                j += 1
            end = _word_run(tokens, j, stops | lex.words("phrase_connectors"), limit=6)
            if end > j and tokens[end - 1].key in lex.victim_nouns:
                found.append(_unspecified(text, tokens, j, end, verb, lex))
        if verb.key in lex.outcome_words:  # passive: "<victims> were killed"
            for aux in auxiliaries:
                a = v - len(aux)
                if a > 0 and tuple(t.key for t in tokens[a:v]) == aux:
                    start = _word_run_backwards(tokens, a, stops | determiners, limit=6)
                    if start < a and tokens[a - 1].key in lex.victim_nouns:
                        found.append(_unspecified(text, tokens, start, a, verb, lex))
    return found


def _unspecified(
    text: str, tokens: list[Token], first: int, end: int, verb: Token, lex: Lexicon
) -> Suggestion:
    start_char, end_char = tokens[first].start, tokens[end - 1].end
    attributes = {
        "outcome": lex.outcome_words.get(verb.key, "killed"),
        "count_text": "",
        "quantifier_type": str(QuantifierType.UNSPECIFIED),
        "low": 1,
        "best": None,
        "high": None,
    }
    reason = f"victims {text[start_char:end_char]!r} of {verb.text!r} with no number"
    return Suggestion(start_char, end_char, CASUALTY, text[start_char:end_char], reason, attributes)


def _outcome_words_by_sentence(
    tokens: list[Token], sentence_of: list[int], lex: Lexicon
) -> dict[int, list[int]]:
    by_sentence: dict[int, list[int]] = {}
    for k, token in enumerate(tokens):
        if token.key in lex.outcome_words:
            by_sentence.setdefault(sentence_of[k], []).append(k)
    return by_sentence


def _outcome_near(
    tokens: list[Token], candidates: list[int], start: int, end: int, lex: Lexicon
) -> tuple[str, str] | None:
    """The outcome word among `candidates` nearest to tokens[start:end]: (word, outcome).

    A word inside the span ("12 dead") counts only when the sentence has no other.
    """

    def distance(k: int) -> int:
        if start <= k < end:
            return 1_000_000
        return min(abs(k - start), abs(k - (end - 1)))

    if not candidates:
        return None
    nearest = tokens[min(candidates, key=distance)]
    return nearest.text, lex.outcome_words[nearest.key]


def _with_affiliation(claim: Suggestion, actor_hits: list[Suggestion]) -> Suggestion:
    for hit in actor_hits:
        if claim.start <= hit.start and hit.end <= claim.end:
            attributes = {**claim.attributes, "victim_affiliation": hit.attributes["canonical"]}
            return Suggestion(
                claim.start, claim.end, claim.label, claim.text, claim.reason, attributes
            )
    return claim


# --- SOURCE ------------------------------------------------------------------------------------


def _sources(text: str, tokens: list[Token], lex: Lexicon) -> list[Suggestion]:
    found = []
    determiners = lex.words("determiners")
    pronouns = lex.words("pronouns")
    auxiliaries = lex.words("verb_auxiliaries")
    prefixes = [tuple(p.split()) for p in lex.words("attribution_prefixes")]
    verbs = lex.words("attribution_verbs")
    for v, token in enumerate(tokens):
        for prefix in prefixes:  # "according to local media reports"
            if tuple(t.key for t in tokens[v : v + len(prefix)]) == prefix:
                phrase = _noun_phrase_after(tokens, v + len(prefix), lex)
                if phrase is not None:
                    found.append(_source(text, tokens, *phrase, f"after {' '.join(prefix)!r}"))
        if token.key not in verbs:
            continue
        b = v
        while b > 0 and tokens[b - 1].key in auxiliaries:
            b -= 1
        if b > 0 and tokens[b - 1].key in pronouns:
            continue  # "he said": nothing to tag without resolving the pronoun
        start = _word_run_backwards(tokens, b, _stop_words(lex) | determiners, limit=6)
        while start < b and tokens[start].key in lex.words("phrase_connectors"):
            start += 1
        if start < b:  # "the Russian ministry of defense has announced"
            found.append(_source(text, tokens, start, b, f"subject of {token.text!r}"))
            continue
        phrase = _noun_phrase_after(tokens, v + 1, lex)  # '..." said the ministry.'
        if phrase is not None:
            found.append(_source(text, tokens, *phrase, f"after {token.text!r}"))
    return found


def _noun_phrase_after(tokens: list[Token], j: int, lex: Lexicon) -> tuple[int, int] | None:
    determiners = lex.words("determiners")
    connectors = lex.words("phrase_connectors")
    while j < len(tokens) and tokens[j].key in determiners:
        j += 1
    if j < len(tokens) and tokens[j].key in lex.words("pronouns"):
        return None
    end = _word_run(tokens, j, _stop_words(lex), limit=8)
    while end > j and tokens[end - 1].key in determiners | connectors:
        end -= 1
    return (j, end) if end > j else None


def _source(text: str, tokens: list[Token], first: int, end: int, reason: str) -> Suggestion:
    start_char, end_char = tokens[first].start, tokens[end - 1].end
    return Suggestion(start_char, end_char, SOURCE, text[start_char:end_char], reason, {})


# --- ACTOR and LOCATION from lists ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _NameToken:
    key: str
    text: str
    start: int  # including a dropped "al-" before it
    end: int


def _name_tokens(text: str, tokens: Sequence[Token]) -> list[_NameToken]:
    """Word tokens with "al-"/"el-"/"Al " prefixes folded into the word they precede."""
    words = [t for t in tokens if t.kind in ("word", "num")]
    result: list[_NameToken] = []
    prefix_start: int | None = None
    for k, token in enumerate(words):
        nxt = words[k + 1] if k + 1 < len(words) else None
        if (
            token.key in _ARTICLE_PREFIXES
            and nxt is not None
            and text[token.end : nxt.start] in ("-", " ", "\u2010", "\u2011", "\u00a0")
        ):
            prefix_start = token.start if prefix_start is None else prefix_start
            continue
        start = token.start if prefix_start is None else prefix_start
        key = token.key
        if key.startswith(_ARABIC_ARTICLE) and len(key) > len(_ARABIC_ARTICLE) + 1:
            key = key[len(_ARABIC_ARTICLE) :]  # "الرقة" and "رقة" are one name
        result.append(_NameToken(key, _unaccented(token.text), start, token.end))
        prefix_start = None
    return result


def name_key(name: str) -> str:
    """The form list matching compares: case, diacritics and "al-"/"el-"/"ال" dropped, words
    joined by one space ("Deir ez-Zor" and "deir ez zor" have one key)."""
    return " ".join(t.key for t in _name_tokens(name, tokenize(name)))


def _unaccented(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _is_acronym(word: str) -> bool:
    return len(word) <= 5 and word.isupper() and sum(ch.isalpha() for ch in word) >= 2


def _entity_hits(
    text: str, names: list[_NameToken], entities: list[Entity], label: str
) -> list[Suggestion]:
    by_first: dict[str, list[tuple[list[_NameToken], Entity, str]]] = {}
    for entity in entities:
        for alias in dict.fromkeys((entity.name, *entity.aliases)):
            alias_tokens = _name_tokens(alias, tokenize(alias))
            if alias_tokens:
                by_first.setdefault(alias_tokens[0].key, []).append((alias_tokens, entity, alias))
    hits = []
    for k, first in enumerate(names):
        for alias_tokens, entity, alias in by_first.get(first.key, ()):
            window = names[k : k + len(alias_tokens)]
            if len(window) == len(alias_tokens) and _same_name(text, window, alias_tokens):
                start, end = window[0].start, window[-1].end
                attributes = dict(entity.attributes)
                if label == ACTOR:
                    attributes["canonical"] = entity.name
                reason = f"{label.lower()} list: {entity.name!r} (alias {alias!r})"
                hits.append(Suggestion(start, end, label, text[start:end], reason, attributes))
    return hits


def _same_name(text: str, window: list[_NameToken], alias: list[_NameToken]) -> bool:
    for found, wanted in zip(window, alias, strict=True):
        if found.key != wanted.key:
            return False
        if _is_acronym(wanted.text) and found.text != wanted.text:
            return False  # "IS" is Islamic State; "is" is a verb
    return all(
        _NAME_GAP.fullmatch(text[a.end : b.start]) for a, b in zip(window, window[1:], strict=False)
    )


# --- shared helpers ----------------------------------------------------------------------------


def _stop_words(lex: Lexicon) -> frozenset[str]:
    return (
        lex.words("phrase_stops") | lex.words("attribution_verbs") | frozenset(lex.outcome_words)
    ) - lex.victim_nouns


def _word_run(tokens: list[Token], j: int, stops: frozenset[str], *, limit: int) -> int:
    """Index after the longest run of at most `limit` words from j; hyphens may join words."""
    k, words = j, 0
    while k < len(tokens) and words < limit:
        token = tokens[k]
        if token.kind == "word" and token.key not in stops:
            k, words = k + 1, words + 1
        elif _joins(tokens, k) and words > 0:
            k += 1
        else:
            break
    while k > j and tokens[k - 1].kind != "word":
        k -= 1
    return k


def _word_run_backwards(tokens: list[Token], b: int, stops: frozenset[str], *, limit: int) -> int:
    """Index of the first word of the longest run of at most `limit` words ending before b."""
    k, words = b, 0
    while k > 0 and words < limit:
        token = tokens[k - 1]
        if token.kind == "word" and token.key not in stops:
            k, words = k - 1, words + 1
        elif _joins(tokens, k - 1) and words > 0:
            k -= 1
        else:
            break
    while k < b and tokens[k].kind != "word":
        k += 1
    return k


def _joins(tokens: list[Token], k: int) -> bool:
    """A hyphen or apostrophe written tight between two words ("war-torn", "Russia's")."""
    token = tokens[k]
    return (
        token.kind == "punct"
        and token.text in _WORD_JOINERS
        and 0 < k < len(tokens) - 1
        and tokens[k - 1].end == token.start
        and token.end == tokens[k + 1].start
    )


def _sentence_index(text: str, tokens: list[Token]) -> list[int]:
    boundaries = [m.end() for m in _SENTENCE_END.finditer(text)]
    return [bisect.bisect_right(boundaries, token.start) for token in tokens]


def _without_overlaps(suggestions: list[Suggestion]) -> list[Suggestion]:
    """Keep CASUALTY, then SOURCE, then the longest list matches; drop whatever overlaps."""
    ranked = sorted(
        enumerate(suggestions),
        key=lambda item: (
            _PRIORITY[item[1].label],
            -(item[1].end - item[1].start) if item[1].label in (ACTOR, LOCATION) else item[0],
            item[1].start,
        ),
    )
    kept: list[Suggestion] = []  # sorted by start, pairwise disjoint
    for _, suggestion in ranked:
        at = bisect.bisect_left(kept, suggestion.start, key=lambda k: k.start)
        clear_before = at == 0 or kept[at - 1].end <= suggestion.start
        clear_after = at == len(kept) or suggestion.end <= kept[at].start
        if clear_before and clear_after:
            kept.insert(at, suggestion)
    return sorted(kept, key=lambda s: (s.start, s.end, s.label))


# --- measuring against gold --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LabelScore:
    label: str
    gold: int
    suggested: int
    exact: int  # suggestions with the same label, start and end as a gold span
    overlap: int  # one-to-one pairs with the same label and at least one shared character

    @property
    def precision_exact(self) -> float:
        return self.exact / self.suggested if self.suggested else 0.0

    @property
    def recall_exact(self) -> float:
        return self.exact / self.gold if self.gold else 0.0

    @property
    def precision_overlap(self) -> float:
        return self.overlap / self.suggested if self.suggested else 0.0

    @property
    def recall_overlap(self) -> float:
        return self.overlap / self.gold if self.gold else 0.0


def evaluate(suggestions: Iterable[Any], gold_spans: Iterable[Any]) -> dict[str, LabelScore]:
    """Precision and recall per label, exact and by overlap.

    Both arguments hold objects or mappings with `start`, `end` and `label`. Overlap matching is
    one-to-one (greedy, largest shared length first), so one long suggestion covering two gold
    spans counts once.
    """
    predicted = [_triple(s) for s in suggestions]
    gold = [_triple(g) for g in gold_spans]
    scores = {}
    for label in sorted({t[2] for t in predicted} | {t[2] for t in gold}):
        p = [t for t in predicted if t[2] == label]
        g = [t for t in gold if t[2] == label]
        exact = len(set(p) & set(g))
        pairs = sorted(
            (
                (min(a[1], b[1]) - max(a[0], b[0]), i, j)
                for i, a in enumerate(p)
                for j, b in enumerate(g)
                if min(a[1], b[1]) > max(a[0], b[0])
            ),
            reverse=True,
        )
        used_p: set[int] = set()
        used_g: set[int] = set()
        for _, i, j in pairs:
            if i not in used_p and j not in used_g:
                used_p.add(i)
                used_g.add(j)
        scores[label] = LabelScore(label, len(g), len(p), exact, len(used_p))
    return scores


def _triple(span: Any) -> tuple[int, int, str]:
    if isinstance(span, Mapping):
        return int(span["start"]), int(span["end"]), str(span["label"])
    return int(span.start), int(span.end), str(span.label)
