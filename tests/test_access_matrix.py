"""Every URL route, every persona: who gets in and who is refused.

The test walks the URL resolver (HTML and API routes alike) and looks each route up in RULES.
A route without a rule fails with its name: adding a route means deciding who may use it. A
rule says, per HTTP method, which personas get in; everyone else must be refused, and a
refused write must change nothing in the database.

Personas (one world, built by `world` below; every object belongs to the project):
  coder        coder A: owns the span, link and assignment the routes are given
  other_coder  another coder of the project (on another document, never on coder A's)
  adjudicator  adjudicates the project
  manager      manages the project
  outsider     a coder of another project
  anonymous    not logged in
  staff        site staff (user.is_staff) who belongs to no project

Outcomes:
  OK       a GET answered 2xx
  Redirect a GET answered 3xx to the named route
  IN       a write got past the access layer: any answer but 401/403/404/405 or a redirect
           to the login page. The body is empty, so it may well be refused as invalid (400,
           409, 422) or succeed; each write runs in a savepoint rolled back afterwards.
  NO       refused: 403 or 404 (anonymous: a redirect to log in on HTML routes, 401 or 403 on
           the API), and the database unchanged
  LATE_NO  refused by the service rather than the access layer (409 or 422, with its
           message), database unchanged: a coder writing to a document that is not theirs
           is told why (access.coding_assignment explains), rather than getting a 404.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from annotator.codebook import _load_codebook
from annotator.models import Project, Relation, Role
from annotator.models.gold import GoldRelation
from annotator.models.projects import AssignmentMode
from annotator.services import assignment_submit, relation_create, span_create
from annotator.services.gold import gold_accept
from tests.factories import add_member, assign, make_document, make_project, make_user, quote_span

pytestmark = pytest.mark.django_db

ROLES = ("coder", "other_coder", "adjudicator", "manager", "outsider", "anonymous", "staff")
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
EVERYONE = frozenset(ROLES)
MEMBERS = frozenset({"coder", "other_coder", "adjudicator", "manager"})
CODERS = frozenset({"coder", "other_coder"})
OWNER = frozenset({"coder"})
SEE_ALL = frozenset({"adjudicator", "manager"})
MANAGER = frozenset({"manager"})
STAFF = frozenset({"staff"})
NOBODY: frozenset[str] = frozenset()

OK, IN, NO, LATE_NO = "OK", "IN", "NO", "LATE_NO"


@dataclass(frozen=True)
class Redirect:
    to: str  # a route name

    def __str__(self) -> str:
        return f"redirect to {self.to}"


def allow(roles, outcome=OK, **special) -> dict[str, object]:
    """Outcome per persona: `outcome` for `roles`, NO for the rest, `special` overrides."""
    return {role: special.get(role, outcome if role in roles else NO) for role in ROLES}


def get(roles, **special):
    return {"get": allow(roles, OK, **special)}


def post(roles, **special):
    return {"post": allow(roles, IN, **special)}


def get_post(get_roles, post_roles=None, **special):
    return {**get(get_roles), **post(get_roles if post_roles is None else post_roles, **special)}


# A coder writing on coder A's document, to which they are not assigned (manual mode).
NOT_THEIRS = {"other_coder": LATE_NO}

RULES: dict[str, dict[str, dict[str, object]]] = {
    # --- site ---
    "home": get(SIGNED_IN),
    "healthz": get(EVERYONE),
    # Django's LoginView takes PUT as it takes POST.
    "login": {**get(EVERYONE), **post(EVERYONE), "put": allow(EVERYONE, IN)},
    "logout": {"post": allow(EVERYONE, Redirect("login"))},
    "project-create": get_post(MANAGER | STAFF),
    "user-create": get_post(STAFF),
    # --- a project, for its members ---
    "project": get(MEMBERS),
    "codebook-css": get(MEMBERS),
    "codebook": get(MEMBERS),
    "guidelines": get(MEMBERS),
    "claims": get(MEMBERS),
    # coder A's own claim; adjudicators and managers see every coder's
    "claim-span": get(OWNER | SEE_ALL),
    "claim-gold": get(SEE_ALL),
    # --- coding: coders, through their assignment (manual mode) ---
    "next-document": post(CODERS),
    "assignment-submit": post(OWNER),
    "assignment-reopen": post(OWNER),
    "assignment-beat": post(OWNER),
    "coding": get(OWNER),
    "coding-checks": get(OWNER),
    "suggestion-reject": post(OWNER, **NOT_THEIRS),
    "span-create": post(OWNER, **NOT_THEIRS),
    "relation-create": post(OWNER, **NOT_THEIRS),
    "undo": post(OWNER, **NOT_THEIRS),
    "span-panel": {"get": allow(OWNER, Redirect("coding")), **post(OWNER)},
    "span-delete": post(OWNER),
    "relation-delete": post(OWNER),
    # --- managing: managers ---
    "guidelines-edit": get_post(MANAGER),
    "project-settings": get_post(MANAGER),
    "project-members": get_post(MANAGER),
    "project-member-remove": post(MANAGER),
    "project-assignments": get_post(MANAGER),
    "assignment-release": post(MANAGER),
    "assignment-reassign": post(MANAGER),
    "project-dashboard": get(MANAGER),
    "document-history": get(MANAGER),
    "coder-history": get(MANAGER),
    "lexicon": get_post(MANAGER),
    "lexicon-try": get(MANAGER),
    "lexicon-blocking-checks": post(MANAGER),
    "project-import": get_post(MANAGER),
    "project-import-confirm": post(MANAGER),
    "codebook-label-create": post(MANAGER),
    "codebook-label-update": post(MANAGER),
    "codebook-label-delete": post(MANAGER),
    "codebook-attribute-create": post(MANAGER),
    "codebook-attribute-update": post(MANAGER),
    "codebook-attribute-delete": post(MANAGER),
    "codebook-relation-type-create": post(MANAGER),
    "codebook-relation-type-update": post(MANAGER),
    "codebook-relation-type-delete": post(MANAGER),
    "codebook-list-entry-add": post(MANAGER),
    "codebook-list-entry-remove": post(MANAGER),
    # --- reports, exports, adjudication: managers and adjudicators ---
    "agreement": get(SEE_ALL),
    "agreement-export-csv": get(SEE_ALL),
    "agreement-export-json": get(SEE_ALL),
    "agreement-document": get(SEE_ALL),
    "project-export": get(SEE_ALL),
    "adjudication-queue": get(SEE_ALL),
    "adjudicate": get(SEE_ALL),
    # Fragments for htmx; a plain GET goes to the page they belong to.
    "adjudicate-draft": {"get": allow(SEE_ALL, Redirect("adjudicate"))},
    "adjudicate-accept": post(SEE_ALL),
    "adjudicate-reject": post(SEE_ALL),
    "adjudicate-add": post(SEE_ALL),
    "adjudicate-agreed": post(SEE_ALL),
    "adjudicate-majority": post(SEE_ALL),
    "adjudicate-link-accept": post(SEE_ALL),
    "adjudicate-link-add": post(SEE_ALL),
    "adjudicate-start": post(SEE_ALL),
    "adjudicate-complete": post(SEE_ALL),
    "adjudicate-reopen": post(SEE_ALL),
    "gold-edit": {"get": allow(SEE_ALL, Redirect("adjudicate")), **post(SEE_ALL)},
    "gold-delete": post(SEE_ALL),
    "gold-link-delete": post(SEE_ALL),
    # --- the API ---
    "api:token": post(EVERYONE),
    "api:projects": get(SIGNED_IN),
    "api:project": get(MEMBERS),
    "api:project-agreement": get(SEE_ALL),
    # Managers add documents; a coder lists what they may open (here: coder A's document).
    "api:project-documents": get_post(MEMBERS, MANAGER),
    "api:document": get(OWNER | SEE_ALL),
    "api:document-annotations": get_post(OWNER | SEE_ALL, OWNER, **NOT_THEIRS),
    "api:document-relations": get_post(OWNER | SEE_ALL, OWNER, **NOT_THEIRS),
    "api:annotation": {
        **get(OWNER | SEE_ALL),
        "patch": allow(OWNER, IN),
        "delete": allow(OWNER, IN),
    },
    "api:relation": {"delete": allow(OWNER, IN)},
    "api:project-assignments": get(MEMBERS),
    "api:assignment-next": post(CODERS),
    "api:assignment-submit": post(OWNER),
    "api:assignment-reopen": post(OWNER),
    # The coder gives back their own; managers any.
    "api:assignment-release": post(OWNER | MANAGER),
    "api:project-members": get_post(MANAGER),
    "api:project-member": {"delete": allow(MANAGER, IN)},
    "api:project-progress": get(MANAGER),
    "api:project-history": get(MANAGER),
    "api:project-imports": post(MANAGER),
    "api:project-export": get(SEE_ALL),
    "api:document-gold": get(SEE_ALL),
    "api:gold-accept": post(SEE_ALL),
    "api:gold-accept-agreed": post(SEE_ALL),
    "api:gold-accept-majority": post(SEE_ALL),
    "api:gold-add": post(SEE_ALL),
    "api:gold-reject": post(SEE_ALL),
    "api:gold-relation-add": post(SEE_ALL),
    "api:gold-relation-accept": post(SEE_ALL),
    "api:adjudication-start": post(SEE_ALL),
    "api:adjudication-complete": post(SEE_ALL),
    "api:adjudication-reopen": post(SEE_ALL),
    "api:gold-span-edit": post(SEE_ALL),
    "api:gold-span-delete": post(SEE_ALL),
    "api:gold-relation-delete": post(SEE_ALL),
    # The schema describes the API, not anyone's data: public, like the login page.
    "schema": get(EVERYONE),
    "api-docs": get(EVERYONE),
}

# Query strings a route needs to answer at all.
QUERIES = {"api:project-export": "?layer=all"}

# Routes given the adjudicated document (both coders submitted, gold started) instead of
# coder A's open one.
ON_GOLD_DOCUMENT = ("adjudicate", "gold-", "api:gold-", "api:document-gold", "api:adjudication-")
ON_GOLD_DOCUMENT_ALSO = {"agreement-document", "claim-gold"}


def _routes(patterns=None, prefix="", namespace=""):
    """(name, route pattern, URLPattern) of every route, recursively."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = (
                f"{namespace}{entry.name}" if entry.name else f"<unnamed {prefix}{entry.pattern}>"
            )
            yield name, prefix + str(entry.pattern), entry


ROUTES = list(_routes())


def _kwarg_names(pattern: str) -> list[str]:
    import re

    return re.findall(r"<(?:\w+:)?(\w+)>", pattern)


# --- the world ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module, in a transaction rolled back at its end; every request the
    tests make runs in a savepoint rolled back after it, so each sees this world as built."""
    with django_db_blocker.unblock(), transaction.atomic():
        _load_codebook.cache_clear()
        yield _build_world()
        transaction.set_rollback(True)
    _load_codebook.cache_clear()


def _build_world():
    """A manual-assignment project with two documents: coder A's, open and coded (span, link),
    and one both coders submitted and an adjudicator started to decide (gold span, gold link)."""
    manager = make_user("manager")
    project = make_project(manager, name="Matrix")
    Project.objects.filter(pk=project.pk).update(assignment_mode=AssignmentMode.MANUAL)
    people = {"manager": manager}
    for role, persona in ((Role.CODER, "coder"), (Role.CODER, "other_coder")):
        people[persona] = make_user(persona)
        add_member(project, people[persona], role)
    people["adjudicator"] = make_user("adjudicator")
    add_member(project, people["adjudicator"], Role.ADJUDICATOR)
    people["outsider"] = make_user("outsider")
    add_member(make_project(make_user("other_manager")), people["outsider"], Role.CODER)
    people["staff"] = make_user("staff", is_staff=True)
    coder, other = people["coder"], people["other_coder"]

    open_document = make_document(project, title="Coder A's")
    assignment = assign(open_document, coder, "in_progress")
    claim, source, link = _coded(open_document, coder)

    gold_document = make_document(project, title="Adjudicated")
    chosen = []
    for who in (coder, other):
        gold_assignment = assign(gold_document, who, "in_progress")
        gold_claim, gold_source, _ = _coded(gold_document, who)
        chosen = chosen or [gold_claim.pk, gold_source.pk]  # coder A's version goes to gold
        assignment_submit(assignment=gold_assignment, coder=who)
    gold = gold_accept(
        adjudicator=people["adjudicator"], document=gold_document, annotation_ids=chosen
    )
    gold_relation = GoldRelation.objects.get(document=gold_document)

    casualty = project.labels.get(name="CASUALTY")
    objects = {
        "project_id": project.pk,
        "document_id": open_document.pk,
        "assignment_id": assignment.pk,
        "span_id": claim.pk,
        "source_id": source.pk,
        "annotation_id": claim.pk,
        "relation_id": link.pk,
        "label_id": casualty.pk,
        "attribute_id": casualty.attributes.first().pk,
        "type_id": project.relation_types.first().pk,
        "entry_id": project.list_entries.first().pk,
        "user_id": coder.pk,
        "gold_span_id": gold[0].pk,
        "gold_relation_id": gold_relation.pk,
    }
    sessions = {}
    for persona, user in people.items():
        client = Client()
        client.force_login(user)
        sessions[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return {
        "people": people,
        "sessions": sessions,
        "objects": objects,
        "gold_document": gold_document.pk,
    }


def _coded(document, coder):
    claim, _ = span_create(
        document=document,
        coder=coder,
        label="CASUALTY",
        **quote_span(document, "2,359 ISIS terrorists"),
    )
    source, _ = span_create(
        document=document,
        coder=coder,
        label="SOURCE",
        **quote_span(document, "Russian ministry of defense"),
    )
    link, _ = relation_create(
        document=document, coder=coder, type="claimed_by", source_id=claim.pk, target_id=source.pk
    )
    return claim, source, link


def _url(name: str, pattern: str, world) -> str:
    objects = dict(world["objects"])
    if name.startswith(ON_GOLD_DOCUMENT) or name in ON_GOLD_DOCUMENT_ALSO:
        objects["document_id"] = world["gold_document"]
    kwargs = {key: objects[key] for key in _kwarg_names(pattern)}
    return reverse(name, kwargs=kwargs) + QUERIES.get(name, "")


def _body(name: str, world) -> dict | None:
    """A valid write for the routes where only a valid one reaches the check under test."""
    objects = world["objects"]
    if name in ("span-create", "api:document-annotations"):
        return {"label": "ACTOR", "start": 0, "end": 7, "text": "Russian"}
    if name in ("relation-create", "api:document-relations"):
        claim, source = objects["span_id"], objects["source_id"]
        return {"type": "claimed_by", "source": claim, "target": source}
    return None


def _fingerprint() -> list:
    """Every row of every model of the app, and the accounts: what a refused write must not
    change."""
    models = [*apps.get_app_config("annotator").get_models(), get_user_model()]
    return [list(model.objects.order_by("pk").values_list()) for model in models]


def _client(world, role: str) -> Client:
    """A fresh client (a logout must not outlive its request) with the persona's session."""
    client = Client()
    if role != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world["sessions"][role]
    return client


def _request(client: Client, method: str, url: str, is_api: bool, body: dict | None = None):
    if method == "get":
        return client.get(url)
    if is_api:
        return getattr(client, method)(url, data=body or {}, content_type="application/json")
    return getattr(client, method)(url, data=body or {})


def _to_login(response) -> bool:
    return response.status_code in (301, 302) and response["Location"].startswith(reverse("login"))


def _verdict(response, expected, *, role: str, is_api: bool, changed: bool) -> str | None:
    """None when the response matches the expectation, else what went wrong."""
    status = response.status_code
    if expected == OK:
        return None if 200 <= status < 300 else f"expected 2xx, got {status}"
    if isinstance(expected, Redirect):
        if (
            status in (301, 302)
            and resolve(response["Location"].split("?")[0]).view_name == expected.to
        ):
            return None
        return f"expected {expected}, got {status} {response.get('Location', '')}"
    if expected == IN:
        refused = status in (401, 403, 404, 405) or _to_login(response)
        return f"expected to get past the access layer, got {status}" if refused else None
    if changed:
        return f"refused with {status} but the database changed"
    if expected == LATE_NO:
        return None if status in (409, 422) else f"expected 409/422 from the service, got {status}"
    if role == "anonymous":
        ok = status in (401, 403) if is_api else _to_login(response)
        return (
            None if ok else f"anonymous: expected {'401/403' if is_api else 'login'}, got {status}"
        )
    return None if status in (403, 404) else f"expected 403/404, got {status}"


@pytest.mark.parametrize(("name", "pattern", "entry"), ROUTES, ids=[r[0] for r in ROUTES])
def test_every_route_lets_in_exactly_whom_its_rule_says(world, name, pattern, entry):
    rule = RULES.get(name)
    if rule is None:
        pytest.fail(
            f"route {name!r} (/{pattern}) has no access rule: add it to RULES in {__name__} "
            "with the personas allowed for each method"
        )
    url = _url(name, pattern, world)
    is_api = name.startswith("api:") or pattern.startswith("api/")
    body = _body(name, world)
    problems = []
    for method, expected_by_role in rule.items():
        for role in ROLES:
            expected = expected_by_role[role]
            client = _client(world, role)
            with transaction.atomic():
                before = _fingerprint() if method != "get" else None
                response = _request(client, method, url, is_api, body)
                changed = method != "get" and _fingerprint() != before
                transaction.set_rollback(True)
            problem = _verdict(response, expected, role=role, is_api=is_api, changed=changed)
            if problem:
                problems.append(f"{method.upper()} {url} as {role}: {problem}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("name", "pattern", "entry"), ROUTES, ids=[r[0] for r in ROUTES])
def test_methods_without_a_rule_are_not_allowed(world, name, pattern, entry):
    """The table covers every method a route answers: the others get 405 (for a manager, who
    holds the most roles; access checks come after the method check)."""
    rule = RULES.get(name)
    if rule is None:
        pytest.skip("no rule: the other test names the route")
    url = _url(name, pattern, world)
    is_api = name.startswith("api:") or pattern.startswith("api/")
    client = _client(world, "manager")
    answered = []
    for method in ("get", "post", "put", "patch", "delete"):
        if method in rule:
            continue
        with transaction.atomic():
            response = _request(client, method, url, is_api, _body(name, world))
            transaction.set_rollback(True)
        if response.status_code != 405:
            answered.append(f"{method.upper()} answered {response.status_code}")
    assert not answered, f"{name} (/{pattern}): {', '.join(answered)}; give it a rule"


def test_every_rule_names_a_route():
    names = {name for name, _, _ in ROUTES}

    assert set(RULES) - names == set()


def test_a_route_without_a_rule_fails_naming_it(world, monkeypatch):
    monkeypatch.delitem(RULES, "guidelines")
    name, pattern, entry = next(route for route in ROUTES if route[0] == "guidelines")

    with pytest.raises(pytest.fail.Exception, match="route 'guidelines'.*has no access rule"):
        test_every_route_lets_in_exactly_whom_its_rule_says(world, name, pattern, entry)


def test_the_world_has_coder_as_owner_of_the_objects(world):
    people, objects = world["people"], world["objects"]

    assert Relation.objects.get(pk=objects["relation_id"]).coder == people["coder"]
