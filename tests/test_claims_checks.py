"""The checks before submit in the coding screen: listed for the coder's own spans and links,
re-fetched after each change (the change's answer fires `checks-changed`), marked when a
manager made them blocking."""

import re

import pytest
from django.test import Client

from annotator.checks import blocking_findings, coder_findings
from annotator.claims.checks import CLAIM_WITHOUT_SOURCE, COUNT_BOUNDS_OUT_OF_ORDER
from annotator.models import RelationType
from annotator.services import relation_create, span_create
from tests.factories import quote_span


def tag(document, coder, label, phrase, **attributes):
    span, _ = span_create(
        document=document,
        coder=coder,
        label=label,
        **quote_span(document, phrase),
        attributes=attributes or None,
    )
    return span


@pytest.fixture
def claim(document, coder):
    return tag(document, coder, "CASUALTY", "2,359 ISIS terrorists")


@pytest.fixture
def source(document, coder):
    return tag(document, coder, "SOURCE", "Russian ministry of defense")


def checks_section(body: str) -> str:
    match = re.search(r'<section id="checks".*?</section>', body, re.S)
    assert match, "no Checks section"
    return match.group(0)


def checks_after(client, document, response) -> str:
    """What the coding screen shows once a change's answer has asked for fresh checks."""
    assert response.status_code < 400, response.content.decode()
    assert "checks-changed" in response.headers.get("HX-Trigger", "")
    assert 'id="checks"' not in response.content.decode(), "checks belong off the save path"
    fetched = client.get(f"/documents/{document.pk}/checks/", headers={"HX-Request": "true"})
    assert fetched.status_code == 200
    return checks_section(fetched.content.decode())


def test_the_coding_screen_fetches_its_checks_once_loaded(coder_client, document, claim):
    body = coder_client.get(f"/documents/{document.pk}/").content.decode()

    placeholder = checks_section(body)
    assert f'hx-get="/documents/{document.pk}/checks/"' in placeholder
    assert 'hx-trigger="load, checks-changed' in placeholder


def test_the_checks_list_a_claim_without_claimed_by(coder_client, document, claim):
    body = coder_client.get(f"/documents/{document.pk}/checks/").content.decode()

    section = checks_section(body)
    assert "has no claimed_by link" in section
    assert f'data-span="{claim.pk}"' in section


def test_a_coder_with_nothing_wrong_sees_no_findings(coder_client, document):
    body = coder_client.get(f"/documents/{document.pk}/checks/").content.decode()

    assert "Nothing to fix" in checks_section(body)


def test_creating_a_claim_brings_the_finding(coder_client, document):
    response = coder_client.post(
        f"/documents/{document.pk}/spans/",
        {"label": "CASUALTY", **quote_span(document, "2,359 ISIS terrorists")},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 201
    assert "has no claimed_by link" in checks_after(coder_client, document, response)


def test_linking_the_source_makes_the_finding_disappear(coder_client, document, claim, source):
    response = coder_client.post(
        f"/documents/{document.pk}/relations/",
        {"type": "claimed_by", "source": claim.pk, "target": source.pk},
        headers={"HX-Request": "true"},
    )

    section = checks_after(coder_client, document, response)
    assert "claimed_by link" not in section and "Nothing to fix" in section


def test_removing_the_link_brings_the_finding_back(coder_client, document, coder, claim, source):
    relation, _ = relation_create(
        document=document, coder=coder, type="claimed_by", source_id=claim.pk, target_id=source.pk
    )

    response = coder_client.post(
        f"/relations/{relation.pk}/delete/", headers={"HX-Request": "true"}
    )

    assert "has no claimed_by link" in checks_after(coder_client, document, response)


def test_deleting_the_claim_clears_its_finding(coder_client, document, claim):
    response = coder_client.post(
        f"/spans/{claim.pk}/delete/", {"version": claim.version}, headers={"HX-Request": "true"}
    )

    assert "Nothing to fix" in checks_after(coder_client, document, response)


def test_a_refused_change_sends_no_checks(coder_client, document, claim):
    response = coder_client.post(
        f"/spans/{claim.pk}/",
        {"version": claim.version, "label": "CASUALTY", "attr-low": "not a number"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 422
    assert 'id="checks"' not in response.content.decode()
    assert "HX-Trigger" not in response.headers


def test_the_checks_fragment_is_the_coders_own(coder_client, document, claim, other_coder):
    tag(document, other_coder, "SOURCE", "Russian ministry of defense")
    other_coder_client = Client()
    other_coder_client.force_login(other_coder)

    own = coder_client.get(f"/documents/{document.pk}/checks/").content.decode()
    others = other_coder_client.get(f"/documents/{document.pk}/checks/")

    assert f'data-span="{claim.pk}"' in checks_section(own)
    assert others.status_code == 200
    assert f'data-span="{claim.pk}"' not in others.content.decode()
    assert "Nothing to fix" in checks_section(others.content.decode())


def test_the_checks_fragment_is_refused_outside_the_project(client, outsider, document, claim):
    client.force_login(outsider)

    assert client.get(f"/documents/{document.pk}/checks/").status_code == 404


def test_a_blocking_check_is_marked_as_blocking(coder_client, project, document, claim):
    project.blocking_checks = [CLAIM_WITHOUT_SOURCE]
    project.save(update_fields=["blocking_checks"])

    body = coder_client.get(f"/documents/{document.pk}/checks/").content.decode()

    assert "Blocks submitting:" in checks_section(body)


def test_the_checks_see_only_the_coders_own_work(document, coder, other_coder, claim):
    tag(document, other_coder, "CASUALTY", "2,359 ISIS terrorists")

    findings = coder_findings(document, coder)

    assert [f.span_ids for f in findings] == [(str(claim.pk),)]


def test_numbers_out_of_order_are_a_finding(document, coder):
    tag(document, coder, "CASUALTY", "2,359 ISIS terrorists", low=3000, best=2359, high=2359)

    assert COUNT_BOUNDS_OUT_OF_ORDER in {f.code for f in coder_findings(document, coder)}


def test_a_codebook_without_a_minimum_drops_the_missing_source_finding(
    project, document, coder, claim
):
    RelationType.objects.filter(project=project, name="claimed_by").update(min_per_source=0)
    project.codebook_version += 1
    project.save(update_fields=["codebook_version"])

    assert coder_findings(document, coder) == []


def test_blocking_findings_are_those_the_managers_chose(project, document, coder):
    tag(document, coder, "CASUALTY", "2,359 ISIS terrorists", low=3000, best=2359, high=2359)
    findings = coder_findings(document, coder)
    project.blocking_checks = [COUNT_BOUNDS_OUT_OF_ORDER]

    blocking = blocking_findings(project, findings)

    assert [f.code for f in blocking] == [COUNT_BOUNDS_OUT_OF_ORDER]
    assert len(findings) == 2
