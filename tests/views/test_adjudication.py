"""The adjudication queue and screen (annotator/views/adjudication.py): who gets in, what the
screen shows, and how its htmx and plain-form decisions answer."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from annotator.codebook import get_codebook
from annotator.models import Annotation, Document, GoldSpan, Label, Relation, RelationType, Role
from annotator.services import gold
from tests.api.helpers import make_relation, make_span
from tests.factories import add_member, assign, make_document, make_user, quote_span

HTMX = {"HX-Request": "true"}


@pytest.fixture
def third_coder(project):
    user = make_user("third_coder")
    add_member(project, user, Role.CODER)
    return user


@pytest.fixture
def ready(document, coder, other_coder):
    for who in (coder, other_coder):
        assign(document, who, "submitted")
    return document


@pytest.fixture
def adjudicator_client(client, adjudicator):
    client.force_login(adjudicator)
    return client


def screen_url(document) -> str:
    return reverse("adjudicate", args=[document.pk])


def unit_html(html: str, key: int) -> str:
    start = html.index(f'<article id="unit-{key}"')
    return html[start : html.index("</article>", start)]


# --- who gets in ----------------------------------------------------------------------------------


def routes(document, gold_span_id=1, gold_relation_id=1):
    d = document.pk
    return [
        ("get", reverse("adjudication-queue", args=[document.project_id])),
        ("get", reverse("adjudicate", args=[d])),
        ("get", reverse("adjudicate-draft", args=[d]) + "?unit=1"),
        ("post", reverse("adjudicate-accept", args=[d])),
        ("post", reverse("adjudicate-reject", args=[d])),
        ("post", reverse("adjudicate-add", args=[d])),
        ("post", reverse("adjudicate-agreed", args=[d])),
        ("post", reverse("adjudicate-majority", args=[d])),
        ("post", reverse("adjudicate-link-accept", args=[d])),
        ("post", reverse("adjudicate-link-add", args=[d])),
        ("post", reverse("adjudicate-start", args=[d])),
        ("post", reverse("adjudicate-complete", args=[d])),
        ("post", reverse("adjudicate-reopen", args=[d])),
        ("get", reverse("gold-edit", args=[gold_span_id])),
        ("post", reverse("gold-edit", args=[gold_span_id])),
        ("post", reverse("gold-delete", args=[gold_span_id])),
        ("post", reverse("gold-link-delete", args=[gold_relation_id])),
    ]


@pytest.fixture
def gold_rows(ready, adjudicator):
    claim = gold.gold_add(
        adjudicator=adjudicator,
        document=ready,
        label="CASUALTY",
        **quote_span(ready, "2,359 ISIS terrorists"),
    )
    source = gold.gold_add(
        adjudicator=adjudicator,
        document=ready,
        label="SOURCE",
        **quote_span(ready, "Russian ministry of defense"),
    )
    link = gold.gold_relation_add(
        adjudicator=adjudicator,
        document=ready,
        type="claimed_by",
        source_id=claim.pk,
        target_id=source.pk,
    )
    return claim, link


def test_a_coder_gets_404_from_every_adjudication_route(client, coder, ready, gold_rows):
    client.force_login(coder)
    claim, link = gold_rows

    for method, url in routes(ready, claim.pk, link.pk):
        response = getattr(client, method)(url, headers=HTMX)
        assert response.status_code == 404, (method, url)
    assert GoldSpan.objects.alive().count() == 2


def test_an_outsider_gets_404_from_every_adjudication_route(client, outsider, ready, gold_rows):
    client.force_login(outsider)
    claim, link = gold_rows

    for method, url in routes(ready, claim.pk, link.pk):
        assert getattr(client, method)(url).status_code == 404, (method, url)


def test_a_visitor_who_is_not_logged_in_is_sent_to_log_in(client, ready):
    response = client.get(screen_url(ready))

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_manager_may_adjudicate(client, manager, ready):
    client.force_login(manager)

    assert client.get(screen_url(ready)).status_code == 200


# --- what the screen shows ----------------------------------------------------------------------------


def test_the_screen_shows_each_coders_version_of_a_unit_side_by_side(
    adjudicator_client, ready, coder, other_coder
):
    short = make_span(ready, coder, "Russian", label="ACTOR")
    make_span(ready, other_coder, "Russian air strikes", label="ACTOR")

    html = unit_html(adjudicator_client.get(screen_url(ready)).content.decode(), short.pk)

    assert '<mark class="ann l' in html and ">Russian</mark> air strikes" in html
    assert ">Russian air strikes</mark>" in html
    assert "boundary" in html and "coder" in html and "other_coder" in html


def test_a_unit_every_coder_made_identically_is_marked_agreed(
    adjudicator_client, ready, coder, other_coder
):
    first = make_span(ready, coder, "Syria", label="LOCATION")
    make_span(ready, other_coder, "Syria", label="LOCATION")

    html = unit_html(adjudicator_client.get(screen_url(ready)).content.decode(), first.pk)

    assert 'class="unit open agreed"' in html
    assert "All 2 coders" in html


def test_a_label_disagreement_is_flagged_on_the_odd_version(
    adjudicator_client, ready, coder, other_coder, third_coder
):
    ready.project.overlap_k = 3
    ready.project.save()
    assign(ready, third_coder, "submitted")
    first = make_span(ready, coder, "Russian ministry of defense", label="SOURCE")
    make_span(ready, other_coder, "Russian ministry of defense", label="SOURCE")
    make_span(ready, third_coder, "Russian ministry of defense", label="ACTOR")

    html = unit_html(adjudicator_client.get(screen_url(ready)).content.decode(), first.pk)

    assert re.findall(r'class="tag l\d+( differs)?">(\w+)<', html) == [
        ("", "SOURCE"),
        ("", "SOURCE"),
        (" differs", "ACTOR"),
    ]


def test_differing_attributes_and_links_are_flagged(adjudicator_client, ready, coder, other_coder):
    mine = make_span(
        ready, coder, "2,359 ISIS terrorists", label="CASUALTY", attributes={"outcome": "killed"}
    )
    make_span(
        ready,
        other_coder,
        "2,359 ISIS terrorists",
        label="CASUALTY",
        attributes={"outcome": "injured"},
    )
    source = make_span(ready, coder, "Russian ministry of defense", label="SOURCE")
    make_relation(ready, coder, mine, source)

    html = unit_html(adjudicator_client.get(screen_url(ready)).content.decode(), mine.pk)

    assert '<span class="chip differs">outcome: killed</span>' in html
    assert '<span class="chip link differs">claimed_by' in html
    assert ">attributes<" in html and ">links<" in html


def test_coder_names_are_pseudonyms_when_the_project_hides_them(
    adjudicator_client, ready, coder, other_coder
):
    ready.project.hide_coder_names = True
    ready.project.save()
    make_span(ready, coder, "Syria", label="LOCATION")

    html = adjudicator_client.get(screen_url(ready)).content.decode()

    assert "Coder A" in html and "Coder B" in html
    assert "other_coder" not in html and ">coder<" not in html


def test_the_gold_layer_is_drawn_over_the_text_and_listed_with_provenance(
    adjudicator_client, ready, coder, other_coder, adjudicator
):
    span = make_span(ready, coder, "Syria", label="LOCATION")
    [accepted] = gold.gold_accept(
        adjudicator=adjudicator, document=ready, annotation_ids=[span.pk], note="the country"
    )

    html = adjudicator_client.get(screen_url(ready)).content.decode()

    article = html[html.index('id="article"') : html.index("</div>", html.index('id="article"'))]
    assert f'data-ids="{accepted.pk}"' in article
    item = html[html.index(f'id="gold-{accepted.pk}"') :]
    assert "accepted from coder" in item[:800] and "the country" in item[:1200]


def test_the_page_has_no_inline_script_or_style(adjudicator_client, ready, coder, other_coder):
    make_span(ready, coder, "Syria", label="LOCATION")

    html = adjudicator_client.get(screen_url(ready)).content.decode()

    assert " style=" not in html and "hx-on" not in html
    scripts = re.findall(r"<script([^>]*)>", html)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts), scripts


# --- decisions --------------------------------------------------------------------------------------


def test_an_htmx_accept_answers_the_unit_the_article_and_the_gold_out_of_band(
    adjudicator_client, ready, coder, other_coder
):
    span = make_span(ready, coder, "Syria", label="LOCATION")

    response = adjudicator_client.post(
        reverse("adjudicate-accept", args=[ready.pk]),
        {"annotations": str(span.pk), "unit": span.pk, "note": "clear"},
        headers=HTMX,
    )

    assert response.status_code == 200
    body = response.content.decode()
    for region in (f'id="unit-{span.pk}"', 'id="article"', 'id="gold"', 'id="progress"'):
        assert re.search(region + r'[^>]*hx-swap-oob="true"', body), region
    assert 'class="unit gold' in body
    assert GoldSpan.objects.get().note == "clear"


def test_a_plain_form_accept_redirects_back_to_the_unit(
    adjudicator_client, ready, coder, other_coder
):
    span = make_span(ready, coder, "Syria", label="LOCATION")

    response = adjudicator_client.post(
        reverse("adjudicate-accept", args=[ready.pk]),
        {"annotations": str(span.pk), "unit": span.pk},
    )

    assert response.status_code == 302
    assert response["Location"] == screen_url(ready) + f"#unit-{span.pk}"


def test_a_refused_decision_is_a_422_with_its_message_in_the_unit(
    adjudicator_client, document, coder
):
    assign(document, coder, "submitted")  # one of the two codings: not ready
    span = make_span(document, coder, "Syria", label="LOCATION")

    response = adjudicator_client.post(
        reverse("adjudicate-accept", args=[document.pk]),
        {"annotations": str(span.pk), "unit": span.pk},
        headers=HTMX,
    )

    assert response.status_code == 422
    assert f'id="unit-{span.pk}-errors"' in response.content.decode()
    assert "not ready for adjudication" in response.content.decode()


def test_reject_settles_the_unit_with_its_note(adjudicator_client, ready, coder, other_coder):
    span = make_span(ready, coder, "war-torn country", label="LOCATION")

    response = adjudicator_client.post(
        reverse("adjudicate-reject", args=[ready.pk]),
        {"annotations": str(span.pk), "unit": span.pk, "note": "not a place"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert "Rejected: not a place" in unit_html(response.content.decode(), span.pk)


def test_add_without_javascript_takes_the_quote_from_the_offsets(adjudicator_client, ready):
    where = quote_span(ready, "September 19-29")

    response = adjudicator_client.post(
        reverse("adjudicate-add", args=[ready.pk]),
        {"label": "DATE", "start": where["start"], "end": where["end"]},
    )

    assert response.status_code == 302
    assert GoldSpan.objects.get().text == "September 19-29"


def test_the_editor_opens_for_a_gold_span(adjudicator_client, ready, adjudicator):
    span = gold.gold_add(
        adjudicator=adjudicator, document=ready, label="LOCATION", **quote_span(ready, "Syria")
    )

    response = adjudicator_client.get(reverse("gold-edit", args=[span.pk]), headers=HTMX)

    assert response.status_code == 200
    assert 'name="version" value="1"' in response.content.decode()


def test_a_stale_edit_is_a_409_with_the_current_version_in_the_editor(
    adjudicator_client, ready, adjudicator
):
    span = gold.gold_add(
        adjudicator=adjudicator, document=ready, label="LOCATION", **quote_span(ready, "Syria")
    )
    gold.gold_edit(adjudicator=adjudicator, gold_span=span, version=1, note="first")

    response = adjudicator_client.post(
        reverse("gold-edit", args=[span.pk]),
        {"version": 1, "label": "LOCATION", "note": "second"},
        headers=HTMX,
    )

    assert response.status_code == 409
    body = response.content.decode()
    assert "changed meanwhile" in body and 'name="version" value="2"' in body
    assert GoldSpan.objects.get(pk=span.pk).note == "first"


def test_an_edit_with_a_bad_attribute_is_a_422_with_the_form_kept(
    adjudicator_client, ready, adjudicator
):
    span = gold.gold_add(
        adjudicator=adjudicator, document=ready, label="LOCATION", **quote_span(ready, "Syria")
    )

    response = adjudicator_client.post(
        reverse("gold-edit", args=[span.pk]),
        {"version": 1, "label": "LOCATION", "attr-loc_type": "planet", "note": "kept"},
        headers=HTMX,
    )

    assert response.status_code == 422
    body = response.content.decode()
    assert "is not one of" in body and 'value="kept"' in body


def test_accept_all_agreed_redirects_with_what_it_did(
    adjudicator_client, ready, coder, other_coder
):
    for who in (coder, other_coder):
        make_span(ready, who, "Syria", label="LOCATION")

    response = adjudicator_client.post(reverse("adjudicate-agreed", args=[ready.pk]), follow=True)

    assert "Accepted 1 span(s) all coders agree on" in response.content.decode()
    assert GoldSpan.objects.count() == 1


def test_complete_then_reopen_through_the_screen(adjudicator_client, ready):
    adjudicator_client.post(reverse("adjudicate-complete", args=[ready.pk]))
    assert Document.objects.get(pk=ready.pk).adjudicated_at is not None

    adjudicator_client.post(reverse("adjudicate-reopen", args=[ready.pk]), {"note": "typo"})

    assert Document.objects.get(pk=ready.pk).adjudicated_at is None


# --- the queue ----------------------------------------------------------------------------------------


@pytest.fixture
def two_ready(project, coder, other_coder):
    """A document the coders agree on, and one they disagree on."""
    calm = make_document(project, title="Calm")
    torn = make_document(project, title="Torn")
    for document in (calm, torn):
        for who in (coder, other_coder):
            assign(document, who, "submitted")
    for who in (coder, other_coder):
        make_span(calm, who, "Syria", label="LOCATION")
    make_span(torn, coder, "Syria", label="LOCATION")
    make_span(torn, other_coder, "Russian", label="ACTOR")
    return calm, torn


def test_the_queue_lists_ready_documents_least_agreement_first(
    adjudicator_client, project, two_ready
):
    html = adjudicator_client.get(reverse("adjudication-queue", args=[project.pk])).content.decode()

    assert html.index(">Torn<") < html.index(">Calm<")


def test_the_queue_leaves_out_documents_not_all_coders_submitted(
    adjudicator_client, project, coder
):
    waiting = make_document(project, title="Waiting")
    assign(waiting, coder, "submitted")

    html = adjudicator_client.get(reverse("adjudication-queue", args=[project.pk])).content.decode()

    assert "Waiting" not in html


def test_the_queue_filters_by_label(adjudicator_client, project, two_ready):
    url = reverse("adjudication-queue", args=[project.pk]) + "?label=ACTOR"

    html = adjudicator_client.get(url).content.decode()

    assert ">Torn<" in html and ">Calm<" not in html


def test_the_queue_filters_by_coder(adjudicator_client, project, two_ready, third_coder):
    alone = make_document(project, title="Third")
    for who in (third_coder, make_user("fourth")):
        add_member(project, who, Role.CODER)
        assign(alone, who, "submitted")

    html = adjudicator_client.get(
        reverse("adjudication-queue", args=[project.pk]) + "?coder=third_coder"
    ).content.decode()

    assert ">Third<" in html and ">Torn<" not in html


def test_the_queue_shows_each_coder_against_the_gold(
    adjudicator_client, project, two_ready, adjudicator
):
    calm, _ = two_ready
    gold.gold_accept_agreed(adjudicator=adjudicator, document=calm)
    gold.adjudication_complete(adjudicator=adjudicator, document=calm)

    html = adjudicator_client.get(reverse("adjudication-queue", args=[project.pk])).content.decode()

    section = html[html.index('id="against-gold"') :]
    assert "coder" in section and "100%" in section and "1/1/1" in section


# --- a big document costs a bounded number of queries ------------------------------------------------------


def seed_three_coders(document, coders, per_coder: int = 200) -> None:
    """Each coder marks `per_coder` one-word spans over "Aleppo Aleppo ..."; the second labels
    every fifth one differently, the third shortens every seventh; the first links pairs."""
    location = Label.objects.get(project=document.project, name="LOCATION")
    actor = Label.objects.get(project=document.project, name="ACTOR")
    for index, coder in enumerate(coders):
        spans = []
        for n in range(per_coder):
            label = actor if index == 1 and n % 5 == 0 else location
            end = 7 * n + (3 if index == 2 and n % 7 == 0 else 6)
            spans.append(
                Annotation(
                    document=document,
                    coder=coder,
                    label=label,
                    start=7 * n,
                    end=end,
                    text=document.text[7 * n : end],
                    attributes={"loc_type": "populated_place"},
                )
            )
        created = Annotation.objects.bulk_create(spans)
        if index == 0:
            located_in = RelationType.objects.get(project=document.project, name="located_in")
            Relation.objects.bulk_create(
                Relation(document=document, coder=coder, type=located_in, source=a, target=b)
                for a, b in zip(created[::2], created[1::2], strict=False)
            )


def test_a_screen_of_three_coders_with_200_spans_each_costs_a_bounded_number_of_queries(
    adjudicator_client,
    project,
    coder,
    other_coder,
    third_coder,
    adjudicator,
    django_assert_max_num_queries,
):
    project.overlap_k = 3
    project.save()
    document = make_document(project, text="Aleppo " * 210, title="Many places")
    for who in (coder, other_coder, third_coder):
        assign(document, who, "submitted")
    seed_three_coders(document, [coder, other_coder, third_coder])
    gold.gold_accept_majority(adjudicator=adjudicator, document=document, threshold="2/3")
    get_codebook(project)  # warm, as in a running server

    with django_assert_max_num_queries(16):
        response = adjudicator_client.get(screen_url(document))

    assert response.status_code == 200
    assert response.content.decode().count('<article id="unit-') == 200


def test_both_link_selects_list_every_gold_span_escaped(
    adjudicator_client, project, adjudicator, coder, other_coder
):
    document = make_document(project, text="<b>Officials</b> said 3 <i>people</i> died.")
    for who in (coder, other_coder):
        assign(document, who, "submitted")
    added = [
        gold.gold_add(
            adjudicator=adjudicator, document=document, label=label, **quote_span(document, phrase)
        )
        for label, phrase in (("SOURCE", "<b>Officials</b>"), ("CASUALTY", "3 <i>people</i>"))
    ]

    html = adjudicator_client.get(screen_url(document)).content.decode()

    for select in ("link-source", "link-target"):
        options = html[html.index(f'id="{select}"') : html.index("</select>", html.index(select))]
        assert [f'<option value="{g.pk}">' in options for g in added] == [True, True]
        assert "SOURCE: &lt;b&gt;Officials&lt;/b&gt;" in options
        assert "<b>" not in options and "<i>" not in options
