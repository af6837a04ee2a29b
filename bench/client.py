"""The bench's HTTP client: http.client, no Django, so it runs in plain worker processes.

Every timing is taken around one whole request as a browser or script sees it: connect (when
the server closed the previous connection), send, and read the full response.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import time
import uuid
from http.cookies import SimpleCookie
from urllib.parse import urlencode

_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class RequestFailed(RuntimeError):
    pass


class Client:
    """One user's connection: cookies, an optional API token, keep-alive when the server
    allows it (gunicorn's sync workers do not: they close after every response)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}
        self.token: str | None = None
        self._conn: http.client.HTTPConnection | None = None
        self.connections = 0  # TCP connections opened, to report whether keep-alive held
        self.requests = 0

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, bytes, float]:
        """(status, body, seconds) of one request."""
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        began = time.perf_counter()
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            self.connections += 1
        self._conn.request(method, path, body=body, headers=headers)
        response = self._conn.getresponse()
        content = response.read()
        elapsed = time.perf_counter() - began
        self.requests += 1
        for header in response.headers.get_all("Set-Cookie") or ():
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        if response.will_close:
            self.close()
        return response.status, content, elapsed

    def expect(self, status: int, method: str, path: str, **kwargs) -> tuple[bytes, float]:
        code, content, elapsed = self.request(method, path, **kwargs)
        if code != status:
            raise RequestFailed(f"{method} {path}: {code}, expected {status}: {content[:500]!r}")
        return content, elapsed

    # -- Logging in ------------------------------------------------------------------------

    def token_login(self, username: str, password: str) -> None:
        body = json.dumps({"username": username, "password": password}).encode()
        content, _ = self.expect(
            200, "POST", "/api/v1/auth/token/", body=body, headers=JSON_HEADERS
        )
        self.token = json.loads(content)["token"]

    def session_login(self, username: str, password: str) -> None:
        page, _ = self.expect(200, "GET", "/accounts/login/")
        match = _CSRF_INPUT.search(page.decode())
        if match is None:
            raise RequestFailed("no csrfmiddlewaretoken on the login page")
        form = {"username": username, "password": password, "csrfmiddlewaretoken": match[1]}
        self.expect(302, "POST", "/accounts/login/", body=urlencode(form).encode(), headers=FORM)
        if "sessionid" not in self.cookies:
            raise RequestFailed("logging in set no session cookie")

    # -- The measured requests -------------------------------------------------------------

    def api_create(self, create) -> float:
        document_id, label, start, end, text = create
        payload = {
            "label": label,
            "start": start,
            "end": end,
            "text": text,
            "attributes": {},
            "client_id": uuid.uuid4().hex,
        }
        path = f"/api/v1/documents/{document_id}/annotations/"
        _, elapsed = self.expect(
            201, "POST", path, body=json.dumps(payload).encode(), headers=JSON_HEADERS
        )
        return elapsed

    def htmx_create(self, create) -> float:
        document_id, label, start, end, text = create
        form = {
            "label": label,
            "start": start,
            "end": end,
            "text": text,
            "client_id": uuid.uuid4().hex,
        }
        headers = {**FORM, "HX-Request": "true", "X-CSRFToken": self.cookies["csrftoken"]}
        path = f"/documents/{document_id}/spans/"
        _, elapsed = self.expect(201, "POST", path, body=urlencode(form).encode(), headers=headers)
        return elapsed

    def get(self, path: str) -> float:
        return self.expect(200, "GET", path)[1]


JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def htmx_client(host: str, port: int, username: str, password: str, document_id: int) -> Client:
    """A logged-in browser on the coding screen: session cookie, and the CSRF token from
    the page's csrftoken cookie as coding.js sends it."""
    client = Client(host, port)
    client.session_login(username, password)
    client.get(f"/documents/{document_id}/")
    if "csrftoken" not in client.cookies:
        raise RequestFailed("the coding screen set no csrftoken cookie")
    return client


def api_client(host: str, port: int, username: str, password: str) -> Client:
    client = Client(host, port)
    client.token_login(username, password)
    return client


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def concurrent_worker(host, port, username, password, creates, barrier, results) -> None:
    """One of the concurrent clients (run in its own process): log in, wait for the
    others, create every span in `creates`, report the timings."""
    try:
        client = api_client(host, port, username, password)
        barrier.wait(timeout=300)
        cpu_before, began = _cpu_seconds(), time.monotonic()
        timings = [client.api_create(create) for create in creates]
        ended = time.monotonic()
        results.put(
            {
                "timings": timings,
                "began": began,
                "ended": ended,
                "cpu": _cpu_seconds() - cpu_before,
                "connections": client.connections,
                "requests": client.requests,
            }
        )
    except BaseException as error:  # the parent must hear of it, or it waits forever
        barrier.abort()
        results.put({"error": f"{username}: {type(error).__name__}: {error}"})


def queue_worker(host, port, username, password, project_id, rounds, barrier, results) -> None:
    """One coder of the queue bench (in its own process): log in, wait for the others, then
    `rounds` times take the next document through the API and submit it. Reports the timings
    of the two requests apart. One round before the start warms the server's workers up."""

    def take_and_submit() -> tuple[float, float]:
        path = f"/api/v1/projects/{project_id}/assignments/next/"
        content, took = client.expect(201, "POST", path, headers=JSON_HEADERS)
        path = f"/api/v1/assignments/{json.loads(content)['id']}/submit/"
        return took, client.expect(200, "POST", path, headers=JSON_HEADERS)[1]

    try:
        client = api_client(host, port, username, password)
        take_and_submit()
        barrier.wait(timeout=300)
        cpu_before, began = _cpu_seconds(), time.monotonic()
        timings = [take_and_submit() for _ in range(rounds)]
        takes, submits = [t for t, _ in timings], [s for _, s in timings]
        ended = time.monotonic()
        results.put(
            {
                "takes": takes,
                "submits": submits,
                "began": began,
                "ended": ended,
                "cpu": _cpu_seconds() - cpu_before,
            }
        )
    except BaseException as error:  # the parent must hear of it, or it waits forever
        barrier.abort()
        results.put({"error": f"{username}: {type(error).__name__}: {error}"})
