"""Conversation tests share the handoff tests' fake Rasa and per-test bus/limiter state."""

from crm_backend.tests.handoff.fixtures import fresh_state, rasa

__all__ = ["fresh_state", "rasa"]
