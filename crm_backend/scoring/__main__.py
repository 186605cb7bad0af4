"""`python -m crm_backend.scoring`: rescore every customer now (e.g. nightly) and print the segment counts."""

import time

from crm_backend.core.db import write_unit
from crm_backend.scoring.service import rescore_all, segment_counts


def main() -> None:
    """Rescore all customers of DATABASE_URL in one transaction."""
    started = time.perf_counter()
    with write_unit() as session:
        scored = rescore_all(session)
    with write_unit() as session:
        counts = segment_counts(session)
    print(f"{scored:,} customers rescored in {time.perf_counter() - started:.1f} s; segments: {counts}")


if __name__ == "__main__":
    main()
