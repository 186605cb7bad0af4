"""`python -m crm_backend.cli migrate|seed|register-model|expire-points|review-tiers` (from the repo root).

`./kefu run` calls `migrate`, `seed`, then `register-model` with the model it trained from data/.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.core.config import get_settings
from crm_backend.core.db import get_sessionmaker, write_unit
from crm_backend.customer.models import Customer
from crm_backend.demo.generator import SEED, generate
from crm_backend.demo.service_history import generate as generate_service_history
from crm_backend.knowledge.demo_seed import load_demo
from crm_backend.playbook.demo import seed_history
from crm_backend.points.service import expire_all
from crm_backend.rollout.service import register_repo_model
from crm_backend.scoring.service import rescore_all
from crm_backend.tier.service import review_all

ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"


def alembic_config(url: str | None = None) -> Config:
    """Alembic config for crm_backend/alembic; `url` overrides DATABASE_URL."""
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(ALEMBIC_INI.parent / "alembic"))
    if url:
        config.attributes["url"] = url
    return config


def migrate(url: str | None = None) -> None:
    """Upgrade the database to the newest revision."""
    command.upgrade(alembic_config(url), "head")


def run_seed_hooks(session: Session, *, rng: random.Random) -> list[str]:
    """Service history (tickets, surveys, interactions) and scores."""
    customers = list(session.scalars(select(Customer).order_by(Customer.id)))
    generate_service_history(session, rng=rng, customers=customers)
    session.flush()
    notes = [load_demo(session), f"{rescore_all(session):,} customers scored"]
    notes.append(seed_history(session, rng=rng))
    return notes


def seed(*, generated: int = 2000) -> str:
    """Load the demo dataset when the customers table is empty; return the one-line summary."""
    started = time.monotonic()
    with get_sessionmaker()() as session:
        existing = session.scalar(select(func.count()).select_from(Customer)) or 0
        if existing:
            return f"demo data: {existing:,} customers already present, nothing loaded"
        counts = generate(session, generated=generated)
        session.commit()
        notes = run_seed_hooks(session, rng=random.Random(SEED + 1))
        session.commit()
    extra = "; ".join(notes)
    return (f"demo data: {counts['customers']:,} customers, {counts['orders']:,} orders, "
            f"{counts['points_entries']:,} points entries loaded in {time.monotonic() - started:.1f} s"
            + (f" ({extra})" if extra else ""))


def wait_for_file(path: Path, seconds: float, *, poll: float = 5.0) -> None:
    """Until `path` exists and its size has held still for `poll` s, at most `seconds` (0: not at all)."""
    deadline, last = time.monotonic() + seconds, -1
    while time.monotonic() < deadline:
        size = path.stat().st_size if path.is_file() else -1
        if size >= 0 and size == last:
            return
        last = size
        time.sleep(poll)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crm_backend.cli", description="Kefu CRM maintenance commands")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply Alembic migrations (alembic upgrade head)")
    seed_parser = sub.add_parser("seed", help="load the demo data if the database is empty")
    seed_parser.add_argument("--customers", type=int, default=2000, help="generated customers (besides the 5 named)")
    sub.add_parser("expire-points", help="expire points older than 12 months")
    sub.add_parser("review-tiers", help="periodic tier review (upgrades and one-step downgrades)")
    sub.add_parser("seed-knowledge", help="load the demo help articles if the knowledge base is empty")
    register = sub.add_parser("register-model", help="store the model trained from data/ and serve it if it is new")
    register.add_argument("path", type=Path)
    register.add_argument("--fingerprint", required=True)
    register.add_argument("--wait", type=float, default=0.0,
                          help="seconds to wait for the file (a training job still writing it)")
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.command == "migrate":
        migrate()
        print(f"migrations applied ({settings.database_url.split('@')[-1]})")
    elif args.command == "seed":
        print(seed(generated=args.customers))
    elif args.command == "expire-points":
        with write_unit() as session:
            expired = expire_all(session)
        print(f"expired {expired:,} points")
    elif args.command == "review-tiers":
        with write_unit() as session:
            changed = review_all(session)
        print(f"{changed:,} tier changes")
    elif args.command == "seed-knowledge":
        with write_unit() as session:
            print(load_demo(session))
    elif args.command == "register-model":
        wait_for_file(args.path, args.wait)
        with write_unit() as session:
            version, deployed = register_repo_model(session, path=args.path, fingerprint=args.fingerprint)
        print(f"model version {version.id} " + ("now serving (new data/)" if deployed else
                                                 "already known; the serving model is unchanged"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
