"""The codebook page: guidelines for every member, inline editing for managers (htmx
fragments, or plain posts that redirect), 422 + the form when a change is refused."""

import pytest
from django.urls import reverse

from annotator.codebook import _load_codebook, get_codebook
from annotator.models import Project
from annotator.services import relation_create, span_create
from tests.factories import make_project, make_user, quote_span

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _fresh_codebook_snapshots():
    # get_codebook() caches per (project id, version) for the process; SQLite hands a
    # rolled-back test's ids out again, so an earlier test's snapshot could be served here.
    _load_codebook.cache_clear()


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def codebook_url(project, name="codebook", *ids):
    return reverse(name, args=[project.pk, *ids])


def fresh(project) -> Project:
    return Project.objects.get(pk=project.pk)


def label_id(project, name) -> int:
    return project.labels.get(name=name).pk


def attribute_id(project, label_name, name) -> int:
    return project.labels.get(name=label_name).attributes.get(name=name).pk


def body(response) -> str:
    return response.content.decode()


def tag(document, coder, label, phrase, **attributes):
    span, _ = span_create(
        document=document,
        coder=coder,
        label=label,
        attributes=attributes or None,
        **quote_span(document, phrase),
    )
    return span


# --- Reading ------------------------------------------------------------------------------


def test_coder_reads_the_codebook_without_edit_forms(coder_client, project):
    response = coder_client.get(codebook_url(project))
    assert response.status_code == 200
    html = body(response)
    assert "ACTOR" in html and "claimed_by" in html and "Islamic State" in html
    assert "actor_type" in html and "state_forces" in html
    assert "/codebook/labels/" not in html and "Switch off" not in html and "<details" not in html


def test_manager_sees_edit_forms_for_everything(manager_client, project):
    html = body(manager_client.get(codebook_url(project)))
    actor = label_id(project, "ACTOR")
    assert f'action="{codebook_url(project, "codebook-label-update", actor)}"' in html
    assert f'hx-post="{codebook_url(project, "codebook-label-create")}"' in html
    assert f'action="{codebook_url(project, "codebook-attribute-create", actor)}"' in html
    assert f'action="{codebook_url(project, "codebook-relation-type-create")}"' in html
    assert f'action="{codebook_url(project, "codebook-list-entry-add")}"' in html
    assert 'name="csrfmiddlewaretoken"' in html  # plain posts work without htmx


def test_outsider_cannot_see_the_codebook(client, outsider, project):
    client.force_login(outsider)
    assert client.get(codebook_url(project)).status_code == 404


def test_page_queries_do_not_grow_with_the_codebook(
    manager_client, project, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        assert manager_client.get(codebook_url(project)).status_code == 200


# --- Labels -------------------------------------------------------------------------------


def test_manager_adds_a_label_with_htmx(manager_client, project):
    response = manager_client.post(
        codebook_url(project, "codebook-label-create"),
        {
            "name": "WEAPON_SYSTEM",
            "colour": "#336699",
            "hotkey": "x",
            "description": "Named systems",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    html = body(response)
    assert "<html" not in html and html.lstrip().startswith('<section id="labels"')
    assert "Saved: label WEAPON_SYSTEM added" in html
    project = fresh(project)
    assert project.codebook_version == 2
    assert '<span id="codebook-version" class="muted" hx-swap-oob="true">version 2</span>' in html
    assert "codebook.css?v=2" in html  # the colour classes are reloaded
    assert get_codebook(project).label_by_name("WEAPON_SYSTEM").colour == "#336699"


def test_manager_adds_a_label_without_javascript(manager_client, project):
    response = manager_client.post(
        codebook_url(project, "codebook-label-create"),
        {"name": "WEAPON_SYSTEM", "colour": "#336699"},
    )
    new_id = label_id(project, "WEAPON_SYSTEM")
    assert response.status_code == 302
    assert response["Location"] == f"{codebook_url(project)}#label-{new_id}"
    page = body(manager_client.get(response["Location"]))
    assert "Saved: label WEAPON_SYSTEM added" in page and "version 2" in page


def test_manager_renames_and_recolours_a_label(manager_client, project):
    actor = label_id(project, "ACTOR")
    response = manager_client.post(
        codebook_url(project, "codebook-label-update", actor),
        {
            "name": "ARMED_ACTOR",
            "colour": "#102030",
            "hotkey": "a",
            "description": "Armed actors",
            "examples": "",
            "enabled": ["0", "1"],
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    html = body(response)
    assert html.lstrip().startswith(f'<section id="label-{actor}"')
    assert "Saved: label ARMED_ACTOR" in html
    # Relation types name their labels: they are refreshed out of band.
    assert (
        '<section id="relation-types" class="cb-section" aria-labelledby="relation-types-heading" hx-swap-oob="true">'
        in html
    )
    spec = get_codebook(fresh(project)).label_by_id(actor)
    assert (spec.name, spec.colour, spec.description, spec.enabled) == (
        "ARMED_ACTOR",
        "#102030",
        "Armed actors",
        True,
    )


def test_manager_switches_off_a_label_in_use(manager_client, project, document, coder):
    span = tag(document, coder, "ACTOR", "Russian")
    actor = label_id(project, "ACTOR")
    response = manager_client.post(
        codebook_url(project, "codebook-label-update", actor), {"enabled": "0"}, headers=HTMX
    )
    assert response.status_code == 200
    assert "Saved: label ACTOR switched off" in body(response) and "Switch on" in body(response)
    spec = get_codebook(fresh(project)).label_by_id(actor)
    assert spec.enabled is False and spec.name == "ACTOR" and spec.hotkey == "a"
    span.refresh_from_db()
    assert span.deleted_at is None


def test_an_invalid_colour_is_refused_with_422_naming_field_and_value(manager_client, project):
    actor = label_id(project, "ACTOR")
    response = manager_client.post(
        codebook_url(project, "codebook-label-update", actor), {"colour": "#12345"}, headers=HTMX
    )
    assert response.status_code == 422
    html = body(response)
    assert "colour &#x27;#12345&#x27; is not a colour of the form #rrggbb" in html
    assert html.lstrip().startswith(f'<section id="label-{actor}"')
    assert '<details class="cb-edit" open>' in html and 'value="#12345" aria-invalid="true"' in html
    assert fresh(project).codebook_version == 1


def test_an_invalid_colour_without_javascript_renders_the_page_with_the_form(
    manager_client, project
):
    response = manager_client.post(
        codebook_url(project, "codebook-label-create"), {"name": "NEW", "colour": "blue"}
    )
    assert response.status_code == 422
    html = body(response)
    assert "<html" in html and "colour &#x27;blue&#x27; is not a colour" in html
    assert '<a href="#label-new-form">Go to the form</a>' in html
    assert 'value="NEW"' in html  # what was typed is kept


def test_a_duplicate_hotkey_is_refused(manager_client, project):
    response = manager_client.post(
        codebook_url(project, "codebook-label-update", label_id(project, "DATE")),
        {"hotkey": "l"},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "hotkey &#x27;l&#x27; is already used by label LOCATION" in body(response)


def test_a_duplicate_name_is_refused(manager_client, project):
    response = manager_client.post(
        codebook_url(project, "codebook-label-create"),
        {"name": "location", "colour": "#123456"},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "name &#x27;location&#x27; is already used by label LOCATION" in body(response)
    assert '<details class="cb-edit cb-new" open>' in body(response)


def test_deleting_a_label_in_use_is_refused_with_the_count(
    manager_client, project, document, coder
):
    tag(document, coder, "ACTOR", "Russian")
    response = manager_client.post(
        codebook_url(project, "codebook-label-delete", label_id(project, "ACTOR")), headers=HTMX
    )
    assert response.status_code == 422
    assert "ACTOR is used by 1 annotation; switch it off instead" in body(response)
    assert project.labels.filter(name="ACTOR").exists()


def test_manager_deletes_an_unused_label(manager_client, project):
    weapon = label_id(project, "WEAPON")
    response = manager_client.post(
        codebook_url(project, "codebook-label-delete", weapon), headers=HTMX
    )
    assert response.status_code == 200
    assert f'id="label-{weapon}"' not in body(response)
    assert get_codebook(fresh(project)).label_by_name("WEAPON") is None


# --- Attributes ---------------------------------------------------------------------------


def test_manager_adds_and_edits_an_attribute(manager_client, project):
    actor = label_id(project, "ACTOR")
    response = manager_client.post(
        codebook_url(project, "codebook-attribute-create", actor),
        {
            "name": "strength",
            "kind": "enum",
            "values": "small\r\nlarge",
            "list_name": "",
            "allow_other": "0",
            "default": "",
            "help_text": "How big",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "Saved: attribute ACTOR.strength added" in body(response)
    strength = attribute_id(project, "ACTOR", "strength")
    response = manager_client.post(
        codebook_url(project, "codebook-attribute-update", strength),
        {
            "name": "strength",
            "kind": "enum",
            "values": "small\nmedium\nlarge",
            "default": "medium",
            "help_text": "How big the force is",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    assert body(response).lstrip().startswith(f'<section id="label-{actor}"')
    spec = get_codebook(fresh(project)).label_by_name("ACTOR").attribute("strength")
    assert spec.values == ("small", "medium", "large") and spec.default == "medium"
    assert fresh(project).codebook_version == 3


def test_dropping_an_enum_value_in_use_is_refused_with_the_count(
    manager_client, project, document, coder
):
    tag(document, coder, "ACTOR", "Russian", actor_type="state_forces")
    response = manager_client.post(
        codebook_url(
            project, "codebook-attribute-update", attribute_id(project, "ACTOR", "actor_type")
        ),
        {"name": "actor_type", "kind": "enum", "values": "rebel_group\nunknown"},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "value &#x27;state_forces&#x27; of ACTOR.actor_type is used by 1 annotation" in body(
        response
    )
    assert (
        "state_forces"
        in get_codebook(fresh(project)).label_by_name("ACTOR").attribute("actor_type").values
    )


def test_deleting_an_attribute_in_use_is_refused(manager_client, project, document, coder):
    tag(document, coder, "ACTOR", "Russian", actor_type="state_forces")
    response = manager_client.post(
        codebook_url(
            project, "codebook-attribute-delete", attribute_id(project, "ACTOR", "actor_type")
        ),
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "ACTOR.actor_type holds values on 1 annotation" in body(response)


def test_manager_deletes_an_unused_attribute(manager_client, project):
    response = manager_client.post(
        codebook_url(
            project, "codebook-attribute-delete", attribute_id(project, "DATE", "normalized")
        ),
        headers=HTMX,
    )
    assert response.status_code == 200
    assert get_codebook(fresh(project)).label_by_name("DATE").attribute("normalized") is None


# --- Relation types -----------------------------------------------------------------------


def test_manager_adds_edits_and_deletes_a_relation_type(manager_client, project):
    response = manager_client.post(
        codebook_url(project, "codebook-relation-type-create"),
        {
            "name": "attacked",
            "from_label": label_id(project, "ACTOR"),
            "to_label": label_id(project, "LOCATION"),
            "min_per_source": "0",
            "max_per_source": "",
            "hotkey": "9",
            "description": "Who attacked where",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    assert body(response).lstrip().startswith('<section id="relation-types"')
    attacked = project.relation_types.get(name="attacked").pk
    response = manager_client.post(
        codebook_url(project, "codebook-relation-type-update", attacked),
        {
            "name": "attacked",
            "from_label": label_id(project, "ACTOR"),
            "to_label": label_id(project, "LOCATION"),
            "min_per_source": "1",
            "max_per_source": "1",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    assert get_codebook(fresh(project)).relation_type_by_name("attacked").cardinality == "exactly 1"
    response = manager_client.post(
        codebook_url(project, "codebook-relation-type-delete", attacked), headers=HTMX
    )
    assert response.status_code == 200
    codebook = get_codebook(fresh(project))
    assert codebook.relation_type_by_name("attacked") is None and codebook.version == 4


def test_a_duplicate_relation_type_name_is_refused(manager_client, project):
    response = manager_client.post(
        codebook_url(project, "codebook-relation-type-create"),
        {
            "name": "Claimed_By",
            "from_label": label_id(project, "ACTOR"),
            "to_label": label_id(project, "ACTOR"),
        },
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "name &#x27;Claimed_By&#x27; is already used by relation type claimed_by" in body(
        response
    )


def test_deleting_a_relation_type_in_use_is_refused(manager_client, project, document, coder):
    casualty = tag(document, coder, "CASUALTY", "2,359 ISIS terrorists")
    source = tag(document, coder, "SOURCE", "Russian ministry of defense")
    relation_create(
        document=document,
        coder=coder,
        type="claimed_by",
        source_id=casualty.pk,
        target_id=source.pk,
    )
    claimed_by = project.relation_types.get(name="claimed_by").pk
    response = manager_client.post(
        codebook_url(project, "codebook-relation-type-delete", claimed_by), headers=HTMX
    )
    assert response.status_code == 422
    assert "claimed_by is used by 1 link; it cannot be deleted" in body(response)


# --- Lists --------------------------------------------------------------------------------


def test_manager_adds_and_removes_a_list_entry(manager_client, project):
    response = manager_client.post(
        codebook_url(project, "codebook-list-entry-add"),
        {"list_name": "actors", "name": "Wagner Group", "aliases": "Wagner\r\nPMC Wagner"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert body(response).lstrip().startswith('<section id="lists"')
    assert "Saved: Wagner Group added to the actors list" in body(response)
    canonical = get_codebook(fresh(project)).label_by_name("ACTOR").attribute("canonical")
    assert "Wagner Group" in canonical.list_values
    entry = project.list_entries.get(name="Wagner Group")
    assert entry.aliases == ["Wagner", "PMC Wagner"]
    response = manager_client.post(
        codebook_url(project, "codebook-list-entry-remove", entry.pk), headers=HTMX
    )
    assert response.status_code == 200
    canonical = get_codebook(fresh(project)).label_by_name("ACTOR").attribute("canonical")
    assert "Wagner Group" not in canonical.list_values


def test_manager_starts_a_new_list_and_errors_show_in_that_form(manager_client, project):
    response = manager_client.post(
        codebook_url(project, "codebook-list-entry-add"),
        {"new_list": "1", "list_name": "places", "name": ""},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "name is required" in body(response)
    assert '<a href="#entry-new-form">Go to the form</a>' in body(response)
    response = manager_client.post(
        codebook_url(project, "codebook-list-entry-add"),
        {"new_list": "1", "list_name": "places", "name": "Deir ez-Zor"},
    )
    assert response.status_code == 302
    assert project.list_entries.filter(list_name="places", name="Deir ez-Zor").exists()


# --- Who may edit -------------------------------------------------------------------------


def editing_routes(project):
    actor = label_id(project, "ACTOR")
    actor_type = attribute_id(project, "ACTOR", "actor_type")
    claimed_by = project.relation_types.get(name="claimed_by").pk
    entry = project.list_entries.first().pk
    return [
        codebook_url(project, "codebook-label-create"),
        codebook_url(project, "codebook-label-update", actor),
        codebook_url(project, "codebook-label-delete", actor),
        codebook_url(project, "codebook-attribute-create", actor),
        codebook_url(project, "codebook-attribute-update", actor_type),
        codebook_url(project, "codebook-attribute-delete", actor_type),
        codebook_url(project, "codebook-relation-type-create"),
        codebook_url(project, "codebook-relation-type-update", claimed_by),
        codebook_url(project, "codebook-relation-type-delete", claimed_by),
        codebook_url(project, "codebook-list-entry-add"),
        codebook_url(project, "codebook-list-entry-remove", entry),
    ]


@pytest.mark.parametrize("persona", ["coder", "adjudicator", "outsider"])
def test_only_managers_may_post_edits(client, request, project, persona):
    client.force_login(request.getfixturevalue(persona))
    data = {"name": "X", "colour": "#000000", "enabled": "0", "kind": "text", "list_name": "actors"}
    for url in editing_routes(project):
        assert client.post(url, data).status_code == 404, url
        assert client.post(url, data, headers=HTMX).status_code == 404, url
    assert fresh(project).codebook_version == 1


def test_a_manager_of_another_project_gets_404(client, project):
    other_manager = make_user("other_manager")
    make_project(other_manager, name="Their project")
    client.force_login(other_manager)
    for url in editing_routes(project):
        assert client.post(url, {"name": "X"}).status_code == 404, url


def test_objects_of_another_project_are_404_even_for_a_manager(manager_client, project, outsider):
    other = Project.objects.get(name="Other team")
    other_label = other.labels.get(name="ACTOR").pk
    url = reverse("codebook-label-update", args=[project.pk, other_label])
    assert manager_client.post(url, {"name": "MINE"}).status_code == 404
    assert other.labels.filter(name="ACTOR").exists()


def test_editing_routes_take_posts_only(manager_client, project):
    assert manager_client.get(codebook_url(project, "codebook-label-create")).status_code == 405


def test_anonymous_htmx_edit_is_sent_to_login(client, project):
    response = client.post(
        codebook_url(project, "codebook-label-create"), {"name": "X"}, headers=HTMX
    )
    assert response.status_code == 204 and "/accounts/login/" in response["HX-Redirect"]


@pytest.mark.parametrize(
    ("route", "missing"),
    [
        ("codebook-label-create", "name"),
        ("codebook-relation-type-create", "name"),
        ("codebook-list-entry-add", "list name"),
    ],
)
def test_a_create_posted_without_its_fields_is_refused_naming_them(
    manager_client, project, route, missing
):
    response = manager_client.post(codebook_url(project, route), {}, headers=HTMX)

    assert response.status_code == 422
    assert f"{missing} is required" in body(response)


def test_an_attribute_posted_without_its_fields_is_refused_naming_them(manager_client, project):
    url = codebook_url(project, "codebook-attribute-create", label_id(project, "CASUALTY"))

    response = manager_client.post(url, {}, headers=HTMX)

    assert response.status_code == 422
    assert "name is required" in body(response)
