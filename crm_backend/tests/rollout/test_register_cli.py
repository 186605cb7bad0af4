"""`crm_backend.cli register-model --wait`: a training job may still be writing the file."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from crm_backend.cli import wait_for_file


def test_waits_for_the_file_to_appear_and_stop_growing(tmp_path: Path) -> None:
    path = tmp_path / "kefu.tar.gz"
    finished = threading.Event()

    def write() -> None:
        time.sleep(0.3)
        with path.open("wb") as out:
            for _ in range(10):
                out.write(b"x" * 1000)
                out.flush()
                time.sleep(0.05)
        finished.set()

    writer = threading.Thread(target=write)
    writer.start()
    wait_for_file(path, 10, poll=0.3)
    assert finished.is_set() and path.stat().st_size == 10_000  # not before the writer was done
    writer.join()


def test_gives_up_after_the_deadline(tmp_path: Path) -> None:
    started = time.monotonic()
    wait_for_file(tmp_path / "never.tar.gz", 0.3, poll=0.1)
    assert time.monotonic() - started < 2
