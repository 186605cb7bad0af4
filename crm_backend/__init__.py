"""Kefu CRM backend (FastAPI + SQLAlchemy 2 + Alembic)."""
