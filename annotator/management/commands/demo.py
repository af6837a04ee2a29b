"""`manage.py demo`: a project to click through on first start.

It holds the seed article coded twice (coder1's version is the hand-made gold, coder2's differs
from it in a few realistic ways, so the agreement report and adjudication have something to
show) and three invented articles nobody has coded yet. Every span and link goes through the
same services as the coding screen, so the gold is checked against every rule on each start.

Running it again changes nothing; `--reset` deletes the demo project and builds it anew.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from annotator.models import Annotation, Document, Project, Relation, Role
from annotator.services import (
    document_create,
    member_add,
    project_create,
    relation_create,
    span_create,
)
from annotator.services.assignments import assignment_create, assignment_submit

PROJECT_NAME = "Syria casualty claims (demo)"
PROJECT_DESCRIPTION = (
    "Created by `manage.py demo`: the seed article coded by coder1 (the gold) and coder2 "
    "(with a few disagreements), and three invented example articles nobody has coded yet."
)
PASSWORD_ENV = "ANNOTATOR_DEMO_PASSWORD"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "demo"

ACCOUNTS: tuple[tuple[str, str], ...] = (
    ("manager", Role.MANAGER),
    ("coder1", Role.CODER),
    ("coder2", Role.CODER),
    ("coder3", Role.CODER),
    ("adjudicator", Role.ADJUDICATOR),
)
DOCUMENT_FIELDS = ("title", "outlet", "url", "published", "language", "external_id", "metadata")

# coder2's version of the seed article is the gold with these slips, one of each kind a coder
# makes (keys are the gold's span ids):
# a boundary: the number left out of the claim,
CODER2_BOUNDARIES = {"C2": "ISIS field commanders"}
# a label: the metonymic "Moscow said" read as an actor instead of a source,
CODER2_LABELS = {
    "S7": ("ACTOR", {"canonical": "Russian government", "actor_type": "external_forces"}),
}
# an attribute: "citizens from the former Soviet Republics" read as of unknown status,
CODER2_ATTRIBUTES = {"C3": {"victim_status": "unknown"}}
# a span missed altogether ("this Saturday marks the end of the second year"),
CODER2_MISSED_SPANS = frozenset({"D4"})
# and a link missed: the 16 commanders not marked as part of the 2,359.
CODER2_MISSED_RELATIONS = frozenset({("subset_of", "C2", "C1")})


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def coder2_version(gold: dict) -> dict:
    """The gold with coder2's disagreements applied (plain data in, plain data out)."""
    spans = []
    for span in gold["spans"]:
        if span["id"] in CODER2_MISSED_SPANS:
            continue
        span = {**span, "attributes": dict(span["attributes"])}
        if quote := CODER2_BOUNDARIES.get(span["id"]):
            offset = span["text"].index(quote)
            span.update(start=span["start"] + offset, end=span["start"] + offset + len(quote))
            span["text"] = quote
        if change := CODER2_LABELS.get(span["id"]):
            span["label"], span["attributes"] = change[0], dict(change[1])
        span["attributes"].update(CODER2_ATTRIBUTES.get(span["id"], {}))
        spans.append(span)
    kept = {span["id"] for span in spans}
    relations = [
        relation
        for relation in gold["relations"]
        if (relation["type"], relation["from"], relation["to"]) not in CODER2_MISSED_RELATIONS
        and relation["from"] in kept
        and relation["to"] in kept
    ]
    return {**gold, "spans": spans, "relations": relations}


class Command(BaseCommand):
    help = (
        "Create the demo project (users manager, coder1-3, adjudicator; the seed article coded "
        f"by coder1 and coder2; three invented articles). Idempotent. Password from ${PASSWORD_ENV}"
        ", else generated and printed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo project (and everything coded in it) and create it anew.",
        )

    def handle(self, *args, reset: bool = False, **options):
        password = os.environ.get(PASSWORD_ENV) or None
        with transaction.atomic():
            if reset:
                self._delete_project()
            accounts = self._ensure_accounts(password, new_password=reset)
            users = {username: user for username, (user, _) in accounts.items()}
            project, created = self._ensure_project(users)
            documents = self._ensure_documents(project)
            seed = documents[0]
            gold = load_fixture("seed-gold.json")
            if gold["document"] != seed.external_id:
                raise CommandError(
                    f"seed-gold.json codes {gold['document']!r}, not {seed.external_id!r}"
                )
            coded = [
                name
                for name, version in (("coder1", gold), ("coder2", coder2_version(gold)))
                if self._code(seed, users[name], version)
            ]
        self._report(project, created, documents, coded, accounts)

    def _delete_project(self) -> None:
        for project in Project.objects.filter(name=PROJECT_NAME):
            # Annotation.label and Relation.type are PROTECT, which blocks the project's
            # cascade to its labels while spans exist: remove the coding first.
            Relation.objects.filter(document__project=project).delete()
            Annotation.objects.filter(document__project=project).delete()
            project.delete()

    def _ensure_accounts(self, password: str | None, *, new_password: bool) -> dict:
        """username -> (user, the password to show, or None when it was left as it was)."""
        User = get_user_model()
        generated = password or secrets.token_urlsafe(12)
        accounts = {}
        for username, _role in ACCOUNTS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(username=username, password=generated)
                shown = generated
            elif password and not user.check_password(password):
                user.set_password(password)
                user.save(update_fields=["password"])
                shown = password
            elif password:
                shown = password
            elif new_password:
                user.set_password(generated)
                user.save(update_fields=["password"])
                shown = generated
            else:
                shown = None
            accounts[username] = (user, shown)
        return accounts

    def _ensure_project(self, users: dict) -> tuple[Project, bool]:
        project = Project.objects.filter(name=PROJECT_NAME).order_by("pk").first()
        created = project is None
        if created:
            project = project_create(
                name=PROJECT_NAME, created_by=users["manager"], description=PROJECT_DESCRIPTION
            )
            # Three coders per document: coder1 and coder2 have submitted the seed article,
            # and coder3 can still take it.
            project.overlap_k = 3
            project.save(update_fields=["overlap_k"])
        for username, role in ACCOUNTS:
            member_add(project=project, user=users[username], role=role)
        return project, created

    def _ensure_documents(self, project: Project) -> list[Document]:
        """The seed article first, then the invented ones; matched by external_id."""
        articles = [load_fixture("seed-article.json")]
        articles += load_fixture("invented-articles.json")["articles"]
        documents = []
        for article in articles:
            document = project.documents.filter(external_id=article["external_id"]).first()
            if document is None:
                fields = {key: article[key] for key in DOCUMENT_FIELDS if key in article}
                document = document_create(project=project, text=article["text"], **fields)
            documents.append(document)
        return documents

    def _code(self, document: Document, coder, version: dict) -> bool:
        """Create the coder's spans and links unless they have coded this document already
        (deleted spans count: a re-run must not bring back what someone removed)."""
        if Annotation.objects.for_document(document).by_coder(coder).exists():
            return False
        ids = {}
        for span in version["spans"]:
            try:
                created, _ = span_create(
                    document=document,
                    coder=coder,
                    label=span["label"],
                    start=span["start"],
                    end=span["end"],
                    text=span["text"],
                    attributes=span["attributes"],
                    client_id=f"demo:{document.external_id}:{span['id']}",
                )
            except ValidationError as error:
                raise CommandError(
                    f"{coder.username}'s span {span['id']} {span['label']} {span['text']!r} "
                    f"[{span['start']}, {span['end']}) was refused: {_messages(error)}"
                ) from error
            ids[span["id"]] = created.pk
        for relation in version["relations"]:
            try:
                relation_create(
                    document=document,
                    coder=coder,
                    type=relation["type"],
                    source_id=ids[relation["from"]],
                    target_id=ids[relation["to"]],
                )
            except ValidationError as error:
                raise CommandError(
                    f"{coder.username}'s link {relation['from']} -{relation['type']}-> "
                    f"{relation['to']} was refused: {_messages(error)}"
                ) from error
        # Their coding is finished work: submitted, so the agreement report and the
        # adjudication queue have something to show on first start.
        assignment = assignment_create(
            project=document.project, document=document, coder=coder, assigned_by=coder
        )
        assignment_submit(assignment=assignment, coder=coder)
        return True

    def _report(self, project, created, documents, coded, accounts) -> None:
        write = self.stdout.write
        state = "created" if created else "already there"
        write(self.style.SUCCESS(f'Demo project "{project.name}" (id {project.pk}): {state}.'))
        for document in documents:
            write(f"  document {document.pk}: {document.title}")
        if coded:
            write(f"  coded the seed article as: {', '.join(coded)}")
        write("")
        write("Demo accounts (log in at /accounts/login/):")
        width = max(len(username) for username in accounts)
        roles = dict(ACCOUNTS)
        for username, (_user, shown) in accounts.items():
            password = shown if shown is not None else "(unchanged)"
            write(f"  {username:<{width}}  {roles[username]:<11}  password: {password}")
        if any(shown is None for _user, shown in accounts.values()):
            write(
                f"  Passwords were left as they were; set {PASSWORD_ENV} or use --reset "
                "to set new ones."
            )


def _messages(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
        )
    return " ".join(error.messages)
