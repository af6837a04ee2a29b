"""`manage.py demo`: the project a newcomer sees on first start.

A demo run writes a few hundred rows through the services, so the tests that only read its
result share one run (the class below, rolled back after its last test); the tests that run
the command themselves come after it, each in its own transaction.
"""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction

from annotator.models import Annotation, AuditEvent, Document, Membership, Project, Relation
from annotator.services import span_delete

FIXTURES = Path(__file__).resolve().parent.parent / "annotator" / "fixtures" / "demo"
GOLD = json.loads((FIXTURES / "seed-gold.json").read_text(encoding="utf-8"))
SEED = json.loads((FIXTURES / "seed-article.json").read_text(encoding="utf-8"))
INVENTED = json.loads((FIXTURES / "invented-articles.json").read_text(encoding="utf-8"))
PROJECT_NAME = "Syria casualty claims (demo)"
PASSWORD_ENV = "ANNOTATOR_DEMO_PASSWORD"


def demo_command(*args: str) -> str:
    out = StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="class")
def _shared_demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as env:
        env.delenv(PASSWORD_ENV, raising=False)
        with transaction.atomic():
            yield demo_command()
            transaction.set_rollback(True)


@pytest.fixture
def demo(_shared_demo, db) -> str:
    """The output of the one demo run that read-only tests share."""
    return _shared_demo


@pytest.fixture
def run_demo(db, monkeypatch):
    """Runs the demo command in this test's own transaction."""
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    return demo_command


def user(username):
    return get_user_model().objects.get(username=username)


def seed_document():
    return Document.objects.get(project__name=PROJECT_NAME, external_id=SEED["external_id"])


def spans_of(username) -> dict:
    """(label, start, end, quote) -> attributes of the user's live spans on the seed article."""
    spans = Annotation.objects.alive().for_document(seed_document()).by_coder(user(username))
    return {(s.label.name, s.start, s.end, s.text): s.attributes for s in spans}


def links_of(username) -> set:
    relations = (
        Relation.objects.alive()
        .for_document(seed_document())
        .by_coder(user(username))
        .select_related("type", "source", "target")
    )
    return {
        (r.type.name, (r.source.start, r.source.text), (r.target.start, r.target.text))
        for r in relations
    }


def gold_spans() -> dict:
    # Unset values (None, "") are not stored: "not coded" has one representation.
    return {
        (s["label"], s["start"], s["end"], s["text"]): {
            k: v for k, v in s["attributes"].items() if v not in (None, "")
        }
        for s in GOLD["spans"]
    }


def gold_links() -> set:
    by_id = {s["id"]: (s["start"], s["text"]) for s in GOLD["spans"]}
    return {(r["type"], by_id[r["from"]], by_id[r["to"]]) for r in GOLD["relations"]}


def snapshot() -> dict:
    User = get_user_model()
    return {
        "users": sorted(User.objects.values_list("username", "password")),
        "projects": list(Project.objects.values_list("pk", "name")),
        "memberships": sorted(Membership.objects.values_list("project_id", "user_id", "role")),
        "documents": list(Document.objects.values_list("pk", "external_id", "content_hash")),
        "spans": list(Annotation.objects.values_list("pk", "version", "updated", "deleted_at")),
        "links": list(Relation.objects.values_list("pk", "deleted_at")),
        "audit": AuditEvent.objects.count(),
    }


class TestTheDemoProject:
    """What one run of `manage.py demo` leaves behind."""

    def test_demo_creates_the_accounts_with_their_roles(self, demo):
        project = Project.objects.get(name=PROJECT_NAME)
        roles = set(project.memberships.values_list("user__username", "role"))
        assert roles == {
            ("manager", "manager"),
            ("coder1", "coder"),
            ("coder2", "coder"),
            ("coder3", "coder"),
            ("adjudicator", "adjudicator"),
        }

    def test_demo_project_has_the_default_codebook(self, demo):
        project = Project.objects.get(name=PROJECT_NAME)
        enabled = set(project.labels.filter(enabled=True).values_list("name", flat=True))
        assert enabled == {"ACTOR", "LOCATION", "DATE", "SOURCE", "CASUALTY"}
        assert project.relation_types.filter(name="subset_of").exists()

    def test_seed_article_is_first_with_its_metadata(self, demo):
        document = Project.objects.get(name=PROJECT_NAME).documents.first()
        assert document.text == SEED["text"]
        assert (document.title, document.outlet, document.language, document.external_id) == (
            SEED["title"],
            SEED["outlet"],
            SEED["language"],
            SEED["external_id"],
        )
        assert document.published.isoformat() == SEED["published"]

    def test_coder1_has_exactly_the_gold_spans_and_links(self, demo):
        spans = spans_of("coder1")
        assert len(spans) == 57
        assert spans == gold_spans()
        links = links_of("coder1")
        assert len(links) == 16
        assert links == gold_links()

    def test_coder2_differs_from_the_gold_in_the_intended_ways(self, demo):
        gold, coder2 = spans_of("coder1"), spans_of("coder2")
        assert set(gold) - set(coder2) == {
            ("CASUALTY", 218, 242, "16 ISIS field commanders"),  # boundary
            ("SOURCE", 1659, 1665, "Moscow"),  # label
            ("DATE", 1341, 1349, "Saturday"),  # missed
        }
        assert set(coder2) - set(gold) == {
            ("CASUALTY", 221, 242, "ISIS field commanders"),
            ("ACTOR", 1659, 1665, "Moscow"),
        }
        differing = {key for key in set(gold) & set(coder2) if gold[key] != coder2[key]}
        assert differing == {
            ("CASUALTY", 248, 298, "over 400 citizens from the former Soviet Republics")
        }
        (c3,) = differing
        assert (gold[c3]["victim_status"], coder2[c3]["victim_status"]) == ("combatant", "unknown")

    def test_coder2_missed_the_subset_link_of_the_16_commanders(self, demo):
        gold, coder2 = links_of("coder1"), links_of("coder2")
        commanders, statement = (218, "16 ISIS field commanders"), (195, "statement")
        assert gold - coder2 == {
            ("subset_of", commanders, (79, "2,359 ISIS terrorists")),
            ("claimed_by", commanders, statement),
        }
        # The claim link itself is there, from coder2's narrower span.
        assert coder2 - gold == {("claimed_by", (221, "ISIS field commanders"), statement)}

    def test_coder3_has_coded_nothing(self, demo):
        coder3 = user("coder3")
        assert not Annotation.objects.filter(coder=coder3).exists()
        assert not Relation.objects.filter(coder=coder3).exists()

    def test_invented_articles_are_marked_and_uncoded(self, demo):
        invented = Document.objects.filter(
            project__name=PROJECT_NAME, external_id__startswith="invented-"
        )
        assert invented.count() == 3
        for document in invented:
            assert document.title.startswith("[Invented example]")
            assert document.metadata["invented"] is True
            assert not document.annotations.exists()
        texts = {document.language: document.text for document in invented}
        english = " ".join(document.text for document in invented if document.language == "en")
        for phrase in ("at least 12 civilians", "dozens of fighters", "Between 5 and 10 soldiers"):
            assert phrase in english
        assert "no one was killed" in english
        arabic = texts["ar"]
        # The emoji comes before the first phrase a coder would tag, so UTF-16 offsets (the
        # browser's) and code-point offsets (ours) differ there.
        assert arabic.index("🚨") < arabic.index("١٦ مدنياً")
        assert len("🚨".encode("utf-16-le")) // 2 == 2

    def test_generated_password_is_printed_and_works(self, demo):
        line = next(line for line in demo.splitlines() if line.strip().startswith("coder1"))
        password = line.split("password:")[1].strip()
        assert len(password) >= 16
        assert user("coder1").check_password(password)


def test_running_demo_twice_changes_nothing(run_demo):
    assert "created" in run_demo()
    before = snapshot()
    out = run_demo()
    assert snapshot() == before  # passwords included
    assert "already there" in out
    assert "(unchanged)" in out


def test_rerun_keeps_a_coders_own_changes(run_demo):
    run_demo()
    coder1 = user("coder1")
    span = Annotation.objects.by_coder(coder1).get(text="Latakia")
    span_delete(annotation=span, coder=coder1, version=span.version)
    run_demo()
    assert Annotation.objects.alive().by_coder(coder1).count() == 56


def test_demo_password_from_the_environment_is_honoured(run_demo, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "correct-horse-battery")
    out = run_demo()
    for username in ("manager", "coder1", "coder2", "coder3", "adjudicator"):
        assert user(username).check_password("correct-horse-battery")
    assert "correct-horse-battery" in out


def test_demo_password_from_the_environment_replaces_an_old_one(run_demo, monkeypatch):
    run_demo()
    monkeypatch.setenv(PASSWORD_ENV, "a-new-demo-password")
    run_demo()
    assert user("coder2").check_password("a-new-demo-password")


def test_reset_recreates_the_demo_project(run_demo):
    run_demo()
    old = Project.objects.get(name=PROJECT_NAME)
    coder1 = user("coder1")
    span = Annotation.objects.by_coder(coder1).get(text="Latakia")
    span_delete(annotation=span, coder=coder1, version=span.version)
    run_demo("--reset")
    project = Project.objects.get(name=PROJECT_NAME)
    assert project.pk != old.pk
    assert project.documents.count() == 4
    assert len(spans_of("coder1")) == 57
    assert get_user_model().objects.filter(username="coder1").count() == 1
