"""Tokens: POST /api/v1/auth/token/, with django-axes counting failures."""

from rest_framework.authtoken.models import Token

TOKEN_URL = "/api/v1/auth/token/"


def test_valid_credentials_get_a_token(api_as, coder):
    response = api_as().post(TOKEN_URL, {"username": "coder", "password": "pw-for-tests"})

    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=coder).key}


def test_the_token_authenticates_later_requests(api_as, coder, project):
    token = api_as().post(TOKEN_URL, {"username": "coder", "password": "pw-for-tests"}).json()
    client = api_as()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token['token']}")

    response = client.get("/api/v1/projects/")

    assert response.status_code == 200
    assert [p["id"] for p in response.json()["results"]] == [project.pk]


def test_a_wrong_password_is_refused_with_400_and_no_token(api_as, coder):
    response = api_as().post(TOKEN_URL, {"username": "coder", "password": "wrong"})

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}
    assert not Token.objects.exists()


def test_a_missing_password_is_refused_naming_the_field(api_as, coder):
    response = api_as().post(TOKEN_URL, {"username": "coder"})

    assert response.status_code == 400
    assert response.json() == {"password": ["This field is required."]}


def test_requests_without_credentials_get_401(api_as, project):
    response = api_as().get("/api/v1/projects/")

    assert response.status_code == 401


def test_a_bad_token_gets_401(api_as, project):
    client = api_as()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert client.get("/api/v1/projects/").status_code == 401


def test_the_failure_that_reaches_the_limit_is_answered_429_with_a_message(api_as, coder, settings):
    client = api_as()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(TOKEN_URL, {"username": "coder", "password": "no"}).status_code == 400

    response = client.post(TOKEN_URL, {"username": "coder", "password": "no"})

    assert response.status_code == 429
    assert "locked" in response.json()["detail"].lower()


def test_a_locked_out_user_gets_429_even_with_the_right_password(api_as, coder, settings):
    client = api_as()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(TOKEN_URL, {"username": "coder", "password": "no"})

    response = client.post(TOKEN_URL, {"username": "coder", "password": "pw-for-tests"})

    assert response.status_code == 429
    assert "Account locked: too many login attempts" in response.json()["detail"]
    assert int(response["Retry-After"]) == 15 * 60
    assert not Token.objects.exists()
