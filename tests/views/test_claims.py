"""The claims table: who sees which claims, totals that never add a subset to its superset,
filters, sorting, links, the chart, and a bounded number of queries."""

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from django.utils import timezone

import annotator
from annotator.models import GoldRelation, GoldSpan, Label, RelationType, Role
from annotator.services import relation_create, span_create
from tests.factories import add_member, make_document, make_user, quote_span

DEMO = Path(annotator.__file__).parent / "fixtures" / "demo"


def seed(name: str) -> dict:
    return json.loads((DEMO / name).read_text(encoding="utf-8"))


def make_seed_document(project, **fields):
    article = seed("seed-article.json")
    keys = ("title", "outlet", "external_id", "language", "published")
    return make_document(project, text=article["text"], **{k: article[k] for k in keys}, **fields)


def make_gold(document, user, gold: dict | None = None):
    """The hand-coded gold of the seed article as the document's adjudicated gold layer."""
    gold = gold or seed("seed-gold.json")
    labels = {label.name: label for label in Label.objects.filter(project=document.project)}
    types = {t.name: t for t in RelationType.objects.filter(project=document.project)}
    ids = {}
    for span in gold["spans"]:
        ids[span["id"]] = GoldSpan.objects.create(
            document=document,
            label=labels[span["label"]],
            start=span["start"],
            end=span["end"],
            text=span["text"],
            attributes=span["attributes"],
            origin="added",
            created_by=user,
        )
    for relation in gold["relations"]:
        GoldRelation.objects.create(
            document=document,
            type=types[relation["type"]],
            source=ids[relation["from"]],
            target=ids[relation["to"]],
            created_by=user,
        )
    document.adjudicated_at = timezone.now()
    document.save(update_fields=["adjudicated_at"])
    return ids


def code_claim(document, coder, phrase, *, source=None, partisanship=None, **attributes):
    """A coder's CASUALTY span over `phrase`, claimed_by a SOURCE span over `source`."""
    claim, _ = span_create(
        document=document,
        coder=coder,
        label="CASUALTY",
        **quote_span(document, phrase),
        attributes=attributes or None,
    )
    if source:
        source_span, _ = span_create(
            document=document,
            coder=coder,
            label="SOURCE",
            **quote_span(document, source),
            attributes={"partisanship": partisanship} if partisanship else None,
        )
        relation_create(
            document=document,
            coder=coder,
            type="claimed_by",
            source_id=claim.pk,
            target_id=source_span.pk,
        )
    return claim


@pytest.fixture
def adjudicated(project, manager):
    document = make_seed_document(project)
    make_gold(document, manager)
    return document


ARTICLE = (
    "Monitors said air strikes killed 12 civilians in Idlib on Monday, while the ministry "
    "said its forces killed 40 militants near the border."
)


@pytest.fixture
def open_document(project):
    return make_document(
        project, text=ARTICLE, title="Idlib strikes", published=dt.date(2017, 10, 2)
    )


def page(client, project, **query):
    return client.get(f"/projects/{project.pk}/claims/", query)


def totals_of(response) -> dict:
    return {item["name"]: item["total"] for item in response.context["totals"]}


# -- Totals ---------------------------------------------------------------------------------------


def test_gold_totals_never_add_the_subsets_to_the_claim_they_are_part_of(
    client, manager, project, adjudicated
):
    client.force_login(manager)

    gold = totals_of(page(client, project))["Gold"]

    # 2,359 + dozens (24-99); the 16 commanders and "over 400" are part of the 2,359.
    assert (gold.claims, gold.counted) == (4, 2)
    assert (gold.low, gold.high, gold.best) == (2359 + 24, 2359 + 99, 2359)
    assert gold.open_ended == 0 and gold.without_best == 1
    assert 2359 + 16 + 400 not in (gold.low, gold.best)


def test_the_totals_show_the_low_high_range(client, manager, project, adjudicated):
    client.force_login(manager)

    body = page(client, project).content.decode()

    assert "2,383 – 2,458" in body
    assert "(2 subsets left out)" in body


def test_a_claim_without_a_high_makes_the_range_open_ended(
    client, manager, coder, project, open_document
):
    code_claim(open_document, coder, "12 civilians")
    code_claim(open_document, coder, "40 militants", low=40, best=40, quantifier_type="lower_bound")
    client.force_login(manager)

    total = totals_of(page(client, project))["coder"]

    assert (total.low, total.high, total.open_ended) == (52, 12, 1)
    assert "52 – 12+" in page(client, project).content.decode()


def test_each_coders_version_is_totalled_on_its_own(
    client, manager, coder, other_coder, project, open_document
):
    code_claim(open_document, coder, "12 civilians")
    code_claim(open_document, other_coder, "12 civilians")
    client.force_login(manager)

    totals = totals_of(page(client, project))

    assert (totals["coder"].best, totals["other_coder"].best) == (12, 12)


# -- Who sees what ----------------------------------------------------------------------------------


def test_an_adjudicated_document_shows_its_gold_not_the_coders_versions(
    client, manager, coder, project, adjudicated
):
    code_claim(adjudicated, coder, "dozens of ISIS terrorists")
    client.force_login(manager)

    response = page(client, project)

    assert {c.gold for c in response.context["page"].object_list} == {True}
    assert "coder" not in totals_of(response)


def test_managers_see_every_coders_claims_by_name(
    client, manager, coder, other_coder, project, open_document
):
    code_claim(open_document, coder, "12 civilians")
    code_claim(open_document, other_coder, "40 militants")
    client.force_login(manager)

    body = page(client, project).content.decode()

    assert "12 civilians" in body and "40 militants" in body
    assert ">other_coder<" in body


def test_adjudicators_see_pseudonyms_when_the_project_hides_coder_names(
    client, adjudicator, coder, project, open_document
):
    project.hide_coder_names = True
    project.save(update_fields=["hide_coder_names"])
    code_claim(open_document, coder, "12 civilians")
    client.force_login(adjudicator)

    body = page(client, project).content.decode()

    assert "12 civilians" in body
    assert ">Coder A<" in body and ">coder<" not in body


def test_coders_see_their_own_claims_and_nothing_of_others(
    client, coder, other_coder, project, open_document, adjudicated
):
    code_claim(open_document, coder, "12 civilians")
    code_claim(open_document, other_coder, "40 militants")
    client.force_login(coder)

    response = page(client, project)
    body = response.content.decode()

    assert "12 civilians" in body
    assert "40 militants" not in body and "other_coder" not in body
    assert "2,359" not in body  # the gold of the adjudicated article
    assert [c.row.claim_text for c in response.context["page"].object_list] == ["12 civilians"]


def test_outsiders_get_a_404(client, outsider, project):
    client.force_login(outsider)

    assert page(client, project).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, project):
    response = page(client, project)

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# -- Links ----------------------------------------------------------------------------------------


def test_a_coders_claim_links_to_it_in_the_coding_screen(client, coder, project, open_document):
    claim = code_claim(open_document, coder, "12 civilians")
    client.force_login(coder)

    body = page(client, project).content.decode()

    assert f'href="/documents/{open_document.pk}/?span={claim.pk}"' in body


def test_managers_open_a_coders_claim_read_only(client, manager, coder, project, open_document):
    claim = code_claim(open_document, coder, "12 civilians", source="Monitors")
    client.force_login(manager)
    link = f"/projects/{project.pk}/claims/spans/{claim.pk}/"
    assert f'href="{link}"' in page(client, project).content.decode()

    response = client.get(link)

    assert response.status_code == 200
    body = response.content.decode()
    assert "claimed_by" in body and "Monitors" in body and "<form" not in body.split("<main")[1]


def test_a_span_that_is_not_a_claim_has_no_claim_page(
    client, manager, coder, project, open_document
):
    actor, _ = span_create(
        document=open_document,
        coder=coder,
        label="ACTOR",
        **quote_span(open_document, "the ministry"),
    )
    client.force_login(manager)

    assert client.get(f"/projects/{project.pk}/claims/spans/{actor.pk}/").status_code == 404


def test_another_coder_cannot_open_a_coders_claim(
    client, coder, other_coder, project, open_document
):
    claim = code_claim(open_document, coder, "12 civilians")
    client.force_login(other_coder)

    assert client.get(f"/projects/{project.pk}/claims/spans/{claim.pk}/").status_code == 404


def test_managers_open_a_gold_claim_and_coders_cannot(client, manager, coder, project, adjudicated):
    gold = GoldSpan.objects.get(document=adjudicated, text="2,359 ISIS terrorists")
    url = f"/projects/{project.pk}/claims/gold/{gold.pk}/"

    client.force_login(manager)
    assert client.get(url).status_code == 200
    client.force_login(coder)
    assert client.get(url).status_code == 404


# -- Filters and sorting ----------------------------------------------------------------------------


def _texts(response) -> list[str]:
    return [c.row.claim_text for c in response.context["page"].object_list]


def test_claims_are_filtered_by_outcome(client, manager, coder, project, open_document):
    code_claim(open_document, coder, "12 civilians", outcome="killed")
    code_claim(open_document, coder, "40 militants", outcome="injured")
    client.force_login(manager)

    assert _texts(page(client, project, outcome="injured")) == ["40 militants"]


def test_claims_are_filtered_by_victim_status(client, manager, coder, project, open_document):
    code_claim(open_document, coder, "12 civilians", victim_status="civilian")
    code_claim(open_document, coder, "40 militants", victim_status="combatant")
    client.force_login(manager)

    assert _texts(page(client, project, victim_status="civilian")) == ["12 civilians"]


def test_claims_are_filtered_by_the_sources_partisanship(
    client, manager, coder, project, open_document
):
    code_claim(open_document, coder, "12 civilians", source="Monitors", partisanship="independent")
    code_claim(
        open_document,
        coder,
        "40 militants",
        source="the ministry",
        partisanship="party_to_conflict",
    )
    client.force_login(manager)

    assert _texts(page(client, project, partisanship="independent")) == ["12 civilians"]
    assert _texts(page(client, project, partisanship="party_to_conflict")) == ["40 militants"]


def test_claims_are_filtered_by_coder(client, manager, coder, other_coder, project, open_document):
    code_claim(open_document, coder, "12 civilians")
    code_claim(open_document, other_coder, "40 militants")
    client.force_login(manager)

    assert _texts(page(client, project, layer=f"c{other_coder.pk}")) == ["40 militants"]


def test_claims_are_filtered_by_publication_date(
    client, manager, coder, project, open_document, adjudicated
):
    code_claim(open_document, coder, "12 civilians")
    client.force_login(manager)

    october = _texts(page(client, project, published_from="2017-10-01", published_to="2017-10-31"))

    assert october == ["12 civilians"]


def test_a_backwards_date_range_is_an_error_not_a_filter(client, manager, project, adjudicated):
    client.force_login(manager)

    response = page(client, project, published_from="2018-01-01", published_to="2017-01-01")

    assert "The end of the range is before its start." in response.content.decode()
    assert len(_texts(response)) == 4


def test_claims_sort_by_best_largest_first_with_the_unknown_last(
    client, manager, project, adjudicated
):
    client.force_login(manager)

    texts = _texts(page(client, project, sort="-best"))

    assert texts == [
        "2,359 ISIS terrorists",
        "over 400 citizens from the former Soviet Republics",
        "16 ISIS field commanders",
        "dozens of ISIS terrorists",
    ]


def test_claims_are_paginated(client, manager, coder, project, monkeypatch):
    monkeypatch.setattr("annotator.views.claims.PER_PAGE", 2)
    document = make_document(project, text="1 killed, 2 killed, 3 killed.")
    for phrase in ("1 killed", "2 killed", "3 killed"):
        code_claim(document, coder, phrase)
    client.force_login(manager)

    first, second = page(client, project), page(client, project, page=2)

    assert (_texts(first), _texts(second)) == (["1 killed", "2 killed"], ["3 killed"])
    assert "Page 1 of 2" in first.content.decode()


# -- The chart ------------------------------------------------------------------------------------


def test_the_chart_splits_claimed_deaths_by_the_sources_partisanship(
    client, manager, coder, project, open_document
):
    code_claim(
        open_document, coder, "12 civilians", source="Monitors", partisanship="independent",
        outcome="killed",
    )  # fmt: skip
    code_claim(
        open_document, coder, "40 militants", source="the ministry",
        partisanship="party_to_conflict", outcome="killed",
    )  # fmt: skip
    client.force_login(manager)

    response = page(client, project)
    body = response.content.decode()

    week = response.context["weeks"][0]
    assert week.start == dt.date(2017, 10, 2)
    assert (week.values["independent"], week.values["party_to_conflict"]) == (12, 40)
    assert 'class="bar party-independent"' in body and 'class="bar party-party_to_conflict"' in body
    assert "Party to the conflict" in body  # the legend


def test_the_chart_counts_an_article_once_as_the_mean_of_its_coders(
    client, manager, coder, other_coder, project, open_document
):
    code_claim(open_document, coder, "12 civilians", outcome="killed")
    code_claim(open_document, other_coder, "40 militants", outcome="killed")
    client.force_login(manager)

    week = page(client, project).context["weeks"][0]

    assert week.values["unknown"] == (12 + 40) / 2


def test_the_page_carries_no_inline_style(
    client, manager, coder, project, open_document, adjudicated
):
    code_claim(open_document, coder, "12 civilians", outcome="killed")
    client.force_login(manager)

    body = page(client, project).content.decode()

    assert "<svg" in body
    assert not re.search(r"\sstyle=", body) and "<style" not in body


# -- htmx and cost ----------------------------------------------------------------------------------


def test_htmx_filtering_swaps_only_the_results(client, manager, project, adjudicated):
    client.force_login(manager)

    response = client.get(
        f"/projects/{project.pk}/claims/",
        {"outcome": "killed"},
        headers={"HX-Request": "true", "HX-Target": "claims-results"},
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="claims-results"')
    assert "<html" not in body


def _many_claims(project, documents: int, coders: list):
    for n in range(documents):
        document = make_document(
            project, text=ARTICLE + f" ({n})", published=dt.date(2017, 10, 2) + dt.timedelta(n)
        )
        for coder in coders:
            code_claim(
                document, coder, "12 civilians", source="Monitors", partisanship="independent"
            )


def test_the_claims_page_costs_the_same_queries_however_many_claims(
    client, manager, project, coder, other_coder, django_assert_max_num_queries
):
    third = make_user("third_coder")
    add_member(project, third, Role.CODER)
    adjudicated = make_seed_document(project)
    make_gold(adjudicated, manager)
    _many_claims(project, 2, [coder])
    client.force_login(manager)
    page(client, project)  # warm the codebook cache, as any earlier page would

    with django_assert_max_num_queries(12) as small:
        assert page(client, project).status_code == 200
    _many_claims(project, 12, [coder, other_coder, third])
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert page(client, project).status_code == 200
