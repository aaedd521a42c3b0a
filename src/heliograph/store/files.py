"""The sandbox's files readable by their owner only: the data directory 0700, the database and its
WAL and shared-memory files 0600. They hold every organization's signing seed and the API key hashes."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

logger = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600


def _tighten(path: Path, mode: int) -> None:
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if current & ~mode:
        path.chmod(mode)
        logger.warning(
            "tightened permissions",
            extra={"action": "tighten_permissions", "path": str(path), "was": oct(current), "now": oct(mode)},
        )


def secure(data_dir: Path, database_path: str | None) -> None:
    """Create the data directory (0700) and the database file (0600) if missing, and tighten them if
    they are looser. SQLite gives the WAL and shared-memory files the database file's mode when it
    creates them; ones left from before are tightened here too."""
    data_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(data_dir, DIR_MODE)
    if not database_path or database_path.startswith(":memory:"):
        return
    database = Path(database_path)
    if database.parent.is_dir() and not database.exists():
        os.close(os.open(database, os.O_CREAT | os.O_WRONLY, FILE_MODE))  # an empty file is a new database
    for suffix in ("", "-wal", "-shm", "-journal"):
        _tighten(Path(database_path + suffix), FILE_MODE)
    for extra in (database_path + ".writelock", database_path + ".writeintent"):
        _tighten(Path(extra), FILE_MODE)
