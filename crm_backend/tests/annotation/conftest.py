"""Annotation tests share the handoff tests' per-test bus and login-limiter state."""

from crm_backend.tests.handoff.fixtures import fresh_state

__all__ = ["fresh_state"]
