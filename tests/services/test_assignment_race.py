"""Never more than k coders on a document, however many press "Next document" at once.

Twenty coders, each in their own thread with their own database connection, call
assignment_next at the same moment while only a few slots are left. PostgreSQL only: SQLite
has a single writer, so there is no race to prove there.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.db.models import Count, Q

from annotator.models import ACTIVE_STATES, Assignment, Document, Project, Role
from annotator.services import assignment_next, assignment_submit
from tests.factories import add_member, assign, make_document, make_project, make_user

CODERS = 20
K = 2
DOCUMENTS = 4

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs concurrent writers and row locks: PostgreSQL only (set DATABASE_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]


def _race(project_id: int, coder_ids: list[int], rounds: int = 1) -> tuple[list, list]:
    barrier = threading.Barrier(len(coder_ids))
    results: list = []
    errors: list = []
    lock = threading.Lock()

    def work(coder_id: int) -> None:
        try:
            project = Project.objects.get(pk=project_id)
            coder = project.memberships.get(user_id=coder_id).user
            barrier.wait(timeout=30)
            for _ in range(rounds):
                assignment = assignment_next(project=project, coder=coder)
                with lock:
                    results.append(assignment.document_id if assignment else None)
                if rounds > 1 and assignment is not None:
                    assignment_submit(assignment=assignment, coder=coder)
        except Exception as error:  # noqa: BLE001 - reported by the test below
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(coder_id,)) for coder_id in coder_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def test_twenty_coders_racing_for_the_last_slots_never_exceed_k():
    project = make_project(make_user("race-manager"))
    project.overlap_k = K
    project.save()
    documents = [make_document(project, title=f"Article {n}") for n in range(DOCUMENTS)]
    # The first three documents already have one coder each: 8 slots, 5 of them left.
    for document in documents[:3]:
        early = make_user()
        add_member(project, early, Role.CODER)
        assign(document, early)
    racers = []
    for n in range(CODERS):
        user = make_user(f"racer{n}")
        add_member(project, user, Role.CODER)
        racers.append(user.pk)
    free = DOCUMENTS * K - 3

    results, errors = _race(project.pk, racers)

    assert errors == []
    assert len(results) == CODERS
    live = dict(
        Document.objects.filter(project=project)
        .annotate(n=Count("assignments", filter=Q(assignments__state__in=ACTIVE_STATES)))
        .values_list("pk", "n")
    )
    assert max(live.values()) <= K
    assert live == {document.pk: K for document in documents}  # every slot is used
    assert sum(result is not None for result in results) == free
    assert Assignment.objects.filter(coder_id__in=racers).count() == free
    kept = dict(Document.objects.filter(project=project).values_list("pk", "live_coders"))
    assert kept == live  # the counts the queue reads are the truth after the race
    assert not Document.objects.filter(project=project, needs_coders=True).exists()


def test_coders_taking_and_submitting_at_once_keep_the_counts_true():
    project = make_project(make_user("busy-manager"))
    project.overlap_k = K
    project.save()
    for n in range(DOCUMENTS):
        make_document(project, title=f"Article {n}")
    racers = []
    for n in range(CODERS // 2):
        user = make_user(f"busy{n}")
        add_member(project, user, Role.CODER)
        racers.append(user.pk)

    results, errors = _race(project.pk, racers, rounds=3)

    assert errors == []
    assert sum(result is not None for result in results) == DOCUMENTS * K
    counted = (
        Document.objects.filter(project=project)
        .annotate(
            live=Count("assignments", filter=Q(assignments__state__in=ACTIVE_STATES)),
            submitted=Count("assignments", filter=Q(assignments__state="submitted")),
        )
        .values_list("live", "submitted", "live_coders", "submitted_coders", "needs_coders")
    )
    assert set(counted) == {(K, K, K, K, False)}  # full, all submitted, and the counts say so
