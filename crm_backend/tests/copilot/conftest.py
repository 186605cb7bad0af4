"""Same per-test state as the handoff tests (fresh bus and rate limiter, agents offline)."""

from crm_backend.tests.handoff.fixtures import fresh_state, rasa

__all__ = ["fresh_state", "rasa"]
