"""access.py: who may see and touch what. Outside one's reach is always a 404."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from annotator import access
from annotator.codebook import _load_codebook
from annotator.models import Membership, Role
from annotator.services import relation_create, span_create, span_delete
from tests.factories import make_document, make_user, quote_span


@pytest.fixture(autouse=True)
def _fresh_codebook_snapshots():
    # get_codebook() caches per (project id, version) for the process; SQLite hands a
    # rolled-back test's ids out again, so an earlier test's snapshot could be served here.
    _load_codebook.cache_clear()


def tag(document, coder, label, phrase):
    span, _ = span_create(
        document=document, coder=coder, label=label, **quote_span(document, phrase)
    )
    return span


@pytest.fixture
def coded(document, coder, other_coder):
    """Both coders have coded the document: a claim and its source each."""
    spans = {}
    for who in (coder, other_coder):
        claim = tag(document, who, "CASUALTY", "2,359 ISIS terrorists")
        source = tag(document, who, "SOURCE", "Russian ministry of defense")
        relation, _ = relation_create(
            document=document,
            coder=who,
            type="claimed_by",
            source_id=claim.pk,
            target_id=source.pk,
        )
        spans[who.username] = {"claim": claim, "source": source, "relation": relation}
    return spans


def ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


# --- what each persona sees -------------------------------------------------------------------


def test_coder_sees_only_their_own_spans(document, coder, coded):
    visible = access.visible_annotations(coder, document)

    mine = coded["coder"]
    assert ids(visible) == {mine["claim"].pk, mine["source"].pk}


def test_coder_sees_only_their_own_links(document, coder, coded):
    assert ids(access.visible_relations(coder, document)) == {coded["coder"]["relation"].pk}


def test_manager_sees_every_coders_spans(document, manager, coded):
    assert access.visible_annotations(manager, document).count() == 4


def test_adjudicator_sees_every_coders_spans(document, adjudicator, coded):
    assert access.visible_annotations(adjudicator, document).count() == 4


def test_adjudicator_sees_every_coders_links(document, adjudicator, coded):
    assert access.visible_relations(adjudicator, document).count() == 2


def test_deleted_spans_are_not_visible(document, coder, manager, coded):
    span_delete(annotation=coded["coder"]["source"], coder=coder, version=1)

    assert ids(access.visible_annotations(coder, document)) == {coded["coder"]["claim"].pk}
    assert access.visible_annotations(manager, document).count() == 3
    assert not access.visible_relations(coder, document).exists()


def test_outsider_who_holds_a_document_sees_no_spans(document, outsider, coded):
    assert not access.visible_annotations(outsider, document).exists()
    assert not access.visible_relations(outsider, document).exists()


def test_coder_who_is_also_adjudicator_sees_everyone(project, document, coder, coded):
    Membership.objects.create(project=project, user=coder, role=Role.ADJUDICATOR)

    assert access.visible_annotations(coder, document).count() == 4


# --- projects and documents --------------------------------------------------------------------


def test_member_gets_their_project(project, coder):
    assert access.get_project_for_user(coder, project.pk) == project


def test_projects_for_lists_only_the_users_projects(project, coder, outsider):
    assert list(access.projects_for(coder)) == [project]
    assert project not in access.projects_for(outsider)


def test_member_with_two_roles_gets_the_project_once(project, coder):
    Membership.objects.create(project=project, user=coder, role=Role.ADJUDICATOR)

    assert list(access.projects_for(coder)) == [project]
    assert access.get_project_for_user(coder, project.pk) == project


def test_coder_cannot_get_the_project_as_manager(project, coder):
    with pytest.raises(Http404):
        access.get_project_for_user(coder, project.pk, roles={Role.MANAGER})


def test_manager_gets_the_project_as_manager(project, manager):
    assert access.get_project_for_user(manager, project.pk, roles={Role.MANAGER}) == project


def test_coder_gets_a_document_to_code(document, coder):
    assert access.get_document_for_coder(coder, document.pk) == document


def test_manager_who_does_not_code_cannot_get_a_document_to_code(document, manager):
    assert access.get_document_for_user(manager, document.pk) == document
    with pytest.raises(Http404):
        access.get_document_for_coder(manager, document.pk)


def test_adjudicator_cannot_get_a_document_to_code(document, adjudicator):
    with pytest.raises(Http404):
        access.get_document_for_coder(adjudicator, document.pk)


def test_documents_for_lists_only_the_users_documents(document, coder, outsider):
    assert list(access.documents_for(coder)) == [document]
    assert not access.documents_for(outsider).filter(pk=document.pk).exists()


def test_former_member_loses_the_project_and_its_documents(project, document, coder):
    Membership.objects.filter(project=project, user=coder).delete()

    with pytest.raises(Http404):
        access.get_project_for_user(coder, project.pk)
    with pytest.raises(Http404):
        access.get_document_for_user(coder, document.pk)


# --- the outsider and the anonymous visitor ------------------------------------------------------

GETTERS = {
    "project": lambda user, c: access.get_project_for_user(user, c["project"].pk),
    "document": lambda user, c: access.get_document_for_user(user, c["document"].pk),
    "document to code": lambda user, c: access.get_document_for_coder(user, c["document"].pk),
    "annotation to read": lambda user, c: access.get_annotation_for_user(user, c["span"].pk),
    "annotation to write": lambda user, c: access.get_annotation_for_coder(user, c["span"].pk),
    "deleted annotation to write": lambda user, c: access.get_annotation_for_coder(
        user, c["span"].pk, include_deleted=True
    ),
    "relation to write": lambda user, c: access.get_relation_for_coder(user, c["relation"].pk),
}


@pytest.fixture
def targets(project, document, coded):
    mine = coded["coder"]
    return {
        "project": project,
        "document": document,
        "span": mine["claim"],
        "relation": mine["relation"],
    }


@pytest.mark.parametrize("getter", GETTERS.values(), ids=GETTERS.keys())
def test_outsider_gets_404_from_every_lookup(outsider, targets, getter):
    with pytest.raises(Http404):
        getter(outsider, targets)


@pytest.mark.parametrize("getter", GETTERS.values(), ids=GETTERS.keys())
def test_anonymous_visitor_gets_404_from_every_lookup(targets, getter):
    with pytest.raises(Http404):
        getter(AnonymousUser(), targets)


@pytest.mark.parametrize("getter", GETTERS.values(), ids=GETTERS.keys())
def test_the_owner_gets_through_every_lookup(coder, targets, getter):
    assert getter(coder, targets) is not None


@pytest.mark.parametrize("bad_id", ["abc", None, "", "1.5", 10**12])
@pytest.mark.parametrize(
    "lookup",
    [
        access.get_project_for_user,
        access.get_document_for_user,
        access.get_document_for_coder,
        access.get_annotation_for_user,
        access.get_annotation_for_coder,
        access.get_relation_for_coder,
    ],
)
def test_malformed_or_unknown_id_is_a_404(coder, bad_id, lookup):
    with pytest.raises(Http404):
        lookup(coder, bad_id)


# --- annotations and relations ------------------------------------------------------------------


def test_coder_gets_their_own_annotation_for_writing(coder, coded):
    span = coded["coder"]["claim"]

    assert access.get_annotation_for_coder(coder, span.pk) == span


def test_coder_cannot_get_another_coders_annotation_for_writing(coder, coded):
    theirs = coded["other_coder"]["claim"]

    with pytest.raises(Http404):
        access.get_annotation_for_coder(coder, theirs.pk)


def test_coder_cannot_read_another_coders_annotation(coder, coded):
    theirs = coded["other_coder"]["claim"]

    with pytest.raises(Http404):
        access.get_annotation_for_user(coder, theirs.pk)


def test_adjudicator_reads_a_coders_annotation(adjudicator, coded):
    theirs = coded["other_coder"]["claim"]

    assert access.get_annotation_for_user(adjudicator, theirs.pk) == theirs


def test_adjudicator_cannot_get_a_coders_annotation_for_writing(adjudicator, coded):
    with pytest.raises(Http404):
        access.get_annotation_for_coder(adjudicator, coded["coder"]["claim"].pk)


def test_manager_cannot_get_a_coders_annotation_for_writing(manager, coded):
    with pytest.raises(Http404):
        access.get_annotation_for_coder(manager, coded["coder"]["claim"].pk)


def test_deleted_annotation_is_gone_unless_asked_for(coder, coded):
    span = coded["coder"]["claim"]
    span_delete(annotation=span, coder=coder, version=1)

    with pytest.raises(Http404):
        access.get_annotation_for_coder(coder, span.pk)
    with pytest.raises(Http404):
        access.get_annotation_for_user(coder, span.pk)
    assert access.get_annotation_for_coder(coder, span.pk, include_deleted=True) == span


def test_coder_who_left_the_project_cannot_get_their_annotation(project, coder, coded):
    Membership.objects.filter(project=project, user=coder).delete()

    with pytest.raises(Http404):
        access.get_annotation_for_coder(coder, coded["coder"]["claim"].pk)


def test_coder_cannot_get_another_coders_relation(coder, coded):
    with pytest.raises(Http404):
        access.get_relation_for_coder(coder, coded["other_coder"]["relation"].pk)


def test_deleted_relation_cannot_be_got(coder, coded):
    span_delete(annotation=coded["coder"]["source"], coder=coder, version=1)

    with pytest.raises(Http404):
        access.get_relation_for_coder(coder, coded["coder"]["relation"].pk)


def test_coder_in_two_projects_reaches_only_their_work_in_each(project, coder, outsider):
    other_project = outsider.memberships.get().project
    Membership.objects.create(project=other_project, user=coder, role=Role.CODER)
    elsewhere = make_document(other_project, text="Russian forces advanced.")
    theirs = tag(elsewhere, outsider, "ACTOR", "Russian")
    mine = tag(elsewhere, coder, "ACTOR", "Russian")

    assert access.get_annotation_for_coder(coder, mine.pk) == mine
    assert ids(access.visible_annotations(coder, elsewhere)) == {mine.pk}
    with pytest.raises(Http404):
        access.get_annotation_for_coder(coder, theirs.pk)


def test_coder_names_are_for_managers_and_adjudicators_unless_hidden(
    project, manager, adjudicator, coder
):
    from annotator import access

    assert access.sees_coder_names(manager, project)
    assert access.sees_coder_names(adjudicator, project)
    assert not access.sees_coder_names(coder, project)
    project.hide_coder_names = True
    assert access.sees_coder_names(manager, project)
    assert not access.sees_coder_names(adjudicator, project)


# --- beyond one project ----------------------------------------------------------------------


def test_site_staff_and_managers_may_create_projects_coders_may_not(
    manager, coder, adjudicator, outsider
):
    staff = make_user("staff", is_staff=True)

    assert access.may_create_projects(staff)
    assert access.may_create_projects(manager)
    assert not access.may_create_projects(coder)
    assert not access.may_create_projects(adjudicator)
    assert not access.may_create_projects(outsider)
    assert not access.may_create_projects(AnonymousUser())


def test_may_create_projects_reads_the_roles_already_known(manager, coder, project):
    for user in (manager, coder):
        projects = access.with_roles(user, access.projects_for(user))
        assert access.may_create_projects(user, all_projects=projects) == (user == manager)


def test_only_site_staff_administer_users(manager):
    assert access.may_administer_users(make_user("staff", is_staff=True))
    assert not access.may_administer_users(manager)
    assert not access.may_administer_users(AnonymousUser())
