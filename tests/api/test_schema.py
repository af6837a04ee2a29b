"""The OpenAPI schema and the Swagger UI page that renders it (from local files, no CDN)."""

import re

from django.core.management import call_command
from rest_framework.permissions import IsAuthenticated

from annotator.api import urls as api_urls


def _api_paths() -> set[str]:
    """Every route in annotator/api/urls.py, as the schema spells it."""
    return {
        "/api/v1/" + re.sub(r"<int:(\w+)>", r"{\1}", str(pattern.pattern))
        for pattern in api_urls.urlpatterns
    }


def test_the_schema_lists_every_api_route(client, db):
    response = client.get("/api/schema/?format=json")

    assert response.status_code == 200
    assert set(response.json()["paths"]) == _api_paths()


def test_the_schema_says_a_patch_must_carry_a_version(client, db):
    schema = client.get("/api/schema/?format=json").json()

    patch = schema["paths"]["/api/v1/annotations/{annotation_id}/"]["patch"]
    body = patch["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][body.rsplit("/", 1)[1]]
    assert component["required"] == ["version"]
    assert "409" in patch["responses"]


def test_the_schema_validates_without_warnings(tmp_path):
    # --fail-on-warn turns any view spectacular cannot describe into a failure.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", tmp_path / "s.yaml")


def test_the_docs_page_loads_only_local_assets(client, db):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls, html
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    assert "swagger-ui-bundle.js" in html


def test_every_asset_of_the_docs_page_is_served(client, db):
    html = client.get("/api/docs/").content.decode()

    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        response = client.get(url)
        assert response.status_code == 200, url


def test_every_api_route_but_the_token_one_requires_authentication():
    open_views = {
        pattern.name
        for pattern in api_urls.urlpatterns
        if IsAuthenticated not in pattern.callback.view_class.permission_classes
    }

    assert open_views == {"token"}
