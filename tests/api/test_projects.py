"""Projects and their codebooks."""

from annotator.models import Project, Role
from tests.factories import add_member, make_project, make_user


def test_project_list_shows_only_the_users_projects_with_their_roles(
    api_as, coder, project, outsider
):
    add_member(project, coder, Role.ADJUDICATOR)

    response = api_as(coder).get("/api/v1/projects/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["results"] == [
        {
            "id": project.pk,
            "name": "Syria claims",
            "description": "",
            "roles": ["adjudicator", "coder"],
        }
    ]


def test_a_user_in_no_project_gets_an_empty_list(api_as, db):
    response = api_as(make_user("newcomer")).get("/api/v1/projects/")

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_project_detail_carries_the_codebook_version_and_overlap_rule(api_as, coder, project):
    response = api_as(coder).get(f"/api/v1/projects/{project.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["roles"] == ["coder"]
    assert body["codebook"]["version"] == project.codebook_version
    assert body["codebook"]["allow_overlap"] is False


def test_project_detail_lists_labels_with_their_attributes(api_as, coder, project):
    codebook = api_as(coder).get(f"/api/v1/projects/{project.pk}/").json()["codebook"]

    labels = {label["name"]: label for label in codebook["labels"]}
    assert {"ACTOR", "LOCATION", "DATE", "SOURCE", "CASUALTY"} <= set(labels)
    assert labels["MATERIEL"]["enabled"] is False
    actor_type = next(a for a in labels["ACTOR"]["attributes"] if a["name"] == "actor_type")
    assert actor_type["kind"] == "enum"
    assert "state_forces" in actor_type["values"]
    canonical = next(a for a in labels["ACTOR"]["attributes"] if a["name"] == "canonical")
    assert "Islamic State" in canonical["list_values"]


def test_project_detail_lists_relation_types_with_labels_and_cardinality(api_as, coder, project):
    codebook = api_as(coder).get(f"/api/v1/projects/{project.pk}/").json()["codebook"]

    types = {rt["name"]: rt for rt in codebook["relation_types"]}
    assert types["claimed_by"]["from_label"] == "CASUALTY"
    assert types["claimed_by"]["to_label"] == "SOURCE"
    assert types["claimed_by"]["cardinality"] == "exactly 1"
    assert types["perpetrator"]["cardinality"] == "any"
    assert types["perpetrator"]["max_per_source"] is None


def test_project_detail_shows_a_custom_codebook(api_as, manager):
    project = make_project(
        manager,
        codebook={
            "allow_overlap": True,
            "labels": [{"name": "VEHICLE", "colour": "#123456"}],
        },
    )

    codebook = api_as(manager).get(f"/api/v1/projects/{project.pk}/").json()["codebook"]

    assert codebook["allow_overlap"] is True
    assert [label["name"] for label in codebook["labels"]] == ["VEHICLE"]
    assert codebook["relation_types"] == []


HOSTILE = "## Hard cases\n\n<script>alert(1)</script>\n\n[click](javascript:alert(2))"


def test_the_api_gives_the_guidelines_sanitised_to_members(api_as, project, coder, outsider):
    Project.objects.filter(pk=project.pk).update(guidelines=HOSTILE)

    data = api_as(coder).get(f"/api/v1/projects/{project.pk}/").json()

    assert data["guidelines"] == HOSTILE
    assert "Hard cases</h2>" in data["guidelines_html"]
    assert "<script" not in data["guidelines_html"]
    assert "javascript:" not in data["guidelines_html"].lower()
    assert api_as(outsider).get(f"/api/v1/projects/{project.pk}/").status_code == 404
