"""The lexicon page: managers only, every bad entry named, a "try it" box, and which checks
block submitting."""

import json

import pytest

from annotator.claims.checks import CLAIM_WITHOUT_SOURCE
from annotator.models import AuditEvent, Project
from annotator.services.numbers import shipped_lexicon


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def url(project, suffix=""):
    return f"/projects/{project.pk}/lexicon/{suffix}"


def lexicon_with(**changes) -> str:
    data = shipped_lexicon("en").to_dict()
    data.update(changes)
    return json.dumps(data)


def test_a_manager_sees_the_default_lexicon(manager_client, project):
    response = manager_client.get(url(project))

    assert response.status_code == 200
    body = response.content.decode()
    assert "the default shipped with Annotator" in body and "&quot;dozens&quot;" in body


@pytest.mark.parametrize("persona", ["coder", "adjudicator", "outsider"])
def test_only_managers_reach_the_lexicon_page(client, project, persona, request):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(url(project)).status_code == 404
    assert client.post(url(project), {"lexicon": lexicon_with()}).status_code == 404
    assert client.get(url(project, "try/"), {"phrase": "dozens"}).status_code == 404
    assert (
        client.post(url(project, "checks/"), {"blocking": CLAIM_WITHOUT_SOURCE}).status_code == 404
    )


def test_a_saved_lexicon_is_the_projects_and_bumps_the_codebook_version(manager_client, project):
    vague = {
        **shipped_lexicon("en").to_dict()["vague"],
        "dozens": {"low": 12, "high": 99, "single": 12},
    }

    response = manager_client.post(
        url(project), {"language": "en", "lexicon": lexicon_with(vague=vague)}
    )

    assert response.status_code == 302
    saved = Project.objects.get(pk=project.pk)
    assert saved.lexicon["en"]["vague"]["dozens"]["low"] == 12
    assert saved.codebook_version == project.codebook_version + 1


def test_a_lexicon_with_bad_entries_is_refused_naming_each(manager_client, project):
    vague = {
        "dozens": {"low": 100, "high": 99, "single": 12},
        "scores": {"low": "many", "high": 199, "single": 20},
    }

    response = manager_client.post(
        url(project), {"language": "en", "lexicon": lexicon_with(vague=vague)}
    )

    assert response.status_code == 422
    body = response.content.decode()
    assert "vague[&#x27;dozens&#x27;]: low 100 &gt; high 99" in body
    assert (
        "vague[&#x27;scores&#x27;]: low must be a non-negative integer, got &#x27;many&#x27;"
        in body
    )
    assert Project.objects.get(pk=project.pk).lexicon == {}


def test_text_that_is_not_json_is_refused_and_kept_for_fixing(manager_client, project):
    response = manager_client.post(url(project), {"language": "en", "lexicon": '{"vague": '})

    assert response.status_code == 422
    body = response.content.decode()
    assert "not valid JSON" in body and "{&quot;vague&quot;: </textarea>" in body


def test_try_it_reads_a_phrase_with_the_saved_lexicon(manager_client, project):
    response = manager_client.get(
        url(project, "try/"), {"phrase": "dozens of ISIS terrorists", "language": "en"},
        headers={"HX-Request": "true"},
    )  # fmt: skip

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="try-result"')
    assert "<dd>vague" in body and "<dd>24</dd>" in body and "<dd>99</dd>" in body


def test_try_it_follows_a_changed_lexicon(manager_client, project):
    vague = {
        **shipped_lexicon("en").to_dict()["vague"],
        "dozens": {"low": 12, "high": 99, "single": 12},
    }
    manager_client.post(url(project), {"language": "en", "lexicon": lexicon_with(vague=vague)})

    response = manager_client.get(url(project, "try/"), {"phrase": "dozens of them"})

    assert "<dd>12</dd>" in response.content.decode()


def test_going_back_to_the_default_forgets_the_projects_lexicon(manager_client, project, manager):
    manager_client.post(url(project), {"language": "en", "lexicon": lexicon_with()})

    manager_client.post(url(project), {"language": "en", "action": "reset"})

    assert Project.objects.get(pk=project.pk).lexicon == {}
    assert AuditEvent.objects.filter(action="codebook.lexicon.reset").exists()


def test_a_manager_makes_a_check_blocking(manager_client, project):
    response = manager_client.post(url(project, "checks/"), {"blocking": [CLAIM_WITHOUT_SOURCE]})

    assert response.status_code == 302
    assert Project.objects.get(pk=project.pk).blocking_checks == [CLAIM_WITHOUT_SOURCE]


def test_an_unknown_check_is_refused(manager_client, project):
    response = manager_client.post(url(project, "checks/"), {"blocking": ["no_such_check"]})

    assert response.status_code == 422
    assert "&#x27;no_such_check&#x27; is not a check" in response.content.decode()
    assert Project.objects.get(pk=project.pk).blocking_checks == []
