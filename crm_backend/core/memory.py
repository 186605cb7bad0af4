"""Bound glibc's malloc arenas in the CRM process.

The CRM runs its synchronous database work on a thread pool of 20–40 threads; glibc gives busy threads
arenas of their own (up to 8 per core), and freed memory scattered over many arenas is seldom returned, so
the process's RSS crept up by about 2.5 MB a minute in the 30-minute soak while the Python heap stayed
flat (docs/notes/operations.md). Fewer arenas trade a little lock contention for memory that is reused.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

M_ARENA_MAX = -8  # from glibc's malloc.h

logger = logging.getLogger(__name__)


def limit_malloc_arenas(arenas: int) -> bool:
    """Cap glibc's malloc arenas at `arenas` for threads that start from now on; False where it cannot.

    0 leaves glibc's default. Not glibc (musl, macOS): nothing to do, False.
    """
    if arenas <= 0:
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = getattr(libc, "mallopt", None)
    except OSError:
        mallopt = None
    if mallopt is None:
        logger.info("malloc arenas left as they are: this C library has no mallopt")
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))
