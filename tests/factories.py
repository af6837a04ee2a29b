"""Plain factory functions: the least a test needs to say to get a realistic object."""

from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model

from annotator.models import Membership, Role
from annotator.services import document_create, project_create

_counter = itertools.count(1)

ARTICLE = (
    "Russian air strikes in Syria between September 19-29 resulted in the deaths of "
    "2,359 ISIS terrorists all over the war-torn country, the Russian ministry of defense "
    "has announced."
)


def make_user(username: str | None = None, **extra):
    username = username or f"user{next(_counter)}"
    return get_user_model().objects.create_user(username=username, password="pw-for-tests", **extra)


def make_project(manager=None, name: str | None = None, **extra):
    manager = manager or make_user()
    return project_create(name=name or f"Project {next(_counter)}", created_by=manager, **extra)


def add_member(project, user, role: str = Role.CODER):
    return Membership.objects.get_or_create(project=project, user=user, role=role)[0]


def make_document(project, text: str = ARTICLE, **fields):
    return document_create(project=project, text=text, **fields)


def quote_span(document, phrase: str, occurrence: int = 1) -> dict:
    """start/end/text of the n-th occurrence of phrase in the document."""
    index = -1
    for _ in range(occurrence):
        index = document.text.index(phrase, index + 1)
    return {"start": index, "end": index + len(phrase), "text": phrase}


def assign(document, coder, state: str = "assigned", assigned_by=None):
    """A live assignment of `document` to `coder`, made by the project's manager through the
    services and moved on to `state` (assigned, in_progress or submitted) the way a coder would."""
    from annotator.models import Assignment, AssignmentState
    from annotator.services import assignment_create, assignment_submit, assignment_touch

    project = document.project
    if assigned_by is None:
        assigned_by = project.memberships.filter(role=Role.MANAGER).first().user
    assignment = assignment_create(
        project=project, document=document, coder=coder, assigned_by=assigned_by
    )
    if state in (AssignmentState.IN_PROGRESS, AssignmentState.SUBMITTED):
        assignment = assignment_touch(assignment=assignment)
    if state == AssignmentState.SUBMITTED:
        assignment = assignment_submit(assignment=assignment, coder=coder)
    return Assignment.objects.get(pk=assignment.pk)
