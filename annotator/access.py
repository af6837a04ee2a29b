"""Who may see and touch what: the only place that answers it.

Every lookup starts from the user (their memberships), so a forgotten filter cannot leak
another team's data. Anything outside the user's reach is a 404, never a 403: a coder must
not learn that another coder's span or another team's document exists.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Q, Subquery
from django.http import Http404

from annotator.models import (
    ACTIVE_STATES,
    Annotation,
    Assignment,
    Document,
    Membership,
    Project,
    Relation,
    Role,
)
from annotator.models.gold import GoldRelation, GoldSpan
from annotator.models.projects import AssignmentMode

SEE_ALL_ROLES = frozenset({Role.MANAGER, Role.ADJUDICATOR})


def projects_for(user):
    return Project.objects.for_user(user)


def roles_in(user, project: Project) -> frozenset[str]:
    """The user's roles in the project, memoised on the project instance for this request."""
    cache = project.__dict__.setdefault("_roles_cache", {})
    if user.pk not in cache:
        cache[user.pk] = (
            frozenset(project.memberships.filter(user=user).values_list("role", flat=True))
            if user.is_authenticated
            else frozenset()
        )
    return cache[user.pk]


def with_roles(user, projects) -> list[Project]:
    """`projects` (a queryset from projects_for) with the user's roles in each memoised, as
    roles_in would: one query more however many projects, for pages that list them all."""
    projects = list(projects)
    roles: dict[int, set[str]] = {}
    for project_id, role in Membership.objects.filter(user_id=user.pk).values_list(
        "project_id", "role"
    ):
        roles.setdefault(project_id, set()).add(role)
    for project in projects:
        cache = project.__dict__.setdefault("_roles_cache", {})
        cache[user.pk] = frozenset(roles.get(project.pk, ()))
    return projects


def sees_all_coders(user, project: Project) -> bool:
    return bool(roles_in(user, project) & SEE_ALL_ROLES)


def is_manager(user, project: Project) -> bool:
    return Role.MANAGER in roles_in(user, project)


def is_coder(user, project: Project) -> bool:
    return Role.CODER in roles_in(user, project)


def get_project_for_user(user, project_id, *, roles: set[str] | None = None) -> Project:
    """The project if the user is a member (holding one of `roles`, when given); else 404."""
    try:
        project = projects_for(user).get(pk=project_id)
    except (Project.DoesNotExist, ValueError, TypeError):
        raise Http404("No such project") from None
    if roles is not None and not (roles_in(user, project) & set(roles)):
        raise Http404("No such project")
    return project


def may_create_projects(user, *, all_projects: list[Project] | None = None) -> bool:
    """Site staff, and anyone who already manages a project, may start a new one (they become
    its manager). Accounts themselves are site staff's business (`user.is_staff`).

    `all_projects`: every project of the user with their roles memoised (with_roles), when
    the caller has them already; it spares a query."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    if all_projects is not None:
        return any(is_manager(user, project) for project in all_projects)
    return Membership.objects.filter(user=user, role=Role.MANAGER).exists()


def may_administer_users(user) -> bool:
    """Site staff create accounts; no project role grants it."""
    return user.is_authenticated and user.is_staff


def documents_for(user):
    if not user.is_authenticated:
        return Document.objects.none()
    return Document.objects.filter(project__memberships__user=user).distinct()


def get_document_for_user(user, document_id) -> Document:
    """The document if the user is a member of its project, in any role; else 404.

    Membership is checked through roles_in rather than a `project__in` subquery: every caller
    needs the user's roles next anyway, so the check costs no query of its own, and this
    lookup sits on the path of every save.
    """
    try:
        document = Document.objects.select_related("project").get(pk=document_id)
    except (Document.DoesNotExist, ValueError, TypeError):
        raise Http404("No such document") from None
    if not roles_in(user, document.project):
        raise Http404("No such document")
    return document


def get_document_for_coder(user, document_id) -> Document:
    """A document the user may code: they hold the coder role in its project."""
    document = get_document_for_user(user, document_id)
    if not is_coder(user, document.project):
        raise Http404("No such document")
    return document


# --- coding through assignments ----------------------------------------------------------------
#
# A coder codes a document only through a live assignment (assigned, in progress, submitted).
# In automatic mode they may also open any document of the project that still has room (fewer
# than k live assignments): their first write takes the slot (services.assignment_take).
# Whether a write is allowed by the assignment's state (submitted is read-only) is settled by
# that service under the document's lock.

ONLY_THE_CODER = "only the coder it is assigned to may do this"


def coding_assignment(user, document: Document, *, write: bool = False) -> Assignment | None:
    """The user's live assignment on `document`, or None when they have none but may take one
    (automatic mode, room left); else 404. The user must code in the project.

    For a write, None means "no live assignment" and the 404 is left out: the write's own
    transaction (services.assignment_take) takes the slot or refuses under the document's
    lock, saying why (the document filled up meanwhile, it is not assigned to them), which a
    coder whose page is open deserves more than a 404. One query: the document's live
    assignments, at most k rows.
    """
    project = document.project
    if not is_coder(user, project):
        raise Http404("No such document")
    live = list(
        Assignment.objects.filter(document=document, state__in=ACTIVE_STATES).only(
            "id",
            "coder_id",
            "state",
            "document_id",
            "project_id",
            "submitted_at",
            "last_activity_at",
        )
    )
    mine = next((assignment for assignment in live if assignment.coder_id == user.pk), None)
    if mine is not None:
        mine.document = document
        return mine
    if write:
        return None
    if project.assignment_mode == AssignmentMode.AUTOMATIC and len(live) < project.overlap_k:
        return None
    raise Http404("No such document")


def get_document_for_coding(
    user, document_id, *, write: bool = False
) -> tuple[Document, Assignment | None]:
    """A document the user may code and their live assignment on it (see coding_assignment)."""
    document = get_document_for_coder(user, document_id)
    return document, coding_assignment(user, document, write=write)


def _live_assignments():
    """The live assignments of the document in the outer query."""
    return Assignment.objects.filter(document=OuterRef("pk"), state__in=ACTIVE_STATES).order_by()


def documents_for_coding(user, project: Project):
    """The project's documents a coder may open, annotated with `my_state` (their live
    assignment's state, or None for a document with room they may take in automatic mode)."""
    if not is_coder(user, project):
        return Document.objects.none()
    live = _live_assignments()
    documents = project.documents.annotate(
        my_state=Subquery(live.filter(coder_id=user.pk).values("state")[:1])
    )
    if project.assignment_mode != AssignmentMode.AUTOMATIC:
        return documents.filter(my_state__isnull=False)
    return documents.filter(Q(my_state__isnull=False) | Q(live_coders__lt=project.overlap_k))


# --- reading documents: the list and the text --------------------------------------------------
#
# Managers and adjudicators read every document of the project. A coder reads (lists, opens,
# fetches through the API) exactly the documents the coding screen lets them open:
# documents_for_coding, i.e. those with their live assignment, plus, in automatic mode, those
# that still have room. In manual mode a coder therefore never learns of documents that are
# not assigned to them, whether through the project page or the API.


def documents_readable(user, project: Project):
    """The project's documents the user may list and read."""
    if sees_all_coders(user, project):
        return project.documents.all()
    return documents_for_coding(user, project)


def get_document_for_reader(user, document_id) -> Document:
    """A document the user may read (see documents_readable); else 404. Membership is
    checked through the roles, as in get_document_for_user; a coder's live assignment is
    looked up only when the document's counts do not already let them in."""
    document = get_document_for_user(user, document_id)
    project = document.project
    if sees_all_coders(user, project):
        return document
    if not is_coder(user, project):
        raise Http404("No such document")
    # documents_for_coding's rule, on this one row.
    if (
        project.assignment_mode == AssignmentMode.AUTOMATIC
        and document.live_coders < project.overlap_k
    ):
        return document
    if _live_assignments_of(document).filter(coder_id=user.pk).exists():
        return document
    raise Http404("No such document")


def _live_assignments_of(document: Document):
    return Assignment.objects.filter(document=document, state__in=ACTIVE_STATES)


def assignments_for(user, project: Project):
    """The project's assignments the user may list: all of them for its managers, their own
    for everyone else."""
    assignments = Assignment.objects.filter(project=project)
    if is_manager(user, project):
        return assignments
    return assignments.filter(coder_id=user.pk)


def get_assignment_for_user(user, assignment_id) -> Assignment:
    """An assignment the user may see and act on: their own, or any in a project they manage;
    else 404."""
    try:
        assignment = Assignment.objects.select_related("project", "document", "coder").get(
            pk=assignment_id, project__in=projects_for(user)
        )
    except (Assignment.DoesNotExist, ValueError, TypeError):
        raise Http404("No such assignment") from None
    if assignment.coder_id != user.pk and not is_manager(user, assignment.project):
        raise Http404("No such assignment")
    return assignment


def get_assignment_for_coder(user, assignment_id) -> Assignment:
    """One of the user's own assignments, in a project where they still code (to submit or
    reopen it). A manager reaching someone else's gets PermissionDenied; anyone else 404."""
    assignment = get_assignment_for_user(user, assignment_id)
    if assignment.coder_id != user.pk:
        raise PermissionDenied(ONLY_THE_CODER)
    if not is_coder(user, assignment.project):
        raise Http404("No such assignment")
    return assignment


def sees_coder_names(user, project: Project) -> bool:
    """Whether other coders' work comes with their names: managers always; adjudicators
    unless the project hides names from them (``Project.hide_coder_names``). Callers have
    already established that the user may see that work at all (sees_all_coders)."""
    return is_manager(user, project) or (
        sees_all_coders(user, project) and not project.hide_coder_names
    )


def visible_annotations(user, document: Document):
    """The spans of `document` the user may see: their own, or everyone's for managers and
    adjudicators. Blind coding depends on every read going through here."""
    spans = Annotation.objects.for_document(document).alive()
    if sees_all_coders(user, document.project):
        return spans
    return spans.by_coder(user)


def visible_relations(user, document: Document):
    relations = Relation.objects.for_document(document).alive()
    if sees_all_coders(user, document.project):
        return relations
    return relations.by_coder(user)


def get_annotation_for_coder(user, annotation_id, *, include_deleted: bool = False) -> Annotation:
    """One of the user's own spans (the only ones a coder may change); else 404."""
    if not user.is_authenticated:
        raise Http404("No such annotation")
    spans = Annotation.objects.filter(
        coder=user, document__project__in=projects_for(user)
    ).select_related("document__project", "label")
    if not include_deleted:
        spans = spans.alive()
    try:
        return spans.get(pk=annotation_id)
    except (Annotation.DoesNotExist, ValueError, TypeError):
        raise Http404("No such annotation") from None


def get_annotation_for_user(user, annotation_id) -> Annotation:
    """A span the user may read: their own, or any in a project where they see all coders."""
    try:
        annotation = (
            Annotation.objects.alive()
            .select_related("document__project", "label")
            .get(pk=annotation_id, document__project__in=projects_for(user))
        )
    except (Annotation.DoesNotExist, ValueError, TypeError):
        raise Http404("No such annotation") from None
    if annotation.coder_id != user.pk and not sees_all_coders(user, annotation.document.project):
        raise Http404("No such annotation")
    return annotation


def get_relation_for_coder(user, relation_id) -> Relation:
    if not user.is_authenticated:
        raise Http404("No such relation")
    try:
        return (
            Relation.objects.alive()
            .filter(coder=user, document__project__in=projects_for(user))
            .select_related("document__project", "type")
            .get(pk=relation_id)
        )
    except (Relation.DoesNotExist, ValueError, TypeError):
        raise Http404("No such relation") from None


# --- adjudication: the coders' versions side by side, and the gold -----------------------------
#
# Managers and adjudicators of the project only. A coder never sees the gold nor another
# coder's work: for them (and for outsiders) every adjudication lookup is a 404.


def get_project_for_adjudicator(user, project_id) -> Project:
    """A project whose adjudication the user may see and do: they manage or adjudicate it."""
    return get_project_for_user(user, project_id, roles=SEE_ALL_ROLES)


def get_document_for_adjudicator(user, document_id) -> Document:
    """A document whose coders' versions and gold the user may see and decide; else 404."""
    document = get_document_for_user(user, document_id)
    if not sees_all_coders(user, document.project):
        raise Http404("No such document")
    return document


def get_gold_span_for_adjudicator(user, gold_span_id) -> GoldSpan:
    """An alive gold span of a project the user adjudicates or manages; else 404."""
    try:
        span = (
            GoldSpan.objects.alive()
            .select_related("document__project")
            .get(pk=gold_span_id, document__project__in=projects_for(user))
        )
    except (GoldSpan.DoesNotExist, ValueError, TypeError):
        raise Http404("No such gold span") from None
    if not sees_all_coders(user, span.document.project):
        raise Http404("No such gold span")
    return span


def get_gold_relation_for_adjudicator(user, gold_relation_id) -> GoldRelation:
    """An alive gold link of a project the user adjudicates or manages; else 404."""
    try:
        relation = (
            GoldRelation.objects.alive()
            .select_related("document__project")
            .get(pk=gold_relation_id, document__project__in=projects_for(user))
        )
    except (GoldRelation.DoesNotExist, ValueError, TypeError):
        raise Http404("No such gold link") from None
    if not sees_all_coders(user, relation.document.project):
        raise Http404("No such gold link")
    return relation
