"""The bench's own PostgreSQL database: dropped and created anew each run, dropped at the end.

Its URL comes from BENCH_DATABASE_URL, not DATABASE_URL: a DATABASE_URL set for development
or CI must never name a database the bench then drops. As a second guard the name must
contain "bench".
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/annotator_bench"
URL_ENV = "BENCH_DATABASE_URL"


def url() -> str:
    value = os.environ.get(URL_ENV) or DEFAULT_URL
    name = database_name(value)
    if "bench" not in name:
        raise SystemExit(
            f"{URL_ENV} names {name!r}: the bench drops its database, so its name must contain 'bench'"
        )
    return value


def database_name(database_url: str) -> str:
    return urlsplit(database_url).path.lstrip("/")


def _maintenance_url(database_url: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/postgres"))


def _admin(database_url: str) -> psycopg.Connection:
    return psycopg.connect(_maintenance_url(database_url), autocommit=True)


def recreate(database_url: str) -> None:
    name = sql.Identifier(database_name(database_url))
    with _admin(database_url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0").format(name))


def drop(database_url: str) -> None:
    name = sql.Identifier(database_name(database_url))
    with _admin(database_url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def server_facts(database_url: str) -> dict[str, str]:
    with _admin(database_url) as conn:
        return {
            name: conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()[0]
            for name in ("server_version", "synchronous_commit", "fsync", "shared_buffers")
        }
