from annotator.services import relation_create, span_create
from tests.factories import make_document, quote_span


def test_coding_screen_shows_the_coders_span(coder_client, document, coder):
    span, _ = span_create(
        document=document, coder=coder, label="ACTOR", **quote_span(document, "Russian")
    )
    response = coder_client.get(f"/documents/{document.pk}/")
    assert response.status_code == 200
    assert f'data-starts="{span.pk}"' in response.content.decode()


def test_htmx_create_returns_panel_and_chunk(coder_client, document):
    response = coder_client.post(
        f"/documents/{document.pk}/spans/",
        {"label": "CASUALTY", **quote_span(document, "2,359 ISIS terrorists"), "client_id": "abc"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 201, response.content.decode()
    body = response.content.decode()
    assert 'hx-swap-oob="true"' in body and "Saved" in body


def test_side_list_and_links_escape_the_quotes(coder_client, project, coder):
    document = make_document(project, text="<b>Officials</b> said 3 <i>people</i> were killed.")
    source, _ = span_create(
        document=document, coder=coder, label="SOURCE", **quote_span(document, "<b>Officials</b>")
    )
    claim, _ = span_create(
        document=document, coder=coder, label="CASUALTY", **quote_span(document, "3 <i>people</i>")
    )
    relation_create(
        document=document, coder=coder, type="claimed_by", source_id=claim.pk, target_id=source.pk
    )

    body = coder_client.get(f"/documents/{document.pk}/").content.decode()

    assert "<b>" not in body and "<i>" not in body
    links = body[body.index('id="links"') :]
    assert '<li id="rel-' in links
    assert '3 &lt;i&gt;people&lt;/i&gt;</a> <span class="rel-type">claimed_by</span>' in links
    assert f'id="li-{source.pk}"' in body and "&lt;b&gt;Officials&lt;/b&gt;</a></li>" in body
