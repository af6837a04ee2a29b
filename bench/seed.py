"""The bench's data, built with the app's services (bulk_create only for the 2,000 spans
of the long article, whose quotes the database trigger still checks).

`build()` returns a Plan: plain, picklable data (ids, usernames, the spans each client will
create), so that the client processes need no Django.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from annotator.codebook import get_codebook
from annotator.models import Annotation, Role
from annotator.services import (
    document_create,
    member_add,
    project_create,
    relation_create,
    span_create,
)
from bench import texts

FIXTURES = Path(__file__).resolve().parents[1] / "annotator" / "fixtures" / "demo"

# One create: (document id, label name, start, end, quote).
Create = tuple[int, str, int, int, str]


@dataclass(frozen=True)
class Sizes:
    """How much each measurement does; `Sizes.smoke()` is the tiny version the test uses."""

    spans_per_document: int = 50  # creates per small document, as a coder would make
    api_sequential: int = 500
    htmx_sequential: int = 500
    concurrent_clients: int = 8
    concurrent_per_client: int = 100
    warmup: int = 30
    read_spans: int = 50
    long_length: int = 50_000
    long_spans: int = 2_000
    long_creates: int = 200
    reads: int = 200  # each kind of read in figure 4
    long_screens: int = 60  # figure 5a

    @classmethod
    def smoke(cls) -> Sizes:
        return cls(
            spans_per_document=5,
            api_sequential=6,
            htmx_sequential=6,
            concurrent_clients=2,
            concurrent_per_client=5,
            warmup=3,
            read_spans=10,
            long_length=5_000,
            long_spans=100,
            long_creates=10,
            reads=5,
            long_screens=3,
        )


@dataclass
class Plan:
    sizes: Sizes
    password: str
    solo: str  # the coder of every sequential measurement
    concurrent: list[str]
    warmup_api: list[Create]
    warmup_htmx: list[Create]
    api_sequential: list[Create]
    htmx_sequential: list[Create]
    concurrent_work: list[list[Create]]
    read_document: int  # seed article with `read_spans` gold spans of solo
    read_spans: int
    gold_document: int  # seed article with all the gold spans and links of solo
    gold_spans: int
    gold_relations: int
    long_documents: tuple[int, int]  # twins: one for API creates, one for htmx creates
    long_length: int
    long_spans: int
    long_api: list[Create] = field(default_factory=list)
    long_htmx: list[Create] = field(default_factory=list)


def load_fixture(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _users(password: str, names: list[str]):
    """Users sharing one password hash: hashing is slow by design and would dominate setup."""
    hashed = make_password(password)
    model = get_user_model()
    return {name: model.objects.create(username=name, password=hashed) for name in names}


def _copies(project, seed: dict, count: int, tag: str) -> list:
    fields = {k: seed[k] for k in ("outlet", "published", "language")}
    return [
        document_create(
            project=project, text=seed["text"], title=f"{seed['title']} ({tag} {n})", **fields
        )
        for n in range(count)
    ]


def _word_creates(documents, labels: list[str], per_document: int, total: int) -> list[Create]:
    """`total` creates, `per_document` words spread over each document in turn."""
    creates: list[Create] = []
    cycle = itertools.cycle(labels)
    for document in documents:
        for span in texts.spread(texts.words(document.text), per_document):
            creates.append((document.pk, next(cycle), span.start, span.end, span.text))
    if len(creates) < total:
        raise ValueError(f"planned {len(creates)} creates, {total} wanted")
    return creates[:total]


def _documents_for(count: int, per_document: int) -> int:
    return -(-count // per_document)


def _add_gold(document, coder, gold: dict, span_limit: int | None = None) -> tuple[int, int]:
    ids = {}
    for span in gold["spans"][:span_limit]:
        created, _ = span_create(
            document=document,
            coder=coder,
            label=span["label"],
            start=span["start"],
            end=span["end"],
            text=span["text"],
            attributes=span["attributes"],
        )
        ids[span["id"]] = created.pk
    relations = 0
    for relation in gold["relations"]:
        if relation["from"] in ids and relation["to"] in ids:
            relation_create(
                document=document,
                coder=coder,
                type=relation["type"],
                source_id=ids[relation["from"]],
                target_id=ids[relation["to"]],
            )
            relations += 1
    return len(ids), relations


def _long_document(project, coder, seed: dict, sizes: Sizes, labels, codebook, tag: str):
    text = texts.long_article(seed["text"], sizes.long_length)
    document = document_create(project=project, text=text, title=f"Long article ({tag})")
    seeded, free = texts.seeded_and_free(text, sizes.long_spans, sizes.long_creates)
    by_name = {label.name: label for label in codebook.labels}
    cycle = itertools.cycle(labels)
    rows = []
    for span in seeded:
        label = by_name[next(cycle)]
        defaults = {a.name: a.default for a in label.attributes if a.default is not None}
        rows.append(
            Annotation(
                document=document,
                coder=coder,
                label_id=label.id,
                start=span.start,
                end=span.end,
                text=span.text,
                attributes=defaults,
                codebook_version=codebook.version,
            )
        )
    Annotation.objects.bulk_create(rows, batch_size=500)
    cycle = itertools.cycle(labels)
    creates = [(document.pk, next(cycle), s.start, s.end, s.text) for s in free]
    return document, creates


@transaction.atomic
def build(password: str, sizes: Sizes | None = None) -> Plan:
    """Users, one project with the default codebook, and every document the bench uses."""
    sizes = sizes or Sizes()
    seed = load_fixture("seed-article.json")
    gold = load_fixture("seed-gold.json")
    concurrent_names = [f"bench-coder-{n}" for n in range(sizes.concurrent_clients)]
    users = _users(password, ["bench-manager", "bench-solo", *concurrent_names])
    project = project_create(name="Bench", created_by=users["bench-manager"])
    for name in ["bench-solo", *concurrent_names]:
        member_add(project=project, user=users[name], role=Role.CODER)
    codebook = get_codebook(project)
    labels = [label.name for label in codebook.enabled_labels]
    per_doc = sizes.spans_per_document

    def creates(count: int, tag: str) -> list[Create]:
        documents = _copies(project, seed, _documents_for(count, per_doc), tag)
        return _word_creates(documents, labels, per_doc, count)

    solo = users["bench-solo"]
    read_document = _copies(project, seed, 1, "read")[0]
    read_spans, _ = _add_gold(read_document, solo, gold, span_limit=sizes.read_spans)
    gold_document = _copies(project, seed, 1, "gold")[0]
    gold_spans, gold_relations = _add_gold(gold_document, solo, gold)
    long_api, api_creates = _long_document(project, solo, seed, sizes, labels, codebook, "API")
    long_htmx, htmx_creates = _long_document(project, solo, seed, sizes, labels, codebook, "htmx")
    return Plan(
        sizes=sizes,
        password=password,
        solo="bench-solo",
        concurrent=concurrent_names,
        warmup_api=creates(sizes.warmup, "warm-up API"),
        warmup_htmx=creates(sizes.warmup, "warm-up htmx"),
        api_sequential=creates(sizes.api_sequential, "API"),
        htmx_sequential=creates(sizes.htmx_sequential, "htmx"),
        concurrent_work=[creates(sizes.concurrent_per_client, name) for name in concurrent_names],
        read_document=read_document.pk,
        read_spans=read_spans,
        gold_document=gold_document.pk,
        gold_spans=gold_spans,
        gold_relations=gold_relations,
        long_documents=(long_api.pk, long_htmx.pk),
        long_length=len(long_api.text),
        long_spans=sizes.long_spans,
        long_api=api_creates,
        long_htmx=htmx_creates,
    )
