"""One table of the records database: insert, read back in order, export as CSV; and the
columns both tables take from an answer."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, insert, select

from assistant.contract import Answer
from assistant.records.database import Database


class RecordTable:
    """A table of :class:`Database` (feedback or audit)."""

    name: str = ""

    def __init__(self, db: Database, name: str | None = None) -> None:
        self.db = db
        self.table: Table = db.table(name or self.name)

    @property
    def columns(self) -> list[str]:
        return [c.name for c in self.table.columns]

    def insert(self, row: Mapping[str, Any]) -> int:
        """Insert one row (every column but ``id``); returns its new id."""
        with self.db.engine.begin() as connection:
            result = connection.execute(insert(self.table).values(**row))
            return int(result.inserted_primary_key[0])

    def rows(self) -> list[dict[str, Any]]:
        with self.db.engine.connect() as connection:
            result = connection.execute(select(self.table).order_by(self.table.c.id))
            return [dict(r._mapping) for r in result]

    def delete_before(self, created_at: str) -> int:
        """Delete the rows created before ``created_at`` (ISO 8601, UTC); returns how many."""
        with self.db.engine.begin() as connection:
            statement = delete(self.table).where(self.table.c.created_at < created_at)
            return int(connection.execute(statement).rowcount or 0)

    def export_csv(self, target: Path) -> int:
        """Write every row to ``target`` (UTF-8 with BOM, for spreadsheets); returns the count.
        Text cells a spreadsheet would run as a formula are neutralised."""
        rows = [{k: csv_safe(v) for k, v in row.items()} for row in self.rows()]
        with target.open("w", newline="", encoding="utf-8-sig") as fh:
            writer = csv.DictWriter(fh, fieldnames=self.columns)
            writer.writeheader()
            writer.writerows(rows)
        return len(rows)


def sources_of(answer: Answer) -> str:
    """The cited sources of an answer, as compact JSON."""
    keys = {"n", "doc_id", "title", "url", "page", "section"}
    return json.dumps(
        [c.model_dump(mode="json", include=keys) for c in answer.citations], ensure_ascii=False
    )


def grounding_score(answer: Answer) -> float:
    """The share of the answer's sentences supported by their source (as in its JSON)."""
    return round(answer.grounding.score, 4)


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """A text cell starting like a formula gets a leading apostrophe (OWASP, CSV injection):
    the spreadsheet shows the text instead of running it."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
