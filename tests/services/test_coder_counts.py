"""Each document's coder counts (Document.live_coders, submitted_coders, needs_coders), which the
work queue and the dashboard read instead of counting assignments, stay equal to a fresh count
of its assignments whatever changes them: next, take, assign, bulk assign, submit, reopen,
release, reassign, the abandoned sweep and its command, removing a coder, a new k, an import
of coded documents, the demo, and the migration's backfill."""

from __future__ import annotations

import importlib
import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from annotator.models import ACTIVE_STATES, Assignment, AssignmentState, Document, Project, Role
from annotator.services import (
    assignment_create,
    assignment_next,
    assignment_release,
    assignment_reopen,
    assignment_submit,
    assignment_take,
    assignments_release_abandoned,
    documents_recount,
)
from annotator.services.imports import documents_import
from annotator.services.projects import (
    assignment_reassign,
    assignments_create_bulk,
    membership_remove,
    project_update,
)
from tests.factories import add_member, make_document, make_project, make_user

pytestmark = pytest.mark.django_db


def stale_counts() -> list[tuple]:
    """Documents whose kept counts differ from a fresh count: (id, kept, counted)."""
    k = dict(Project.objects.values_list("pk", "overlap_k"))
    rows = Document.objects.annotate(
        live=Count("assignments", filter=Q(assignments__state__in=ACTIVE_STATES)),
        submitted=Count("assignments", filter=Q(assignments__state=AssignmentState.SUBMITTED)),
    ).values_list(
        "pk", "project_id", "live_coders", "submitted_coders", "needs_coders", "live", "submitted"
    )
    return [
        (pk, (live_kept, submitted_kept, needs), (live, submitted, live < k[project_id]))
        for pk, project_id, live_kept, submitted_kept, needs, live, submitted in rows
        if (live_kept, submitted_kept, needs) != (live, submitted, live < k[project_id])
    ]


def coders(project, *names: str) -> list:
    users = [make_user(name) for name in names]
    for user in users:
        add_member(project, user, Role.CODER)
    return users


def test_every_change_of_an_assignment_keeps_the_counts_true(manager, project):
    project.overlap_k = 2
    project.save()
    documents = [make_document(project, title=f"Article {n}") for n in range(1, 7)]
    ana, ben, cleo, dan = coders(project, "ana", "ben", "cleo", "dan")
    steps = []

    def check(step: str) -> None:
        steps.append((step, stale_counts()))

    first = assignment_next(project=project, coder=ana)
    check("next")
    bens = assignment_take(document=first.document, coder=ben)
    check("take on first write")
    assignment_submit(assignment=first, coder=ana)
    check("submit")
    assignment_reopen(assignment=first, coder=ana)
    check("reopen")
    assignment_submit(assignment=first, coder=ana)
    check("submit again")
    assignment_release(assignment=bens, user=manager)
    check("release")
    cleos = assignment_create(
        project=project, document=first.document, coder=cleo, assigned_by=manager
    )
    check("assign")
    assignment_reassign(assignment=cleos, to_coder=dan, by=manager)
    check("reassign")
    assignments_create_bulk(
        project=project, documents=documents[1:4], coders=[ana, ben, cleo], assigned_by=manager
    )
    check("bulk assign")
    long_ago = timezone.now() - timedelta(hours=project.abandon_after_hours + 1)
    Assignment.objects.filter(document=documents[1], state__in=ACTIVE_STATES).update(
        last_activity_at=long_ago
    )
    assignments_release_abandoned(project=project)
    check("abandoned sweep")
    Assignment.objects.filter(document=documents[2], state__in=ACTIVE_STATES).update(
        last_activity_at=long_ago
    )
    call_command("release_abandoned", stdout=io.StringIO())
    check("release_abandoned command")
    membership_remove(project=project, user=cleo, by=manager, role=Role.CODER)
    check("coder removed")
    project_update(project=project, user=manager, overlap_k=3)
    check("k raised")
    project_update(project=project, user=manager, overlap_k=1)
    check("k lowered")
    for coder in (ana, ben, dan):
        while (assignment := assignment_next(project=project, coder=coder)) is not None:
            assignment_submit(assignment=assignment, coder=coder)
    check("the queue emptied")

    assert [(step, stale) for step, stale in steps if stale] == []
    assert not Document.objects.filter(project=project, needs_coders=True).exists()


def test_an_import_of_coded_documents_counts_their_coders(manager, project):
    coders(project, "ana", "ben")
    text = "Russian air strikes killed 16 ISIS fighters in Idlib."
    spans = [
        {
            "id": f"s-{coder}",
            "start": 0,
            "end": 19,
            "label": "ACTOR",
            "text": "Russian air strikes",
            "coder": coder,
        }
        for coder in ("ana", "ben")
    ]
    lines = [
        {"external_id": "a-1", "text": text, "spans": spans},
        {"external_id": "a-2", "text": "Nobody has coded this one yet."},
    ]
    source = io.BytesIO("\n".join(json.dumps(line) for line in lines).encode())
    source.name = "coded.jsonl"

    result = documents_import(project=project, user=manager, source=source, format="jsonl")

    assert result.ok, result.errors
    assert stale_counts() == []
    counts = dict(Document.objects.values_list("external_id", "submitted_coders"))
    assert counts == {"a-1": 2, "a-2": 0}


def test_the_demo_leaves_true_counts(monkeypatch):
    monkeypatch.delenv("ANNOTATOR_DEMO_PASSWORD", raising=False)
    call_command("demo", stdout=io.StringIO())

    assert Document.objects.filter(submitted_coders__gt=0).exists()
    assert stale_counts() == []


def test_the_migration_backfills_the_counts_from_the_assignments(manager, project):
    ana, ben = coders(project, "ana", "ben")
    document, other = make_document(project), make_document(project)
    assignment_submit(
        assignment=assignment_create(
            project=project, document=document, coder=ana, assigned_by=manager
        ),
        coder=ana,
    )
    assignment_create(project=project, document=document, coder=ben, assigned_by=manager)
    Document.objects.update(live_coders=0, submitted_coders=0, needs_coders=False)
    migration = importlib.import_module("annotator.migrations.0011_coder_counts")

    with connection.cursor() as cursor:
        for statement in migration.BACKFILL:
            cursor.execute(statement)

    assert stale_counts() == []
    assert Document.objects.get(pk=document.pk).submitted_coders == 1
    assert Document.objects.get(pk=other.pk).needs_coders


def test_a_recount_repairs_counts_written_around_the_services(manager, project):
    (ana,) = coders(project, "ana")
    document = make_document(project)
    Assignment.objects.create(project=project, document=document, coder=ana)
    assert stale_counts() != []

    documents_recount(document_ids=[document.pk])

    assert stale_counts() == []


def test_the_queue_skips_documents_whose_counts_say_they_are_full(manager, project):
    project.overlap_k = 1
    project.save()
    full, free = make_document(project, title="Full"), make_document(project, title="Free")
    ana, ben = coders(project, "ana", "ben")
    assignment_create(project=project, document=full, coder=ana, assigned_by=manager)

    assignment = assignment_next(project=project, coder=ben)

    assert assignment.document == free
    assert list(Document.objects.filter(needs_coders=True)) == []


def test_a_new_project_document_needs_coders():
    project = make_project()
    document = make_document(project)

    assert (document.live_coders, document.submitted_coders, document.needs_coders) == (0, 0, True)
    assert Document.objects.get(pk=document.pk).needs_coders
