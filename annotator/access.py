"""Who may see and touch what: the only place that answers it.

Every lookup starts from the user (their memberships), so a forgotten filter cannot leak
another team's data. Anything outside the user's reach is a 404, never a 403: a coder must
not learn that another coder's span or another team's document exists.
"""

from __future__ import annotations

from django.http import Http404

from annotator.models import Annotation, Document, Project, Relation, Role

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


def documents_for(user):
    if not user.is_authenticated:
        return Document.objects.none()
    return Document.objects.filter(project__memberships__user=user).distinct()


def get_document_for_user(user, document_id) -> Document:
    try:
        return Document.objects.select_related("project").get(
            pk=document_id, project__in=projects_for(user)
        )
    except (Document.DoesNotExist, ValueError, TypeError):
        raise Http404("No such document") from None


def get_document_for_coder(user, document_id) -> Document:
    """A document the user may code: they hold the coder role in its project."""
    document = get_document_for_user(user, document_id)
    if not is_coder(user, document.project):
        raise Http404("No such document")
    return document


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
