"""Personas: the people our tests are about.

manager manages the project; coder and other_coder code it blind; adjudicator sees everyone's
work; outsider belongs to another project only. All tests run on the database in DATABASE_URL
(PostgreSQL in CI) or SQLite.
"""

import pytest
from django.core.cache import cache

from annotator.codebook import _load_codebook
from annotator.models import Role
from tests.factories import add_member, make_document, make_project, make_user


@pytest.fixture(autouse=True)
def _fresh_codebook_cache():
    """SQLite reuses the ids of rolled-back test rows, so a codebook cached under
    (project id, version) by one test could be served to another test's project."""
    _load_codebook.cache_clear()
    cache.clear()  # suggestions are cached per document id, which SQLite reuses too
    yield
    _load_codebook.cache_clear()
    cache.clear()


@pytest.fixture
def manager(db):
    return make_user("manager")


@pytest.fixture
def project(manager):
    return make_project(manager, name="Syria claims")


@pytest.fixture
def coder(project):
    user = make_user("coder")
    add_member(project, user, Role.CODER)
    return user


@pytest.fixture
def other_coder(project):
    user = make_user("other_coder")
    add_member(project, user, Role.CODER)
    return user


@pytest.fixture
def adjudicator(project):
    user = make_user("adjudicator")
    add_member(project, user, Role.ADJUDICATOR)
    return user


@pytest.fixture
def outsider(db):
    user = make_user("outsider")
    other_project = make_project(make_user("other_manager"), name="Other team")
    add_member(other_project, user, Role.CODER)
    return user


@pytest.fixture
def document(project):
    return make_document(project, title="Russian air strikes", outlet="Alwaght")


@pytest.fixture
def coder_client(client, coder):
    client.force_login(coder)
    return client
