"""The manager's dashboard of a large team: 100 coders, 100,000 assignments (target: the page
under 300 ms at p95).

`run()` creates a PostgreSQL database of its own, builds the project in it with bulk_create
(the figure is about the dashboard's reads, not the services' writes), renders
/projects/<id>/dashboard/ (and its htmx refreshes, and the progress API) through Django's test
Client 20 times each, prints p50/p95 with the CPU each request cost (app and database, since
latency on a busy shared machine measures the neighbours too) and drops the database. Its URL comes from BENCH_TEAM_DATABASE_URL (default below): never DATABASE_URL, so a
development database is never the one dropped, and the name must contain "bench".

Django runs in a child process of its own: settings are read once per process, and `run()` may
be called from a process (bench/__main__.py) that has already set Django up for another
database.

    .venv/bin/python -m bench.team_dashboard [--smoke]
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass

from bench import database
from bench.cpu import CpuMeter, python_speed
from bench.report import percentile

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/annotator_bench_team"
URL_ENV = "BENCH_TEAM_DATABASE_URL"
TARGET_MS = 300
ARTICLE = (
    "Russian air strikes in Syria between September 19-29 resulted in the deaths of "
    "2,359 ISIS terrorists all over the war-torn country, the Russian ministry of defense "
    "has announced."
)
# Spans each submitted assignment carries: (label, phrase); offsets come from ARTICLE.
SPANS = (("ACTOR", "Russian air strikes"), ("LOCATION", "Syria"), ("SOURCE", "ministry of defense"))


@dataclass(frozen=True)
class Sizes:
    coders: int = 100
    assignments: int = 100_000
    k: int = 2
    runs: int = 20
    warmup: int = 3

    @classmethod
    def smoke(cls) -> Sizes:
        return cls(coders=4, assignments=40, runs=2, warmup=1)


def log(message: str) -> None:
    print(f"[team dashboard {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def database_url() -> str:
    url = os.environ.get(URL_ENV) or DEFAULT_URL
    name = database.database_name(url)
    if "bench" not in name:
        raise SystemExit(
            f"{URL_ENV} names {name!r}: it is dropped afterwards, so it must contain 'bench'"
        )
    return url


def run(sizes: Sizes | None = None) -> dict:
    """Build, measure, print, clean up. Returns the figures (milliseconds) for a caller's
    report: {"facts": {...}, "figures": {name: {"p50": ..., "p95": ..., "n": ...}}}."""
    sizes = sizes or Sizes()
    url = database_url()
    log(f"creating database {database.database_name(url)}")
    database.recreate(url)
    try:
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
            result = pool.submit(_measure_in_child, url, asdict(sizes)).result()
    finally:
        database.drop(url)
        log("database dropped")
    _print(result, sizes)
    return result


# -- In the child process --------------------------------------------------------------------


def _measure_in_child(url: str, sizes: dict) -> dict:
    sizes = Sizes(**sizes)
    workdir = tempfile.mkdtemp(prefix="annotator-bench-team-")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "annotator.settings",
            "DATABASE_URL": url,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DEBUG": "0",
            "ANNOTATOR_HTTPS": "0",
            "ANNOTATOR_PLAIN_STATIC": "1",
            "ANNOTATOR_DATA_DIR": workdir,
            "ALLOWED_HOSTS": "testserver",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    try:
        log("migrating")
        call_command("migrate", verbosity=0)
        began = time.monotonic()
        facts = _build(sizes)
        with connection.cursor() as cursor:
            # As autovacuum would have by now: statistics, and the visibility map that
            # index-only scans need.
            cursor.execute("VACUUM ANALYZE")
            cursor.execute("SHOW server_version")
            facts["postgresql"] = cursor.fetchone()[0]
        log(f"data built in {time.monotonic() - began:.1f} s")
        facts.update(load_before=os.getloadavg()[0], python_us=python_speed())
        figures = _time_pages(facts, sizes)
        facts["load_after"] = os.getloadavg()[0]
        return {"facts": facts, "figures": figures}
    finally:
        connection.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _build(sizes: Sizes) -> dict:
    """The project, straight into the tables: documents with k assignments each in a mix of
    states (the last 45 days of work), spans on every submitted one, a few adjudicated."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from annotator.models import (
        Annotation,
        Assignment,
        AssignmentState,
        Document,
        Label,
        Membership,
        Role,
    )
    from annotator.models.documents import content_hash
    from annotator.services.assignments import shuffle_key
    from annotator.services.projects import project_create

    rng = random.Random(20251127)
    now = timezone.now()
    User = get_user_model()
    unusable = make_password(None)
    documents_count = sizes.assignments // sizes.k
    log(f"{sizes.coders} coders, {documents_count:,} documents, {sizes.assignments:,} assignments")
    with transaction.atomic():
        manager = User.objects.create(username="manager", password=unusable)
        coders = User.objects.bulk_create(
            User(username=f"coder{n:03}", password=unusable) for n in range(sizes.coders)
        )
        project = project_create(name="Team bench", created_by=manager)
        project.overlap_k = sizes.k
        project.save(update_fields=["overlap_k"])
        Membership.objects.bulk_create(
            Membership(project=project, user=coder, role=Role.CODER) for coder in coders
        )
        digest = content_hash(ARTICLE)
        documents = Document.objects.bulk_create(
            (
                Document(
                    project=project,
                    title=f"Article {n + 1}",
                    outlet="Bench",
                    text=ARTICLE,
                    content_hash=digest,
                    position=n + 1,
                    shuffle_key=shuffle_key(project.random_seed, n + 1),
                )
                for n in range(documents_count)
            ),
            batch_size=5000,
        )
    labels = dict(Label.objects.filter(project=project).values_list("name", "pk"))
    spans = [(labels[label], ARTICLE.index(phrase), phrase) for label, phrase in SPANS]

    states = [
        (AssignmentState.SUBMITTED, 0.6),
        (AssignmentState.IN_PROGRESS, 0.15),
        (AssignmentState.ASSIGNED, 0.15),
        (AssignmentState.RELEASED, 0.10),
    ]
    adjudicated: list[int] = []
    batch: list = []
    annotation_batch: list = []
    made = annotations = 0

    def flush(force: bool = False) -> None:
        nonlocal batch, annotation_batch
        if batch and (force or len(batch) >= 5000):
            Assignment.objects.bulk_create(batch)
            batch = []
        if annotation_batch and (force or len(annotation_batch) >= 5000):
            Annotation.objects.bulk_create(annotation_batch)
            annotation_batch = []

    for index, document in enumerate(documents):
        all_submitted = True
        for slot in range(sizes.k):
            coder = coders[(index * sizes.k + slot) % len(coders)]
            state = rng.choices([s for s, _ in states], weights=[w for _, w in states])[0]
            created = now - dt.timedelta(days=rng.uniform(1, 45))
            started = created + dt.timedelta(hours=rng.uniform(0, 12))
            submitted = min(started + dt.timedelta(hours=rng.uniform(0.2, 48)), now)
            worked = state in (AssignmentState.SUBMITTED, AssignmentState.IN_PROGRESS)
            batch.append(
                Assignment(
                    project=project,
                    document=document,
                    coder=coder,
                    state=state,
                    assigned_by=manager,
                    started_at=started if worked else None,
                    submitted_at=submitted if state == AssignmentState.SUBMITTED else None,
                    released_at=started if state == AssignmentState.RELEASED else None,
                    last_activity_at=submitted if worked else None,
                    active_seconds=rng.randint(60, 3600) if worked else 0,
                )
            )
            made += 1
            all_submitted &= state == AssignmentState.SUBMITTED
            if state == AssignmentState.SUBMITTED:
                for label_id, start, phrase in spans[: rng.randint(1, len(spans))]:
                    annotation_batch.append(
                        Annotation(
                            document=document,
                            coder=coder,
                            label_id=label_id,
                            start=start,
                            end=start + len(phrase),
                            text=phrase,
                        )
                    )
                    annotations += 1
        if all_submitted and rng.random() < 0.1:
            adjudicated.append(document.pk)
        flush()
        if (index + 1) % 10_000 == 0:
            log(f"  {made:,} assignments")
    flush(force=True)
    Document.objects.filter(pk__in=adjudicated).update(adjudication_started_at=now)
    return {
        "project_id": project.pk,
        "manager_id": manager.pk,
        "coders": len(coders),
        "documents": len(documents),
        "assignments": made,
        "annotations": annotations,
        "adjudicated": len(adjudicated),
    }


def _time_pages(facts: dict, sizes: Sizes) -> dict:
    """Each page `runs` times after a warm-up: latency, and the CPU it cost (this process runs
    Django through the test Client; the database's is its backends'), since latency on a busy
    shared machine says as much about the neighbours as about the page."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(pk=facts["manager_id"]))
    project = facts["project_id"]
    dashboard = f"/projects/{project}/dashboard/"
    pages = {
        "dashboard, whole page": (dashboard, {}),
        "dashboard, stats refresh (htmx, every 15 s)": (
            dashboard,
            {"HX-Request": "true", "HX-Target": "dashboard-stats"},
        ),
        "dashboard, documents needing coders (htmx)": (
            dashboard + "?state=needs_coders",
            {"HX-Request": "true", "HX-Target": "dashboard-documents"},
        ),
        "GET /api/v1/projects/{id}/progress/": (f"/api/v1/projects/{project}/progress/", {}),
    }
    figures = {}
    with CpuMeter(master_pid=-1, database=settings.DATABASES["default"]["NAME"]) as meter:
        for name, (path, headers) in pages.items():
            for _ in range(sizes.warmup):
                _get(client, path, headers)
            timings = []
            before, began = meter.snapshot(), time.monotonic()
            for _ in range(sizes.runs):
                start = time.perf_counter()
                _get(client, path, headers)
                timings.append((time.perf_counter() - start) * 1000)
            usage = meter.usage(before, meter.snapshot(), time.monotonic() - began)
            figures[name] = {
                "n": len(timings),
                "p50": round(percentile(timings, 50), 1),
                "p95": round(percentile(timings, 95), 1),
                "app_cpu": round(usage.bench_s * 1000 / len(timings), 1),
                "db_cpu": round(usage.db_s * 1000 / len(timings), 1),
                "others": round(100 * usage.others_share),
            }
            log(f"{name}: {figures[name]}")
    return figures


def _get(client, path: str, headers: dict) -> None:
    response = client.get(path, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}")


# -- Report ----------------------------------------------------------------------------------


def _print(result: dict, sizes: Sizes) -> None:
    facts, figures = result["facts"], result["figures"]
    print()
    print(
        f"Team dashboard on PostgreSQL {facts['postgresql'].split()[0]}: {facts['coders']} coders, "
        f"{facts['documents']:,} documents, {facts['assignments']:,} assignments "
        f"(k = {sizes.k}), {facts['annotations']:,} spans; Django test Client in-process, "
        f"{sizes.runs} requests each after {sizes.warmup} warm-up"
    )
    print(
        f"Machine: {os.cpu_count()} CPUs, load average {facts['load_before']:.1f} before and "
        f"{facts['load_after']:.1f} after; sum(range(1000)) takes {facts['python_us']:.1f} us"
    )
    print(
        f"{'figure':<46} {'n':>3} {'p50':>7} {'p95':>7} {'app cpu':>8} {'db cpu':>7} "
        f"{'others':>6}  target"
    )
    print(f"{'':<46} {'':>3} {'ms':>7} {'ms':>7} {'ms/req':>8} {'ms/req':>7} {'%':>6}")
    for name, figure in figures.items():
        target = ""
        if name == "dashboard, whole page":
            verdict = "ok" if figure["p95"] < TARGET_MS else "MISSED"
            target = f"p95 < {TARGET_MS} ms: {verdict}"
        print(
            f"{name:<46} {figure['n']:>3} {figure['p50']:>7} {figure['p95']:>7} "
            f"{figure['app_cpu']:>8} {figure['db_cpu']:>7} {figure['others']:>6}  {target}"
        )
    print(
        "app cpu: this process (Django); db cpu: the database's backends (parallel workers "
        "not counted); others: the machine's CPU used by other processes meanwhile"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.team_dashboard", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks that it runs")
    args = parser.parse_args(argv)
    run(Sizes.smoke() if args.smoke else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
