from annotator.services import span_create
from tests.factories import quote_span


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
