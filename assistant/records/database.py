"""The records database: feedback, the audit trail and the ingest lock, shared by every
replica. SQLAlchemy over ``HAS_ASSISTANT_DATABASE_URL`` — PostgreSQL when several replicas
serve one index, a SQLite file in the data dir by default. The schema is Alembic's
(``assistant/records/migrations``), brought up to date when the database is first opened."""

from __future__ import annotations

import fcntl
import os
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import IO

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Connection,
    Engine,
    MetaData,
    Table,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from assistant.errors import AssistantError, ConfigError, optional_import

MIGRATIONS = Path(__file__).parent / "migrations"
WaitNotice = Callable[[str], None]  # told once who holds the lock an ingest waits for
#: PostgreSQL advisory lock keys (any 64-bit numbers, fixed for this application)
_MIGRATE_KEY, _INGEST_KEY = 7_316_201_501, 7_316_201_502


def holder_name() -> str:
    """Who holds a lock, as others see it: host and process."""
    return f"has-assistant@{socket.gethostname()}:{os.getpid()}"


class Database:
    """One engine per URL and process; the schema migrated once, under a lock."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        try:
            self.engine: Engine = _engine(url)
            self._migrate()
            # the tables as the migrations made them (their columns are written once, there)
            self.metadata = MetaData()
            self.metadata.reflect(self.engine, only=["feedback", "audit"])
        except SQLAlchemyError as exc:
            raise ConfigError(
                f"records database unreachable ({_public(url)}): {type(exc).__name__}: "
                f"{str(exc).splitlines()[0]}",
                "check HAS_ASSISTANT_DATABASE_URL and that the database server is running",
            ) from exc

    def table(self, name: str) -> Table:
        return self.metadata.tables[name]

    @property
    def sqlite_path(self) -> Path | None:
        database = self.engine.url.database
        return Path(database) if self.is_sqlite and database else None

    def _migrate(self) -> None:
        with self._migration_lock(), self.engine.begin() as connection:
            if not self.is_sqlite:
                connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATE_KEY})
            upgrade(connection)

    @contextmanager
    def _migration_lock(self) -> Iterator[None]:
        """Two replicas starting at once must not both create the tables: PostgreSQL takes
        an advisory lock in the migration's transaction; SQLite a lock on a file beside it."""
        path = self.sqlite_path
        if path is None:
            yield
            return
        try:
            with _file_lock(path.with_name(path.name + ".migrate.lock"), wait_s=120):
                yield
        except _Busy as busy:
            raise ConfigError(
                f"the records database is being migrated by {busy.holder} for over 2 minutes",
                "check that process, then start again",
            ) from None

    def ping(self) -> bool:
        """Is the database reachable now?"""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    @contextmanager
    def ingest_lock(self, wait_s: float, on_wait: WaitNotice | None = None) -> Iterator[None]:
        """Held while an ingest writes the index: a second ingest (another replica, another
        command) waits up to ``wait_s`` for it, then raises an error naming the holder. The
        lock dies with its process (PostgreSQL session lock, or an OS file lock)."""
        if self.sqlite_path is not None:
            path = self.sqlite_path.with_name(self.sqlite_path.name + ".ingest.lock")
            try:
                with _file_lock(path, wait_s, on_wait):
                    yield
            except _Busy as busy:
                raise IngestBusyError(busy.holder) from None
            return
        with self.engine.connect() as connection:
            connection.execute(
                text("SELECT set_config('application_name', :name, false)"),
                {"name": holder_name()},
            )
            connection.commit()
            try:
                _wait_for(
                    lambda: bool(
                        connection.execute(
                            text("SELECT pg_try_advisory_lock(:k)"), {"k": _INGEST_KEY}
                        ).scalar()
                    ),
                    lambda: self._ingest_holder(connection),
                    wait_s,
                    on_wait,
                    poll_s=0.5,
                )
            except _Busy as busy:
                raise IngestBusyError(busy.holder) from None
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _INGEST_KEY})
                connection.commit()

    @staticmethod
    def _ingest_holder(connection: Connection) -> str:
        row = connection.execute(
            text(
                "SELECT a.application_name, a.client_addr, a.backend_start FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
                "AND l.granted AND ((l.classid::bigint << 32) | l.objid::bigint) = :k"
            ),
            {"k": _INGEST_KEY},
        ).first()
        if row is None:
            return "another ingest"
        since = row.backend_start.isoformat(timespec="seconds") if row.backend_start else "?"
        return f"{row.application_name or 'another ingest'} ({row.client_addr or 'local'}, {since})"


class IngestBusyError(AssistantError):
    """Another ingest holds the lock for longer than this one may wait."""

    def __init__(self, holder: str) -> None:
        super().__init__(
            f"another ingest is running: {holder} / un autre import est en cours",
            "wait for it to finish, then run this ingest again "
            "(HAS_ASSISTANT_INGEST_LOCK_WAIT_S sets how long an ingest waits)",
        )


def upgrade(connection: Connection) -> None:
    """Bring the schema to Alembic's head on ``connection`` (inside its transaction)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


@cache
def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        if engine.url.database:
            Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)

        @event.listens_for(engine, "connect")
        def _wal(dbapi_connection, _record):  # readers do not block the writer
            dbapi_connection.execute("PRAGMA journal_mode=WAL")

        return engine
    if url.startswith("postgresql"):
        optional_import("psycopg", "a PostgreSQL records database", "postgres")
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


@cache
def database(url: str) -> Database:
    """The process's :class:`Database` for ``url`` (one engine, one migration)."""
    return Database(url)


class _Busy(Exception):
    """A lock still held by ``holder`` after the wait."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


def _wait_for(
    try_lock: Callable[[], bool],
    holder: Callable[[], str],
    wait_s: float,
    on_wait: WaitNotice | None,
    poll_s: float,
) -> None:
    """Try ``try_lock`` until it succeeds; tell ``on_wait`` once who holds the lock; raise
    :class:`_Busy` after ``wait_s``."""
    deadline, told = time.monotonic() + wait_s, False
    while not try_lock():
        who = holder()
        if time.monotonic() > deadline:
            raise _Busy(who)
        if on_wait and not told:
            on_wait(who)
            told = True
        time.sleep(poll_s)


@contextmanager
def _file_lock(path: Path, wait_s: float, on_wait: WaitNotice | None = None) -> Iterator[IO[str]]:
    """An exclusive OS lock on ``path`` (released when the process dies), its holder written
    in the file; waits up to ``wait_s``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as fh:

        def try_lock() -> bool:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                return False

        def holder() -> str:
            fh.seek(0)
            return fh.read().strip() or "another process"

        _wait_for(try_lock, holder, wait_s, on_wait, poll_s=0.2)
        fh.seek(0)
        fh.truncate()
        fh.write(f"{holder_name()} since {time.strftime('%Y-%m-%dT%H:%M:%S')}\n")
        fh.flush()
        try:
            yield fh
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)


def _public(url: str) -> str:
    """The URL without its password (never shown nor logged)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # a malformed URL: show only its scheme
        return url.split(":", 1)[0] + "://…"


LEGACY = ("feedback", "audit")  # the per-data-dir SQLite files of earlier versions


def import_legacy(db: Database, home: Path) -> list[str]:
    """Rows of an earlier version's ``feedback.sqlite3`` / ``audit.sqlite3`` in ``home``,
    copied once into ``db`` (when its table is still empty); each old file is then renamed
    ``*.imported``, never deleted. Returns the tables imported."""
    done = []
    for name in LEGACY:
        old = home / f"{name}.sqlite3"
        if not old.is_file():
            continue
        table = db.table(name)
        with db.engine.begin() as connection:
            if connection.execute(select(func.count()).select_from(table)).scalar():
                continue
            source = sqlite3.connect(old)
            source.row_factory = sqlite3.Row
            try:
                rows = [dict(r) for r in source.execute(f"SELECT * FROM {name} ORDER BY id")]
            finally:
                source.close()
            columns = {c.name for c in table.columns} - {"id"}
            if rows:
                connection.execute(
                    insert(table), [{k: v for k, v in r.items() if k in columns} for r in rows]
                )
        old.rename(old.with_name(old.name + ".imported"))
        done.append(name)
    return done


def open_records(url: str, home: Path) -> Database:
    """The records database of these settings; rows of an earlier version's SQLite files in
    the data dir are imported on first use."""
    db = database(url)
    import_legacy(db, home)
    return db
