"""Tell why a PostgreSQL database cannot be used, and create it when only the database is missing.

    .venvs/crm/bin/python -m scripts.kefu_cli.dbprobe DATABASE_URL

Runs in the CRM environment (psycopg). Prints one word on stdout: ok, created, unreachable, auth, missing
(and could not create it); the server's own message goes to stderr. Exit status 0 for all of them.
"""

from __future__ import annotations

import re
import sys
import urllib.parse

import psycopg
from psycopg import sql

CONNECT_TIMEOUT_S = 5


# Connection failures carry no SQLSTATE in psycopg; the server's FATAL line (or libpq's) says what went wrong.
MISSING = re.compile(r'FATAL:\s+database "[^"]*" does not exist')
AUTH = re.compile(r'FATAL:\s+(role "[^"]*" does not exist|password authentication failed|no pg_hba\.conf entry'
                  r'|.*authentication failed)|no password supplied')


def classify(error: Exception) -> str:
    text = str(error)
    if MISSING.search(text):
        return "missing"
    if AUTH.search(text):
        return "auth"
    return "unreachable"


def libpq_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(scheme="postgresql"))


def create_database(url: str) -> str:
    """CREATE DATABASE through the server's `postgres` database with the same login."""
    parts = urllib.parse.urlsplit(url)
    name = urllib.parse.unquote(parts.path.lstrip("/"))
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.errors.DuplicateDatabase:
        return "ok"  # another process created it meanwhile
    except psycopg.Error as error:
        print(error, file=sys.stderr)
        return "missing"
    return "created"


def probe(url: str) -> str:
    target = libpq_url(url)
    try:
        psycopg.connect(target, connect_timeout=CONNECT_TIMEOUT_S).close()
    except psycopg.OperationalError as error:
        print(error, file=sys.stderr)
        outcome = classify(error)
        return create_database(target) if outcome == "missing" else outcome
    return "ok"


if __name__ == "__main__":
    print(probe(sys.argv[1]))
