"""Real-browser fixtures: one Chromium per session, a fresh context per test, and a screenshot
in test-artifacts/ when a test fails.

Debian's Chromium drives the tests (`playwright install` is never run); without it the tests
are skipped with the reason. The live server needs committed data, hence
`django_db(transaction=True)` on every browser test.
"""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread, and Django's ORM refuses to run in a
# thread with a running loop. The tests call the ORM between browser steps, never concurrently.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Generous, because a shared CI machine can stall a page load for many seconds; only a failing
# test waits this long.
TIMEOUT_MS = 20_000
NAVIGATION_TIMEOUT_MS = 30_000


def pytest_collection_modifyitems(items):
    if Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing (apt-get install chromium)")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


# Set when any phase of a test fails; the context fixture reads it to take screenshots.
_failed_key = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        item.stash[_failed_key] = True
    return report


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser, live_server, request):
    """Make browser contexts (separate cookie jars: one per person or per tab of a person);
    all are closed after the test, with screenshots of their pages if it failed."""
    contexts = []

    def make():
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    failed = request.node.stash.get(_failed_key, False)
    for c_index, context in enumerate(contexts):
        if failed:
            ARTIFACTS.mkdir(exist_ok=True)
            for p_index, page in enumerate(context.pages):
                name = f"{request.node.name}-{c_index}-{p_index}.png"
                try:
                    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
                except Exception as error:  # a crashed page must not hide the test's failure
                    print(f"no screenshot {name}: {error}")
        context.close()


@pytest.fixture
def login(new_context):
    """Log a user in through the real login form; returns a page of a fresh context."""

    def log_in(user):
        page = new_context().new_page()
        page.goto("/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", "pw-for-tests")
        page.click("button[type=submit]")
        page.locator("span.who", has_text=user.username).wait_for()
        return page

    return log_in
