"""Fixtures of the handoff tests (shared with console and dashboard: see fixtures.py)."""

from crm_backend.tests.handoff.fixtures import fresh_state, rasa

__all__ = ["fresh_state", "rasa"]
