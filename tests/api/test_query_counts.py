"""Lists and the span POST cost a fixed number of queries, however many spans a document has."""

import pytest

from annotator.codebook import get_codebook
from annotator.models import Annotation, Label, Relation, RelationType
from tests.factories import add_member, assign, make_document, make_project

WORDS = 120


@pytest.fixture
def long_document(project):
    return make_document(project, text="Aleppo " * WORDS, title="Many places")


def seed(document, coder, count: int) -> list[Annotation]:
    """`count` LOCATION spans, one per word, and a located_in link between each pair."""
    label = Label.objects.get(project=document.project, name="LOCATION")
    spans = Annotation.objects.bulk_create(
        Annotation(
            document=document,
            coder=coder,
            label=label,
            start=7 * n,
            end=7 * n + 6,
            text="Aleppo",
        )
        for n in range(count)
    )
    located_in = RelationType.objects.get(project=document.project, name="located_in")
    Relation.objects.bulk_create(
        Relation(document=document, coder=coder, type=located_in, source=a, target=b)
        for a, b in zip(spans[::2], spans[1::2], strict=False)
    )
    get_codebook(document.project)  # warm, as in a running server
    return spans


COUNTS = [2, 60]


@pytest.mark.parametrize("count", COUNTS)
def test_listing_spans_costs_the_same_for_any_number(
    api_as, adjudicator, coder, other_coder, long_document, count, django_assert_max_num_queries
):
    seed(long_document, coder, count)
    seed(long_document, other_coder, count)
    client = api_as(adjudicator)

    with django_assert_max_num_queries(4):
        response = client.get(f"/api/v1/documents/{long_document.pk}/annotations/")

    assert response.json()["count"] == 2 * count


@pytest.mark.parametrize("count", COUNTS)
def test_listing_links_costs_the_same_for_any_number(
    api_as, coder, long_document, count, django_assert_max_num_queries
):
    seed(long_document, coder, count)
    client = api_as(coder)

    with django_assert_max_num_queries(4):
        response = client.get(f"/api/v1/documents/{long_document.pk}/relations/")

    assert response.json()["count"] == count // 2


@pytest.mark.parametrize("count", COUNTS)
def test_listing_documents_costs_the_same_for_any_number(
    api_as, coder, project, count, django_assert_max_num_queries
):
    for n in range(count):
        make_document(project, title=f"Doc {n}")
    client = api_as(coder)

    # The project, your roles in it (a coder lists only what they may open), count and page.
    with django_assert_max_num_queries(4):
        response = client.get(f"/api/v1/projects/{project.pk}/documents/")

    assert response.json()["count"] == count


@pytest.mark.parametrize("count", [1, 20])
def test_listing_projects_costs_the_same_for_any_number(
    api_as, coder, count, django_assert_max_num_queries
):
    for _ in range(count):
        add_member(make_project(), coder)
    client = api_as(coder)

    with django_assert_max_num_queries(3):
        response = client.get("/api/v1/projects/")

    assert response.json()["count"] == count + 1  # and the persona's own project


@pytest.mark.parametrize("count", COUNTS)
def test_creating_a_span_costs_the_same_however_many_spans_exist(
    api_as, coder, long_document, count, django_assert_max_num_queries
):
    seed(long_document, coder, count)
    assign(long_document, coder, state="in_progress")  # the steady state: a document in work
    start = 7 * (WORDS - 1)
    payload = {"label": "LOCATION", "start": start, "end": start + 6, "text": "Aleppo"}
    client = api_as(coder)

    # 7 queries, plus 4 savepoint statements that only the test's wrapping transaction adds;
    # and the assignment: reading it, refreshing its activity (2), in the view's transaction (a
    # savepoint here: 2 statements).
    with django_assert_max_num_queries(15):
        response = client.post(
            f"/api/v1/documents/{long_document.pk}/annotations/", {**payload, "client_id": "q"}
        )

    assert response.status_code == 201, response.json()
