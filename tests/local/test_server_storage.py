"""Which failures mean "the store cannot take this write" (507), and which stay a 500 for the log.

Each error here is made for real: SQLite filling a database capped with
max_page_count, writing to a read-only database file, the OS refusing a write.
The end-to-end cases (a full tmpfs, a file-size limit, read-only directories)
are in tests/proof/test_store_faults.py.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from speechgen_jupyter.local.storage import FULL, READ_ONLY, storage_problem


def test_sqlite_running_out_of_room_is_full(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "capped.db")
    conn.execute("CREATE TABLE t (x BLOB)")
    conn.execute("PRAGMA max_page_count = 4")
    with pytest.raises(sqlite3.Error) as caught:
        for _ in range(100):
            conn.execute("INSERT INTO t VALUES (?)", (b"\x00" * 4000,))
    assert storage_problem(caught.value) == FULL


def test_writing_a_read_only_database_is_read_only(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.commit()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    with pytest.raises(sqlite3.Error) as caught:
        conn.execute("INSERT INTO t VALUES (1)")
    assert storage_problem(caught.value) == READ_ONLY


@pytest.mark.parametrize(("number", "expected"), [(errno.ENOSPC, FULL), (errno.EFBIG, FULL), (errno.EDQUOT, FULL),
                                                   (errno.EROFS, READ_ONLY), (errno.EACCES, READ_ONLY)])
def test_the_os_refusing_a_write_is_a_storage_problem(number: int, expected: tuple[str, str]) -> None:
    assert storage_problem(OSError(number, "refused")) == expected


def test_other_failures_stay_bugs_to_see(tmp_path: Path) -> None:
    assert storage_problem(OSError(errno.ECONNRESET, "reset")) is None
    assert storage_problem(ValueError("x")) is None
    assert storage_problem(OSError(errno.EIO, "I/O error"), tmp_path) is None, "a healthy disk: a real I/O fault"
    with pytest.raises(sqlite3.Error) as caught:
        sqlite3.connect(":memory:").execute("SELECT * FROM missing")
    assert storage_problem(caught.value) is None
