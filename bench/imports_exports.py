"""Imports and exports on PostgreSQL: `python -m bench.imports_exports`.

It creates its own database (IO_BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/annotator_bench_io; the name must contain "bench", since it
is dropped at the end) and measures, each step in a fresh process:

* importing 10,000 documents of about 2,000 characters from JSONL (target < 1.5 s), and
  100,000 (target < 15 s), through ``documents_import`` as the upload page, the API and the
  command call it (reading, checking every record, duplicate look-ups, writing, the audit row);
* exporting those 100,000 documents with 2,000,000 spans (2 coders x 10 spans each, over known
  words, written with COPY; the quote triggers check every one) as JSONL, every coder's layer
  (target < 30 s, and a peak RSS of the exporting process under 300 MB, read with
  resource.getrusage).

Figures are printed with PASS or MISS beside each target.
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
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

URL_ENV = "IO_BENCH_DATABASE_URL"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/annotator_bench_io"
ROOT = Path(__file__).resolve().parents[1]
DOCUMENT_CHARS = 2_000
SMALL, LARGE = 10_000, 100_000
SPANS_PER_CODER = 10
CODERS = ("bench-coder-1", "bench-coder-2")
TARGETS = {"small": 1.5, "large": 15.0, "export": 30.0}
TARGET_RSS_MIB = 300


def log(message: str) -> None:
    print(
        f"[bench.imports_exports {time.strftime('%H:%M:%S')}] {message}",
        file=sys.stderr,
        flush=True,
    )


# --- the database ---------------------------------------------------------------------------


def database_url() -> str:
    value = os.environ.get(URL_ENV) or DEFAULT_URL
    name = urlsplit(value).path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(
            f"{URL_ENV} names {name!r}: it is dropped, so its name must contain 'bench'"
        )
    return value


def _recreate(url: str, *, create: bool) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = sql.Identifier(parts.path.lstrip("/"))
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
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
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CONN_MAX_AGE": "0",
    }
    env.pop("SECRET_KEY_FILE", None)
    return env


def _child(step: str, *args: str, env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "bench.imports_exports", "--step", step, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        check=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- the input files ------------------------------------------------------------------------


def write_documents(path: Path, count: int, tag: str) -> int:
    """``count`` documents of about DOCUMENT_CHARS characters, one JSON object per line, each
    text different (a numbered heading over a window of the demo article); returns bytes."""
    seed = json.loads((ROOT / "annotator/fixtures/demo/seed-article.json").read_text("utf-8"))
    from bench.texts import long_article

    source = long_article(seed["text"], 60_000)
    rng = random.Random(count)
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            start = rng.randrange(0, len(source) - DOCUMENT_CHARS)
            heading = f"Report {tag}-{n + 1}.\n\n"
            body = source[start : start + DOCUMENT_CHARS - len(heading)]
            record = {
                "external_id": f"{tag}-{n + 1}",
                "title": f"Bench report {n + 1}",
                "outlet": rng.choice(("Alwaght", "SANA", "Reuters", "Al Jazeera")),
                "published": f"2017-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                "language": "en",
                "section": "Middle East",
                "text": heading + body,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path.stat().st_size


# --- the entry point ------------------------------------------------------------------------


def run(small: int = SMALL, large: int = LARGE, profile: bool = False) -> dict:
    """Build, measure, print, drop the database; returns the figures."""
    url = database_url()
    with tempfile.TemporaryDirectory(prefix="annotator-bench-io-") as workdir:
        env = _child_env(url, workdir)
        work = Path(workdir)
        log(f"creating database {urlsplit(url).path.lstrip('/')}")
        _recreate(url, create=True)
        try:
            _child("setup", env=env)
            figures: dict = {}
            for key, count in (("small", small), ("large", large)):
                path = work / f"{key}.jsonl"
                size = write_documents(path, count, key)
                log(f"importing {count:,} documents ({size / 2**20:.0f} MB of JSONL)")
                figures[key] = _child("import", key, str(path), str(int(profile)), env=env)
                figures[key]["mib"] = size / 2**20
                path.unlink()
            log(
                f"adding {large * SPANS_PER_CODER * len(CODERS):,} spans to the large project (COPY)"
            )
            figures["build"] = _child("spans", env=env)
            log("exporting the large project as JSONL, every coder")
            figures["export"] = _child(
                "export", str(work / "export.jsonl"), str(int(profile)), env=env
            )
        finally:
            _recreate(url, create=False)
            log("database dropped")
    _print(figures)
    return figures


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _print(figures: dict) -> None:
    lines = ["", "Imports and exports, PostgreSQL (documents_import / documents_export end to end)"]
    for key in ("small", "large"):
        f = figures[key]
        target = TARGETS[key]
        lines.append(
            f"  import {f['documents']:,} documents ({f['mib']:.0f} MB JSONL): {f['seconds']:.2f} s "
            f"(target < {target:g} s: {_verdict(f['seconds'] < target)}); "
            f"{f['documents'] / f['seconds']:,.0f} documents/s; {f['cpu_seconds']:.2f} s of CPU in "
            f"the importing process, {f['server_cpu_seconds']:.2f} s in PostgreSQL; "
            f"peak RSS {f['peak_rss_kib'] / 1024:.0f} MiB"
        )
    e = figures["export"]
    rss = e["peak_rss_kib"] / 1024
    lines.append(
        f"  export {e['documents']:,} documents with {e['spans']:,} spans as JSONL "
        f"({e['mib']:.0f} MB): {e['seconds']:.1f} s (target < {TARGETS['export']:g} s: "
        f"{_verdict(e['seconds'] < TARGETS['export'])}; {e['cpu_seconds']:.1f} s of CPU in the "
        f"exporting process, {e['server_cpu_seconds']:.1f} s in PostgreSQL); peak RSS {rss:.0f} MiB "
        f"(target < {TARGET_RSS_MIB} MB: {_verdict(rss < TARGET_RSS_MIB)}; "
        f"{e['baseline_rss_kib'] / 1024:.0f} MiB before the export)"
    )
    lines.append(
        f"  (building the 2M spans with COPY, triggers on: {figures['build']['seconds']:.1f} s)"
    )
    lines.append(f"  ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")
    print("\n".join(lines), flush=True)


# --- steps (each in its own process) --------------------------------------------------------


def _rss_kib() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _cpu() -> float:
    """This process's CPU seconds: beside the wall time, a figure a busy machine blurs less
    (the database server's share is not in it)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _setup() -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from annotator.models import Role
    from annotator.services import member_add, project_create

    call_command("migrate", verbosity=0)
    model = get_user_model()
    password = make_password(None)
    manager = model.objects.create(username="bench-manager", password=password)
    coders = [model.objects.create(username=name, password=password) for name in CODERS]
    for key in ("small", "large"):
        project = project_create(name=f"IO bench {key}", created_by=manager)
        for coder in coders:
            member_add(project=project, user=coder, role=Role.CODER)
    return {}


class _ServerCpu:
    """CPU seconds of the PostgreSQL backends serving the bench database while the block
    runs (the import's writer has a connection of its own), sampled from /proc ten times a
    second; beside the process's own CPU, the database's share of the work."""

    def __enter__(self) -> _ServerCpu:
        from django.db import connection

        from bench.cpu import CpuMeter

        name = connection.settings_dict["NAME"]
        self.meter = CpuMeter(master_pid=-1, database=name, interval=0.1).__enter__()
        self.before = self.meter.snapshot()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc) -> None:
        after = self.meter.snapshot()
        self.meter.__exit__(*exc)
        self.seconds = self.meter.usage(self.before, after, 1.0).db_s


def _profiled(profile: bool, call):
    if not profile:
        return call()
    import cProfile
    import pstats

    # CPU time, not wall time: a busy machine would blur a wall-clock profile.
    profiler = cProfile.Profile(time.process_time)
    result = profiler.runcall(call)
    stats = pstats.Stats(profiler, stream=sys.stderr)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(20)
    return result


def _import(key: str, path: str, profile: bool) -> dict:
    from annotator.models import Project
    from annotator.services.imports import documents_import

    project = Project.objects.get(name=f"IO bench {key}")
    manager = project.memberships.get(role="manager").user
    baseline = _rss_kib()
    cpu = _cpu()
    began = time.perf_counter()
    with _ServerCpu() as server:
        result = _profiled(
            profile,
            lambda: documents_import(
                project=project,
                user=manager,
                source=path,
                format="documents-jsonl",
                options={},
                size_limit=False,  # as the command reads it: 210 MB is over the upload limit
            ),
        )
        seconds = time.perf_counter() - began
    if not result.written:
        raise SystemExit(f"the import failed: {result.errors[:5]}")
    return {
        "documents": result.summary.documents_created,
        "seconds": seconds,
        "cpu_seconds": _cpu() - cpu,
        "server_cpu_seconds": server.seconds,
        "baseline_rss_kib": baseline,
        "peak_rss_kib": _rss_kib(),
    }


def _spans() -> dict:
    """SPANS_PER_CODER spans per coder and document over distinct words, with COPY (the
    triggers check each quote), and a claimed_by link per coder and document."""
    from django.db import connection, transaction

    from annotator.models import Document, Label, Project, RelationType
    from bench.texts import spread, words

    began = time.perf_counter()
    project = Project.objects.get(name="IO bench large")
    coders = list(project.memberships.filter(role="coder").values_list("user_id", flat=True))
    labels = dict(Label.objects.filter(project=project).values_list("name", "id"))
    claimed_by = RelationType.objects.get(project=project, name="claimed_by").pk
    cycle = ["ACTOR", "LOCATION", "DATE", "SOURCE", "CASUALTY"]
    columns = (
        'document_id, coder_id, label_id, start, "end", text, attributes, version, '
        "codebook_version, created, updated"
    )
    rng = random.Random(7)
    with transaction.atomic():
        cursor = connection.cursor().cursor
        now = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime())
        documents = Document.objects.filter(project=project).order_by("id")
        last = 0
        # A chunk of documents, then one COPY for their spans: the connection cannot read
        # while a COPY is in progress.
        while chunk := list(documents.filter(id__gt=last).values_list("id", "text")[:2_000]):
            last = chunk[-1][0]
            with cursor.copy(f"COPY annotator_annotation ({columns}) FROM STDIN") as copy:
                for document_id, text in chunk:
                    chosen = spread(words(text), SPANS_PER_CODER * len(coders), offset=1)
                    for c, coder_id in enumerate(coders):
                        for k, word in enumerate(chosen[c :: len(coders)]):
                            label = cycle[k % len(cycle)]
                            attributes = (
                                {"outcome": "killed", "best": rng.randint(1, 50)}
                                if label == "CASUALTY"
                                else {}
                            )
                            copy.write_row(
                                (
                                    document_id,
                                    coder_id,
                                    labels[label],
                                    word.start,
                                    word.end,
                                    word.text,
                                    json.dumps(attributes),
                                    1,
                                    1,
                                    now,
                                    now,
                                )
                            )
        cursor.execute(
            """
            INSERT INTO annotator_relation (document_id, coder_id, type_id, source_id, target_id, created)
            SELECT c.document_id, c.coder_id, %s, c.id, s.first_id, now()
              FROM (SELECT document_id, coder_id, min(id) AS id FROM annotator_annotation
                     WHERE label_id = %s GROUP BY document_id, coder_id) c
              JOIN (SELECT document_id, coder_id, min(id) AS first_id FROM annotator_annotation
                     WHERE label_id = %s GROUP BY document_id, coder_id) s
                USING (document_id, coder_id)
            """,
            (claimed_by, labels["CASUALTY"], labels["SOURCE"]),
        )
    with connection.cursor() as c:
        c.execute("ANALYZE")
    return {"seconds": time.perf_counter() - began}


def _export(path: str, profile: bool) -> dict:
    from annotator.models import Annotation, Project
    from annotator.services.exports import documents_export

    project = Project.objects.get(name="IO bench large")
    spans = Annotation.objects.filter(document__project=project).count()
    baseline = _rss_kib()
    cpu = _cpu()
    began = time.perf_counter()

    def export() -> int:
        job = documents_export(project=project, format="jsonl", layer="all")
        with open(path, "wb") as out:
            for chunk in job.chunks():
                out.write(chunk)
        return job.documents_written

    with _ServerCpu() as server:
        documents = _profiled(profile, export)
        seconds = time.perf_counter() - began
        cpu = _cpu() - cpu
    size = Path(path).stat().st_size
    with open(path, encoding="utf-8") as written:
        exported_spans = sum(len(json.loads(line)["spans"]) for line in written)
    if exported_spans != spans:
        raise SystemExit(f"exported {exported_spans:,} spans of {spans:,}")
    return {
        "documents": documents,
        "spans": exported_spans,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "server_cpu_seconds": server.seconds,
        "mib": size / 2**20,
        "baseline_rss_kib": baseline,
        "peak_rss_kib": _rss_kib(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imports_exports", description=__doc__)
    parser.add_argument("--small", type=int, default=SMALL)
    parser.add_argument("--large", type=int, default=LARGE)
    parser.add_argument("--profile", action="store_true", help="cProfile each timed step (stderr)")
    parser.add_argument(
        "--step", choices=("setup", "import", "spans", "export"), help=argparse.SUPPRESS
    )
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.step is None:
        run(options.small, options.large, options.profile)
        return 0
    import django

    django.setup()
    if options.step == "setup":
        result = _setup()
    elif options.step == "import":
        result = _import(options.args[0], options.args[1], options.args[2] == "1")
    elif options.step == "spans":
        result = _spans()
    else:
        result = _export(options.args[0], options.args[1] == "1")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
