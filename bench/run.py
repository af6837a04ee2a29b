"""The whole bench: database, data, gunicorn, the measurements, the report, the clean-up."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import secrets
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench import database, server
from bench.client import Client, api_client, concurrent_worker, htmx_client
from bench.cpu import CpuMeter, Usage, python_speed
from bench.report import Figure, mib, table

DOCCANO = (
    "doccano 1.8.4, from the issue: span save 20 ms p50 / 23 ms p95 (1 client); "
    "121 saves/s with p95 90 ms (8 clients); 24 ms to read a document with 50 spans"
)
# "About the same" on the long article: p50 and p95 each within 25 % (or 2 ms) of the small
# article's.
SAME_RATIO, SAME_SLACK_MS = 1.25, 2.0
BUSY = 0.2  # warn when other processes used more than this share of the machine


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes: checks that the bench runs, no figures"
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    database_url = database.url()
    workdir = Path(tempfile.mkdtemp(prefix="annotator-bench-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "annotator.settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "0",
        "ANNOTATOR_HTTPS": "0",
        "ANNOTATOR_DATA_DIR": str(workdir),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    # Production settings as deployed: manifest static files, a key from the environment.
    for name in ("ANNOTATOR_PLAIN_STATIC", "SECRET_KEY_FILE", "CONN_MAX_AGE"):
        env.pop(name, None)
        os.environ.pop(name, None)
    os.environ.update(env)
    load_before, speed_before = os.getloadavg(), python_speed()
    gunicorn = None
    created_database = False
    try:
        log(f"creating database {database.database_name(database_url)}")
        database.recreate(database_url)
        created_database = True
        plan = _prepare(smoke=args.smoke)
        workers = server.worker_count()
        log(f"starting gunicorn with {workers} sync workers")
        gunicorn = server.start(env, workers, workdir / "gunicorn.log")
        idle_rss = gunicorn.rss_kib()
        with CpuMeter(gunicorn.process.pid, database.database_name(database_url)) as meter:
            figures, comparison, keep_alive = _measure(gunicorn, plan, meter)
        after_rss = gunicorn.rss_kib()
        _print_report(
            database_url,
            gunicorn,
            plan,
            figures,
            comparison,
            keep_alive,
            idle_rss,
            after_rss,
            (load_before, os.getloadavg()),
            (speed_before, python_speed()),
        )
        return 0
    finally:
        if gunicorn is not None:
            gunicorn.stop()
            log("gunicorn stopped")
        _close_django()
        if created_database:
            database.drop(database_url)
            log("database dropped")
        shutil.rmtree(workdir, ignore_errors=True)


def _prepare(smoke: bool):
    import django
    from django.core.management import call_command

    django.setup()
    from bench import seed

    log("migrating")
    call_command("migrate", verbosity=0)
    log("collecting static files (the manifest the production settings need)")
    call_command("collectstatic", interactive=False, verbosity=0)
    log("building data with the services")
    began = time.monotonic()
    plan = seed.build(secrets.token_urlsafe(16), seed.Sizes.smoke() if smoke else None)
    log(f"data built in {time.monotonic() - began:.1f} s")
    _close_django()
    return plan


def _close_django() -> None:
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()


def _loop(meter: CpuMeter, name: str, fn, items) -> Figure:
    """Run fn over items one after the other, timing each call and the CPU it cost."""
    before = meter.snapshot()
    began = time.monotonic()
    timings = [fn(item) for item in items]
    elapsed = time.monotonic() - began
    usage = meter.usage(before, meter.snapshot(), elapsed)
    return Figure(name, timings, len(timings) / elapsed, usage)


def _measure(gunicorn: server.Server, plan, meter: CpuMeter):
    host, port = server.HOST, gunicorn.port
    api = api_client(host, port, plan.solo, plan.password)
    htmx = htmx_client(host, port, plan.solo, plan.password, plan.gold_document)
    long_api_doc, _ = plan.long_documents
    read_doc = f"/api/v1/documents/{plan.read_document}/"
    read_spans = f"/api/v1/documents/{plan.read_document}/annotations/"
    gold_screen = f"/documents/{plan.gold_document}/"
    long_screen = f"/documents/{long_api_doc}/"

    log("warming up every worker on every endpoint")
    count = json.loads(api.expect(200, "GET", read_spans)[0])["count"]
    if count != plan.read_spans:
        raise RuntimeError(f"{read_spans} lists {count} spans, {plan.read_spans} expected")
    for create in plan.warmup_api:
        api.api_create(create)
    for create in plan.warmup_htmx:
        htmx.htmx_create(create)
    for _ in plan.warmup_api:
        api.get(read_doc)
        api.get(read_spans)
        htmx.get(gold_screen)
    for _ in range(10):
        htmx.get(long_screen)

    figures: list[Figure] = []
    log("0. the floor: GET /healthz")
    figures.append(
        _loop(
            meter,
            "0. GET /healthz (floor: connect, gunicorn, middleware)",
            lambda _: api.get("/healthz"),
            range(plan.sizes.reads),
        )
    )
    log(f"1. {len(plan.api_sequential)} API creates, 1 client")
    api_small = _loop(meter, "1. span create, API, 1 client", api.api_create, plan.api_sequential)
    figures.append(api_small.judge("p95 < 10 ms", lambda f: f.p95 < 10))

    total = sum(len(work) for work in plan.concurrent_work)
    log(f"2. {total} API creates, {len(plan.concurrent)} clients in separate processes")
    figures.append(_concurrent(gunicorn, plan, meter))

    log(f"3. {len(plan.htmx_sequential)} htmx creates, 1 client")
    htmx_small = _loop(
        meter,
        "3. span create, htmx coding screen, 1 client",
        htmx.htmx_create,
        plan.htmx_sequential,
    )
    figures.append(htmx_small.judge("p95 < 15 ms", lambda f: f.p95 < 15))
    # Not part of the save: the answer to a save fires `checks-changed`, and the Checks
    # section then fetches itself with this GET, after "Saved" is on screen. Shown so that
    # what the browser does after each save is on the record too.
    figures.append(
        _loop(
            meter,
            f"3b. checks refresh after a save, seed article ({plan.gold_spans} spans)",
            lambda _: htmx.get(f"/documents/{plan.gold_document}/checks/"),
            range(plan.sizes.reads),
        )
    )

    log(
        f"4. reading the {plan.read_spans}-span document {plan.sizes.reads} times, the coding screen too"
    )
    pairs = _loop(
        meter,
        f"4c. document + its {plan.read_spans} spans (4a + 4b)",
        lambda _: (api.get(read_doc), api.get(read_spans)),
        range(plan.sizes.reads),
    )
    figures.append(
        Figure("4a. GET /api/v1/documents/{id}/ (with text)", [a for a, _ in pairs.timings])
    )
    figures.append(
        Figure(f"4b. GET .../annotations/ ({plan.read_spans} spans)", [b for _, b in pairs.timings])
    )
    pairs.timings = [a + b for a, b in pairs.timings]
    figures.append(pairs.judge("p50 < 8 ms", lambda f: f.p50 < 8))
    screen = _loop(
        meter,
        f"4d. coding screen, seed article, {plan.gold_spans} spans + {plan.gold_relations} links",
        lambda _: htmx.get(gold_screen),
        range(plan.sizes.reads),
    )
    figures.append(screen.judge("p95 < 30 ms", lambda f: f.p95 < 30))

    log(
        f"5. long article: coding screen x{plan.sizes.long_screens}, then creates through the API and htmx"
    )
    long_screen_figure = _loop(
        meter,
        f"5a. coding screen, {plan.long_length:,} chars, {plan.long_spans:,} spans",
        lambda _: htmx.get(long_screen),
        range(plan.sizes.long_screens),
    )
    figures.append(long_screen_figure.judge("p95 < 100 ms", lambda f: f.p95 < 100))
    api_long = _loop(
        meter,
        f"5b. span create, API, long article ({plan.long_spans:,} spans)",
        api.api_create,
        plan.long_api,
    )
    figures.append(api_long.judge("about the same as 1.", lambda f: _about_same(api_small, f)))
    htmx_long = _loop(
        meter,
        f"5c. span create, htmx, long article ({plan.long_spans:,} spans)",
        htmx.htmx_create,
        plan.long_htmx,
    )
    figures.append(htmx_long.judge("about the same as 3.", lambda f: _about_same(htmx_small, f)))
    figures.append(
        _loop(
            meter,
            f"5d. checks refresh after a save, long article ({plan.long_spans:,} spans)",
            lambda _: htmx.get(f"{long_screen}checks/"),
            range(plan.sizes.long_screens),
        )
    )

    comparison = [("API", api_small, api_long), ("htmx", htmx_small, htmx_long)]
    return figures, comparison, _keep_alive(api, htmx)


def _about_same(small: Figure, long: Figure) -> bool:
    return all(
        big <= max(little * SAME_RATIO, little + SAME_SLACK_MS)
        for little, big in ((small.p50, long.p50), (small.p95, long.p95))
    )


def _keep_alive(*clients: Client) -> str:
    requests = sum(c.requests for c in clients)
    connections = sum(c.connections for c in clients)
    if connections >= requests:
        return (
            f"no: gunicorn's sync workers close every connection ({connections} TCP connections "
            f"for {requests} requests), so each timing includes a loopback connect"
        )
    return f"yes: {connections} TCP connections for {requests} requests"


def _concurrent(gunicorn: server.Server, plan, meter: CpuMeter) -> Figure:
    context = multiprocessing.get_context("spawn")
    clients = len(plan.concurrent)
    barrier = context.Barrier(clients + 1)  # the clients, and this process to start the meter
    results = context.Queue()
    processes = [
        context.Process(
            target=concurrent_worker,
            args=(server.HOST, gunicorn.port, name, plan.password, work, barrier, results),
        )
        for name, work in zip(plan.concurrent, plan.concurrent_work, strict=True)
    ]
    for process in processes:
        process.start()
    try:
        barrier.wait(timeout=300)
        before, began = meter.snapshot(), time.monotonic()
        outcomes = [results.get(timeout=600) for _ in processes]
        # Before the joins: the clients' own CPU is added from what they report, not from
        # os.times(), which would count their start-up and log-in too once they are reaped.
        after, elapsed = meter.snapshot(), time.monotonic() - began
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    errors = [o["error"] for o in outcomes if "error" in o]
    if errors:
        raise RuntimeError("concurrent clients failed:\n" + "\n".join(errors))
    usage = meter.usage(before, after, elapsed)
    usage = Usage(
        usage.app_s,
        usage.db_s,
        usage.bench_s + sum(o["cpu"] for o in outcomes),
        usage.busy_s,
        usage.wall_s,
    )
    timings = [t for o in outcomes for t in o["timings"]]
    wall = max(o["ended"] for o in outcomes) - min(o["began"] for o in outcomes)
    figure = Figure(
        f"2. span create, API, {clients} clients (processes)", timings, len(timings) / wall, usage
    )
    return figure.judge("> 300 saves/s, p95 < 40 ms", lambda f: f.throughput > 300 and f.p95 < 40)


def _cpu_per_request(figure: Figure) -> float:
    return figure.per_request_ms(figure.usage.app_s + figure.usage.db_s)


def _print_report(
    database_url,
    gunicorn,
    plan,
    figures,
    comparison,
    keep_alive,
    idle_rss,
    after_rss,
    loads,
    speeds,
):
    import django
    import gunicorn as gunicorn_package

    facts = database.server_facts(database_url)
    parts = urlsplit(database_url)
    print()
    print("Annotator bench")
    print(
        f"machine: nproc {os.cpu_count()}, {platform.machine()}, Linux {platform.release()}; "
        f"Python {platform.python_version()}, Django {django.get_version()}; load average "
        f"{loads[0][0]:.1f} before the run, {loads[1][0]:.1f} after"
    )
    print(
        f"CPU speed: sum(range(1000)) takes {speeds[0]:.0f} us before the run, {speeds[1]:.0f} us "
        "after (best of 5; roughly 5-10 us on an unloaded current x86 core)"
    )
    print(
        f"PostgreSQL {facts['server_version']} on {parts.hostname}:{parts.port or 5432} "
        f"(synchronous_commit={facts['synchronous_commit']}, fsync={facts['fsync']}, "
        f"shared_buffers={facts['shared_buffers']}); database "
        f"{database.database_name(database_url)}, created for this run and dropped after it"
    )
    print(
        f"server: gunicorn {gunicorn_package.__version__}, {gunicorn.workers} sync workers "
        f"(2 x nproc + 1, within 4..6), {server.HOST}:{gunicorn.port}; DEBUG off, "
        "ANNOTATOR_HTTPS=0, CONN_MAX_AGE=60 (default), collected static files, django-axes on"
    )
    print(
        "client: http.client on the same machine; figures 1, 3-5 from 1 process, figure 2 "
        f"from {len(plan.concurrent)} processes (a coder and token each, own documents)"
    )
    print(f"keep-alive: {keep_alive}")
    print()
    print(table(figures))
    busiest = max(f.usage.others_share for f in figures if f.usage is not None)
    if busiest > BUSY:
        print(
            f"WARNING: other processes used up to {busiest:.0%} of this machine's CPU during "
            "the measurements: latencies and throughput are inflated by them; the app/db CPU "
            "columns are the figures that carry over"
        )
    print()
    print("span create, small vs long article (criterion: p50 and p95 within 25 % or 2 ms)")
    for name, small, long in comparison:
        cpu_small, cpu_long = _cpu_per_request(small), _cpu_per_request(long)
        print(
            f"  {name:<5} small p50 {small.p50:6.2f} / p95 {small.p95:6.2f} ms   long p50 "
            f"{long.p50:6.2f} / p95 {long.p95:6.2f} ms   p95 ratio {long.p95 / small.p95:4.2f}"
            f"   {'PASS' if long.passed else 'MISS'}   app+db CPU {cpu_small:.1f} vs "
            f"{cpu_long:.1f} ms/request (ratio {cpu_long / cpu_small:.2f})"
        )
    print()
    print("server memory (VmRSS of the gunicorn master and its workers)")
    master_pid = gunicorn.process.pid
    for label, rss in (("idle after start", idle_rss), ("after the runs", after_rss)):
        workers = [kib for pid, kib in sorted(rss.items()) if pid != master_pid]
        print(
            f"  {label:<17} total {mib(sum(rss.values())):>10}   master "
            f"{mib(rss.get(master_pid, 0))}   workers {', '.join(mib(w) for w in workers)}"
        )
    print()
    print(DOCCANO)
    print(
        "percentiles are client-side wall times of whole requests (4c: the two requests of 4a "
        "and 4b together; 4d, 5a: p95 judged).\nTiming never fails the run: these are figures "
        "to read, best on an otherwise idle machine (see busy other)."
    )
