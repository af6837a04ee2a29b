"""A large team: the manager's dashboard with 100 coders and 100,000 assignments (target: the
page under 300 ms at p95), and "Next document" with 8 coders pressing it at once in a project of
50,000 documents whose first 45,000 are fully coded (target: p95 under 50 ms).

`run()` creates a PostgreSQL database of its own, builds both projects in it with bulk_create
(the figures are about the reads and the queue, not the services' writes), renders
/projects/<id>/dashboard/ (and its htmx refreshes, and the progress API) through Django's test
Client 20 times each, then starts gunicorn on the database and has 8 client processes (a coder
each) take the next document through the API and submit it, over and over. It prints p50/p95
with the CPU each request cost (app and database, since latency on a busy shared machine
measures the neighbours too) and the SQL queries each request makes, and drops the database.
Its URL comes from BENCH_TEAM_DATABASE_URL (default below): never DATABASE_URL, so a
development database is never the one dropped, and the name must contain "bench".

Django runs in a child process of its own: settings are read once per process, and `run()` may
be called from a process (bench/__main__.py) that has already set Django up for another
database.

    .venv/bin/python -m bench.team_dashboard [--smoke]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import multiprocessing
import os
import random
import secrets
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass

from bench import database, server
from bench.client import queue_worker
from bench.cpu import CpuMeter, python_speed
from bench.report import percentile

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/annotator_bench_team"
URL_ENV = "BENCH_TEAM_DATABASE_URL"
TARGET_MS = 300
NEXT_TARGET_MS = 50
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
    # The queue: its documents, how many of them (the first ones) are fully coded already,
    # the coders pressing "Next document" at once and how often each (then submitting).
    queue_documents: int = 50_000
    queue_done: int = 45_000
    queue_coders: int = 8
    queue_rounds: int = 25

    @classmethod
    def smoke(cls) -> Sizes:
        return cls(
            coders=4,
            assignments=40,
            runs=2,
            warmup=1,
            queue_documents=40,
            queue_done=30,
            queue_coders=2,
            queue_rounds=2,
        )


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


def _django_env(url: str, workdir: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "annotator.settings",
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "0",
        "ANNOTATOR_HTTPS": "0",
        "ANNOTATOR_PLAIN_STATIC": "1",
        "ANNOTATOR_DATA_DIR": workdir,
        "ALLOWED_HOSTS": f"testserver,{server.HOST}",
    }


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
        result["figures"].update(_time_queue(url, result["facts"], sizes))
    finally:
        database.drop(url)
        log("database dropped")
    _print(result, sizes)
    return result


# -- In the child process --------------------------------------------------------------------


def _measure_in_child(url: str, sizes: dict) -> dict:
    sizes = Sizes(**sizes)
    workdir = tempfile.mkdtemp(prefix="annotator-bench-team-")
    os.environ.update(_django_env(url, workdir))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    try:
        log("migrating")
        call_command("migrate", verbosity=0)
        began = time.monotonic()
        facts = _build(sizes)
        facts.update(_build_queue(sizes))
        with connection.cursor() as cursor:
            # As autovacuum would have by now: statistics, and the visibility map that
            # index-only scans need.
            cursor.execute("VACUUM ANALYZE")
            cursor.execute("SHOW server_version")
            facts["postgresql"] = cursor.fetchone()[0]
        log(f"data built in {time.monotonic() - began:.1f} s")
        facts.update(load_before=os.getloadavg()[0], python_us=python_speed())
        figures = _time_pages(facts, sizes)
        facts["next_queries"] = _next_queries(facts)
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
    _recount_documents(project)
    return {
        "project_id": project.pk,
        "manager_id": manager.pk,
        "coders": len(coders),
        "documents": len(documents),
        "assignments": made,
        "annotations": annotations,
        "adjudicated": len(adjudicated),
    }


def _build_queue(sizes: Sizes) -> dict:
    """The queue's project: `queue_documents` documents in import order, the first
    `queue_done` of them coded by k of the team's coders (submitted), the rest untouched; and
    the coders who will press "Next document" (with a password, to log in through the API),
    plus one more for counting the queries."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from annotator.models import Assignment, AssignmentState, Document, Membership, Role
    from annotator.models.documents import content_hash
    from annotator.services.assignments import shuffle_key
    from annotator.services.projects import project_create

    User = get_user_model()
    now = timezone.now()
    manager = User.objects.get(username="manager")
    team = list(User.objects.filter(username__startswith="coder").order_by("pk"))
    password = secrets.token_urlsafe(16)
    hashed = make_password(password)
    names = [f"queue{n:02}" for n in range(sizes.queue_coders + 1)]
    log(f"queue: {sizes.queue_documents:,} documents, the first {sizes.queue_done:,} coded")
    with transaction.atomic():
        project = project_create(name="Queue bench", created_by=manager)
        project.overlap_k = sizes.k
        project.save(update_fields=["overlap_k"])
        coders = User.objects.bulk_create(User(username=n, password=hashed) for n in names)
        Membership.objects.bulk_create(
            Membership(project=project, user=user, role=Role.CODER) for user in team + coders
        )
        digest = content_hash(ARTICLE)
        documents = Document.objects.bulk_create(
            (
                Document(
                    project=project,
                    title=f"Queued {n + 1}",
                    outlet="Bench",
                    text=ARTICLE,
                    content_hash=digest,
                    position=n + 1,
                    shuffle_key=shuffle_key(project.random_seed, n + 1),
                )
                for n in range(sizes.queue_documents)
            ),
            batch_size=5000,
        )
    done = documents[: sizes.queue_done]
    for first in range(0, len(done), 5000):
        Assignment.objects.bulk_create(
            Assignment(
                project=project,
                document=document,
                coder=team[(index * sizes.k + slot) % len(team)],
                state=AssignmentState.SUBMITTED,
                started_at=now,
                submitted_at=now,
                last_activity_at=now,
                active_seconds=600,
            )
            for index, document in enumerate(done[first : first + 5000], start=first)
            for slot in range(sizes.k)
        )
    _recount_documents(project)
    return {
        "queue_project_id": project.pk,
        "queue_coders": names[:-1],
        "queue_probe": names[-1],
        "queue_password": password,
        "queue_documents": sizes.queue_documents,
        "queue_done": sizes.queue_done,
    }


def _recount_documents(project) -> None:
    """bulk_create goes around the services: the documents' coder counts as they keep them."""
    from annotator.services import documents_recount

    documents_recount(document_ids=list(project.documents.values_list("pk", flat=True)))


@contextlib.contextmanager
def _counting():
    """The SQL statements sent meanwhile (a list, one entry each), with DEBUG off."""
    from django.db import connection

    sent: list[str] = []

    def count(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield sent


def _next_queries(facts: dict) -> int:
    """The SQL queries of one "Next document" through the API (by a coder with none open)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=facts["queue_probe"]))
    path = f"/api/v1/projects/{facts['queue_project_id']}/assignments/next/"
    with _counting() as queries:
        response = client.post(path)
    if response.status_code != 201:
        raise RuntimeError(f"POST {path} answered {response.status_code}")
    return len(queries)


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
        "dashboard, whole page, figures not reused": (dashboard, {"cold": True}),
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
            with _counting() as queries:
                _get(client, path, headers)
            for _ in range(sizes.warmup - 1):
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
                "queries": len(queries),
            }
            log(f"{name}: {figures[name]}")
    return figures


def _get(client, path: str, headers: dict) -> None:
    """One request; with "cold", as after a change in the project: the dashboard's figures
    reused from the cache (annotator.services.projects.project_progress) are dropped first."""
    if headers.get("cold"):
        from django.core.cache import cache

        cache.clear()
        headers = {}
    response = client.get(path, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}")


# -- In this process: the queue through gunicorn --------------------------------------------


def _time_queue(url: str, facts: dict, sizes: Sizes) -> dict:
    """gunicorn on the bench database, and one client process per queue coder, all started
    at once: each takes the next document and submits it, `queue_rounds` times. The CPU
    columns are per round (the take and the submit together): /proc cannot tell them apart."""
    workdir = tempfile.mkdtemp(prefix="annotator-bench-queue-")
    env = {**os.environ, **_django_env(url, workdir)}
    env.pop("CONN_MAX_AGE", None)
    workers = server.worker_count()
    log(f"queue: gunicorn with {workers} workers, {sizes.queue_coders} coders")
    gunicorn = server.start(env, workers, os.path.join(workdir, "gunicorn.log"))
    try:
        with CpuMeter(gunicorn.process.pid, database.database_name(url)) as meter:
            outcomes, usage = _race_queue(gunicorn.port, facts, sizes, meter)
    finally:
        gunicorn.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    takes = [t * 1000 for o in outcomes for t in o["takes"]]
    submits = [t * 1000 for o in outcomes for t in o["submits"]]
    rounds = len(takes)
    cpu = {
        "app_cpu": round(usage.app_s * 1000 / rounds, 1),
        "db_cpu": round(usage.db_s * 1000 / rounds, 1),
        "others": round(100 * usage.others_share),
    }
    name = f"next document, {sizes.queue_coders} coders at once (API)"
    figures = {
        name: {
            "n": rounds,
            "p50": round(percentile(takes, 50), 1),
            "p95": round(percentile(takes, 95), 1),
            **cpu,
            "queries": facts["next_queries"],
        },
        "  then submit (API; cpu: next + submit)": {
            "n": len(submits),
            "p50": round(percentile(submits, 50), 1),
            "p95": round(percentile(submits, 95), 1),
            **cpu,
            "queries": None,
        },
    }
    log(f"{name}: {figures[name]}")
    return figures


def _race_queue(port: int, facts: dict, sizes: Sizes, meter: CpuMeter):
    context = multiprocessing.get_context("spawn")
    coders = facts["queue_coders"]
    barrier = context.Barrier(len(coders) + 1)
    results = context.Queue()
    args = (
        facts["queue_password"],
        facts["queue_project_id"],
        sizes.queue_rounds,
        barrier,
        results,
    )
    processes = [
        context.Process(target=queue_worker, args=(server.HOST, port, name, *args))
        for name in coders
    ]
    for process in processes:
        process.start()
    try:
        # A client that failed to start breaks the barrier: its error comes through `results`.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=300)
        before, began = meter.snapshot(), time.monotonic()
        outcomes = [results.get(timeout=600) for _ in processes]
        usage = meter.usage(before, meter.snapshot(), time.monotonic() - began)
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    errors = [o["error"] for o in outcomes if "error" in o]
    if errors:
        raise RuntimeError("queue clients failed:\n" + "\n".join(errors))
    return outcomes, usage


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
        f"Queue: {facts['queue_documents']:,} documents, the first {facts['queue_done']:,} "
        f"fully coded; {sizes.queue_coders} client processes through gunicorn, each taking "
        f"the next document and submitting it {sizes.queue_rounds} times"
    )
    print(
        f"{'figure':<46} {'n':>3} {'p50':>7} {'p95':>7} {'app cpu':>8} {'db cpu':>7} "
        f"{'others':>6} {'queries':>7}  target"
    )
    print(f"{'':<46} {'':>3} {'ms':>7} {'ms':>7} {'ms/req':>8} {'ms/req':>7} {'%':>6}")
    targets = {name: TARGET_MS for name in figures if name.startswith("dashboard, whole page")}
    targets.update((name, NEXT_TARGET_MS) for name in figures if name.startswith("next document"))
    for name, figure in figures.items():
        target = ""
        if name in targets:
            verdict = "ok" if figure["p95"] < targets[name] else "MISSED"
            target = f"p95 < {targets[name]} ms: {verdict}"
        queries = "" if figure["queries"] is None else figure["queries"]
        print(
            f"{name:<46} {figure['n']:>3} {figure['p50']:>7} {figure['p95']:>7} "
            f"{figure['app_cpu']:>8} {figure['db_cpu']:>7} {figure['others']:>6} "
            f"{queries:>7}  {target}"
        )
    print(
        "app cpu: Django (this process for the dashboard, gunicorn's workers for the queue); "
        "db cpu: the database's backends (parallel workers not counted); others: the "
        "machine's CPU used by other processes meanwhile; queries: SQL queries of one request"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.team_dashboard", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks that it runs")
    parser.add_argument(
        "--rounds", type=int, help="how often each queue coder takes the next document"
    )
    args = parser.parse_args(argv)
    sizes = Sizes.smoke() if args.smoke else Sizes()
    if args.rounds:
        sizes = dataclasses.replace(sizes, queue_rounds=args.rounds)
    run(sizes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
