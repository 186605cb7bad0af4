"""The last stage of `./kefu test`: no test database of this run may be left on the PostgreSQL server.

    .venvs/crm/bin/python -m scripts.kefu_cli.leftovers snapshot FILE     # before the first stage
    .venvs/crm/bin/python -m scripts.kefu_cli.leftovers check LEDGER FILE # after the last one

Runs in the CRM environment (psycopg), against the server of TEST_DATABASE_URL. Which databases belong
to this run: every name in LEDGER (testing/services.py writes each database it creates there), and, when
KEFU_TEST_NAMESPACE is set, every `kefu_test*`/`kefu_e2e*`/`kefu_bench*` database with that suffix that
appeared during the run. Other developers' databases (other suffixes) are never touched. Leftovers are
dropped, so the next run starts clean, and the stage fails naming them.
"""

from __future__ import annotations

import os
import sys
import urllib.parse
from pathlib import Path

import psycopg
from psycopg import sql

PREFIXES = ("kefu_test", "kefu_e2e", "kefu_bench")
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def server_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_SERVER)
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(scheme="postgresql"))


def test_databases(conn: psycopg.Connection) -> set[str]:
    names = conn.execute("SELECT datname FROM pg_database").fetchall()
    return {name for (name,) in names if name.startswith(PREFIXES)}


def ours(name: str) -> bool:
    namespace = os.environ.get("KEFU_TEST_NAMESPACE", "")
    return bool(namespace) and name.endswith(f"_{namespace}")


def snapshot(out: Path) -> int:
    with psycopg.connect(server_url(), autocommit=True, connect_timeout=5) as conn:
        out.write_text("".join(f"{name}\n" for name in sorted(test_databases(conn))))
    return 0


def check(ledger: Path, before_file: Path) -> int:
    recorded = set(ledger.read_text().split()) if ledger.exists() else set()
    before = set(before_file.read_text().split()) if before_file.exists() else set()
    with psycopg.connect(server_url(), autocommit=True, connect_timeout=5) as conn:
        now = test_databases(conn)
        left = sorted((recorded & now) | {name for name in now - before if ours(name)})
        for name in left:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    print(f"test databases created by this run: {len(recorded)}; left behind: {len(left)}")
    if left:
        print(f"FAIL: the tests left {', '.join(left)} on the server (now dropped) — the test that created "
              "them must create them with tests.services.fresh_database_url, which drops them at exit")
        return 1
    return 0


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "snapshot":
        sys.exit(snapshot(Path(sys.argv[2])))
    sys.exit(check(Path(sys.argv[2]), Path(sys.argv[3])))
