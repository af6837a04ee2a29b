"""API clients for the personas in tests/conftest.py."""

import pytest
from rest_framework.test import APIClient


class JSONClient(APIClient):
    """Sends JSON bodies unless told otherwise, as every real client of this API does."""

    default_format = "json"


@pytest.fixture
def api_as():
    """api_as(user): an API client authenticated as that persona; api_as(): anonymous."""

    def client_for(user=None) -> JSONClient:
        client = JSONClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for
