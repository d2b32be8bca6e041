"""A small SQLite table helper shared by the feedback store and the audit trail."""

from __future__ import annotations

import csv
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class SQLiteTable:
    """One table in one SQLite file; thread-safe writes; CSV export."""

    table: str = ""
    schema: str = ""
    columns: Sequence[str] = ()

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(self.schema)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:
                yield db
        finally:
            db.close()

    def insert(self, row: Sequence[Any]) -> int:
        """Insert the values of every column but ``id``; returns the new id."""
        names = [c for c in self.columns if c != "id"]
        sql = (
            f"INSERT INTO {self.table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        )
        with self._lock, self._connect() as db:
            return int(db.execute(sql, tuple(row)).lastrowid or 0)

    def rows(self) -> list[dict[str, Any]]:
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute(f"SELECT * FROM {self.table} ORDER BY id")]

    def export_csv(self, target: Path) -> int:
        """Write every row to ``target`` (UTF-8 with BOM, for spreadsheets); returns the count.
        Text cells a spreadsheet would run as a formula are neutralised."""
        rows = [{k: csv_safe(v) for k, v in row.items()} for row in self.rows()]
        with target.open("w", newline="", encoding="utf-8-sig") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(self.columns))
            writer.writeheader()
            writer.writerows(rows)
        return len(rows)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """A text cell starting like a formula gets a leading apostrophe (OWASP, CSV injection):
    the spreadsheet shows the text instead of running it."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
