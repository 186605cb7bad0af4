"""The malloc arena cap the CRM sets at startup (core/memory.py)."""

from __future__ import annotations

from crm_backend.core.memory import limit_malloc_arenas


def test_zero_keeps_glibc_default() -> None:
    assert limit_malloc_arenas(0) is False


def test_glibc_takes_the_cap() -> None:
    # mallopt returns 1 on success: the CRM's default of 2 arenas is accepted on this glibc.
    assert limit_malloc_arenas(2) is True
