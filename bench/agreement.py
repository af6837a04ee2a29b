"""The agreement report's figures on PostgreSQL: `python -m bench.agreement`.

It creates its own database (AGREEMENT_BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/annotator_bench_agreement; the name must contain "bench",
since it is dropped at the end), builds a project of 10,000 documents coded by 3 coders with
20 spans each (600,000 spans, CASUALTY -> SOURCE links, every assignment submitted, over 20
weeks) and one of 100 documents, then times the adapter and the report end to end, cold (no
snapshot, a fresh process), and prints seconds and peak RSS beside the targets (10 s and 1 GB
for the big project; well under a second for the small one).

Each step runs in its own process: the data build, then one measurement per project, so the
peak RSS is that of the report alone and Django is configured for this database only (the
main bench calls `run()` from a process already set up for its own database).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

URL_ENV = "AGREEMENT_BENCH_DATABASE_URL"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/annotator_bench_agreement"
ROOT = Path(__file__).resolve().parents[1]
BIG = "Agreement bench: 10,000 documents"
SMALL = "Agreement bench: 100 documents"
CODERS = 3
SPANS_PER_CODER = 20
WEEKS = 20
TARGET_SECONDS = 10.0
TARGET_RSS_MIB = 1024
SMALL_TARGET_SECONDS = 1.0


def log(message: str) -> None:
    print(f"[bench.agreement {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the database ---------------------------------------------------------------------------


def database_url() -> str:
    value = os.environ.get(URL_ENV) or DEFAULT_URL
    name = urlsplit(value).path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(
            f"{URL_ENV} names {name!r}: it is dropped, so its name must contain 'bench'"
        )
    return value


def _admin(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)


def _recreate(url: str, *, create: bool) -> None:
    from psycopg import sql

    name = sql.Identifier(urlsplit(url).path.lstrip("/"))
    with _admin(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        if create:
            conn.execute(
                sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0").format(name)
            )


def _child_env(url: str, workdir: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "annotator.settings",
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "0",
        "ANNOTATOR_HTTPS": "0",
        "ANNOTATOR_PLAIN_STATIC": "1",
        "ANNOTATOR_DATA_DIR": workdir,
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "CONN_MAX_AGE": "0",
    }
    env.pop("SECRET_KEY_FILE", None)
    return env


def _child(step: str, *args: str, env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "bench.agreement", "--step", step, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        check=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- the entry point ------------------------------------------------------------------------


def run(documents: int = 10_000, small: int = 100) -> dict:
    """Build the data, measure, print the figures, drop the database; returns the figures."""
    url = database_url()
    with tempfile.TemporaryDirectory(prefix="annotator-bench-agreement-") as workdir:
        env = _child_env(url, workdir)
        log(f"creating database {urlsplit(url).path.lstrip('/')}")
        _recreate(url, create=True)
        try:
            log(
                f"building {documents:,} + {small:,} documents x {CODERS} coders x {SPANS_PER_CODER} spans"
            )
            built = _child("build", str(documents), str(small), env=env)
            log(f"data built in {built['seconds']:.1f} s")
            log("measuring the big project (cold: fresh process, no snapshot)")
            big = _child("measure", BIG, env=env)
            log("measuring the small project")
            little = _child("measure", SMALL, env=env)
        finally:
            _recreate(url, create=False)
            log("database dropped")
    figures = {"build": built, "big": big, "small": little}
    _print(figures)
    return figures


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def _print(figures: dict) -> None:
    big, small = figures["big"], figures["small"]

    def verdict(ok: bool) -> str:
        return "ok" if ok else "OVER"

    rss_mib = big["peak_rss_kib"] / 1024
    lines = [
        "",
        "Agreement report, PostgreSQL, end to end (fingerprint + adapter + report + snapshot "
        "stored), cold",
        f"  {big['documents']:,} documents, {big['spans']:,} spans, {big['relations']:,} links, "
        f"{big['coders']} coders:",
        f"    {big['seconds']:.2f} s (target {TARGET_SECONDS:.0f} s: "
        f"{verdict(big['seconds'] < TARGET_SECONDS)}); "
        f"peak RSS {rss_mib:.0f} MiB (target {TARGET_RSS_MIB} MiB: "
        f"{verdict(rss_mib < TARGET_RSS_MIB)}; {big['baseline_rss_kib'] / 1024:.0f} MiB "
        "before the report)",
        f"    of which: fingerprint {big['fingerprint_seconds'] * 1000:.0f} ms, "
        f"report computation {big['compute_seconds']:.2f} s",
        f"    CPU: this process {big['cpu_seconds']:.2f} s, its PostgreSQL backend "
        f"{_seconds(big['database_cpu_seconds'])} (read ahead on the other core); "
        f"a 10M-step Python loop took {big['calibration_seconds']:.2f} s CPU (machine speed now)",
        f"    page with the snapshot stored: {big['page_seconds'] * 1000:.0f} ms; "
        f"snapshot payload {big['payload_kib']:.0f} KiB",
        f"  {small['documents']:,} documents, {small['spans']:,} spans: "
        f"{small['seconds'] * 1000:.0f} ms (target well under {SMALL_TARGET_SECONDS:.0f} s: "
        f"{verdict(small['seconds'] < SMALL_TARGET_SECONDS)}); page with the snapshot "
        f"{small['page_seconds'] * 1000:.0f} ms",
        f"  ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})",
    ]
    print("\n".join(lines), flush=True)


# --- step: build ----------------------------------------------------------------------------


def _setup_django() -> None:
    import django

    django.setup()


def _build(documents: int, small: int) -> dict:
    from django.core.management import call_command

    began = time.monotonic()
    call_command("migrate", verbosity=0)
    seed = json.loads((ROOT / "annotator/fixtures/demo/seed-article.json").read_text("utf-8"))
    manager, coders = _users()
    _project(BIG, manager, coders, seed["text"], documents, random.Random(1))
    _project(SMALL, manager, coders, seed["text"], small, random.Random(2))
    return {"seconds": time.monotonic() - began}


def _users():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    model = get_user_model()
    password = make_password(secrets.token_urlsafe(12))
    manager = model.objects.create(username="bench-manager", password=password)
    coders = [
        model.objects.create(username=f"bench-coder-{n}", password=password)
        for n in range(1, CODERS + 1)
    ]
    return manager, coders


def _project(name: str, manager, coders, seed_text: str, count: int, rng: random.Random) -> None:
    from django.db import connection, transaction

    from annotator.models import Document, Label, RelationType, Role
    from annotator.models.documents import content_hash
    from annotator.services import documents_recount, member_add, project_create
    from bench import texts

    project = project_create(name=name, created_by=manager)
    for coder in coders:
        member_add(project=project, user=coder, role=Role.CODER)
    labels = {label.name: label.pk for label in Label.objects.filter(project=project)}
    claimed_by = RelationType.objects.get(project=project, name="claimed_by").pk
    start_day = datetime(2025, 1, 6, 9, tzinfo=UTC)

    with transaction.atomic():
        rows = []
        for n in range(count):
            text = f"Report {n + 1}.\n\n{seed_text}"
            rows.append(
                Document(
                    project=project,
                    title=f"Bench report {n + 1}",
                    text=text,
                    content_hash=content_hash(text),
                    position=n + 1,
                    published=(start_day + timedelta(days=n * 140 // max(count, 1))).date(),
                )
            )
        docs = Document.objects.bulk_create(rows, batch_size=2_000)
        now = datetime.now(UTC)
        cursor = connection.cursor().cursor  # psycopg's own cursor: COPY
        span_columns = (
            'document_id, coder_id, label_id, start, "end", text, attributes, version, '
            "codebook_version, created, updated"
        )
        plan_labels = ["ACTOR", "LOCATION", "DATE", "SOURCE", "CASUALTY"]
        with cursor.copy(f"COPY annotator_annotation ({span_columns}) FROM STDIN") as copy:
            for document in docs:
                words = texts.words(document.text)
                chosen = texts.spread(words, SPANS_PER_CODER, offset=1)
                for coder in coders:
                    for k, word in enumerate(chosen):
                        label, start, end = plan_labels[k % 5], word.start, word.end
                        roll = rng.random()
                        if roll < 0.08:  # another label
                            label = rng.choice(plan_labels)
                        elif roll < 0.16:  # a wider span: this word and the next
                            end = words[words.index(word) + 1].end
                        elif roll < 0.20:  # missed
                            continue
                        attributes = _attributes(label, rng)
                        copy.write_row(
                            (
                                document.pk,
                                coder.pk,
                                labels[label],
                                start,
                                end,
                                document.text[start:end],
                                json.dumps(attributes),
                                1,
                                1,
                                now,
                                now,
                            )
                        )
        cursor.execute(
            """
            INSERT INTO annotator_relation
                (document_id, coder_id, type_id, source_id, target_id, created)
            SELECT c.document_id, c.coder_id, %s, c.id, s.first_id, now()
              FROM annotator_annotation c
              JOIN (SELECT document_id, coder_id, min(id) AS first_id
                      FROM annotator_annotation WHERE label_id = %s
                     GROUP BY document_id, coder_id) s
                USING (document_id, coder_id)
             WHERE c.label_id = %s AND c.document_id = ANY(%s)
            """,
            (claimed_by, labels["SOURCE"], labels["CASUALTY"], [d.pk for d in docs]),
        )
        assignment_columns = (
            "project_id, document_id, coder_id, state, created, submitted_at, active_seconds"
        )
        with cursor.copy(f"COPY annotator_assignment ({assignment_columns}) FROM STDIN") as copy:
            for n, document in enumerate(docs):
                week = start_day + timedelta(weeks=n * WEEKS // max(count, 1))
                for k, coder in enumerate(coders):
                    submitted = week + timedelta(hours=k + rng.random())
                    copy.write_row(
                        (project.pk, document.pk, coder.pk, "submitted", submitted, submitted, 0)
                    )
    # COPY goes around the services: the documents' coder counts as they would keep them.
    documents_recount(document_ids=[d.pk for d in docs])
    with connection.cursor() as c:
        c.execute("ANALYZE")


def _attributes(label: str, rng: random.Random) -> dict:
    if label == "CASUALTY":
        best = rng.choice((3, 4, 5, 10, 12, 20))
        return {"low": best - rng.choice((0, 1)), "best": best, "high": best + rng.choice((0, 2))}
    if label == "ACTOR":
        return {"actor_type": rng.choice(("state", "non_state", "state"))}
    return {}


# --- step: measure --------------------------------------------------------------------------


def _calibration_seconds() -> float:
    """CPU seconds of a fixed pure-Python loop: how fast this machine runs Python right now
    (compare across runs: a loaded machine, or a busy sibling hyperthread, runs it slower)."""
    began = time.process_time()
    total = 0
    for number in range(10_000_000):
        total += number
    return time.process_time() - began


def _database_cpu_seconds() -> float | None:
    """CPU time of this connection's PostgreSQL backend, when it runs on this machine."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_kib() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _measure(name: str) -> dict:
    from django.test import Client

    from annotator import reports
    from annotator.models import AgreementSnapshot, Project
    from annotator.reports import AgreementFilters

    project = Project.objects.get(name=name)
    AgreementSnapshot.objects.filter(project=project).delete()
    baseline = _rss_kib()

    began = time.perf_counter()
    fingerprint = reports.data_fingerprint(project)
    fingerprint_seconds = time.perf_counter() - began

    calibration = _calibration_seconds()
    database_before = _database_cpu_seconds()
    began, cpu_began = time.perf_counter(), time.process_time()
    snapshot = reports.snapshot_for(project, AgreementFilters(), background=False)
    seconds = time.perf_counter() - began
    cpu_seconds = time.process_time() - cpu_began
    database_after = _database_cpu_seconds()
    peak = _rss_kib()
    if not snapshot.is_ready:
        raise SystemExit(f"the report failed: {snapshot.error}")
    counts = snapshot.payload["report"]["counts"]

    client = Client()
    client.force_login(project.memberships.get(role="manager").user)
    client.get(f"/projects/{project.pk}/agreement/")  # templates, codebook: warm
    began = time.perf_counter()
    response = client.get(f"/projects/{project.pk}/agreement/")
    page_seconds = time.perf_counter() - began
    if response.status_code != 200:
        raise SystemExit(f"the page answered {response.status_code}")
    return {
        "documents": counts["documents_compared"],
        "spans": counts["spans"],
        "relations": counts["relations"],
        "coders": counts["coders"],
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "database_cpu_seconds": None
        if database_before is None or database_after is None
        else database_after - database_before,
        "calibration_seconds": calibration,
        "fingerprint_seconds": fingerprint_seconds,
        "compute_seconds": snapshot.payload["compute_seconds"],
        "baseline_rss_kib": baseline,
        "peak_rss_kib": peak,
        "page_seconds": page_seconds,
        "payload_kib": len(json.dumps(snapshot.payload)) / 1024,
        "fingerprint": {k: str(v) for k, v in fingerprint.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.agreement", description=__doc__)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--step", choices=("build", "measure"), help=argparse.SUPPRESS)
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.step is None:
        run(options.documents, options.small)
        return 0
    _setup_django()
    if options.step == "build":
        result = _build(int(options.args[0]), int(options.args[1]))
    else:
        result = _measure(options.args[0])
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
