"""One episode's database on the shared MySQL server, and statement execution with upstream's semantics.

Each episode gets its own database and its own user, who holds privileges on that database only (so no FILE, no
PROCESS, no view of other databases). The agent's SQL runs as that user on a fresh connection per statement, as
upstream reconnects before every statement, under a statement time limit (the server's own, plus a watchdog that
kills the connection) and a cap on the rows fetched. Observations follow AgentBench.old's container code with
mysql-connector's C extension: ``str(rows)``, ``[]`` for statements without rows, ``str(error)`` on failure, and
"Commands out of sync" (with the transaction rolled back) when the text held more than one statement.
"""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from typing import Any

import mysql.connector

from harness.services import stale_owner_records, write_owner_record

from . import data as D

OUT_OF_SYNC = "Commands out of sync; you can't run this command now"
RECORD_KIND = "mysql-episode"


class ServerLost(RuntimeError):
    """The MySQL server stopped answering during an episode: an infrastructure failure (the episode is an error,
    never an outcome scored 0)."""


def _client_side(exc: Exception) -> bool:
    """Client errors (CR_*, 2000-2999: can't connect, lost connection, server gone away) rather than the server's
    answer to a statement."""
    errno = getattr(exc, "errno", None)
    return isinstance(exc, mysql.connector.Error) and (errno is None or errno < 0 or 2000 <= errno < 3000)


def server_answers(info: dict[str, Any], timeout: float = 5.0) -> bool:
    """Whether a fresh admin connection gets an answer from the server."""
    try:
        cnx = connect(info, timeout=timeout)
    except mysql.connector.Error:
        return False
    try:
        cur = cnx.cursor()
        cur.execute("SELECT 1")
        cur.fetchall()
        return True
    except mysql.connector.Error:
        return False
    finally:
        try:
            cnx.close()
        except Exception:  # noqa: BLE001 - closing a dead connection
            pass


@dataclass(frozen=True)
class Limits:
    statement_seconds: float = 10.0  # server-side time limit per statement
    watchdog_grace: float = 5.0  # the connection is killed this long after the limit if the server did not stop it
    max_rows: int = 1000  # rows fetched per statement: the observation shows 800 characters, ~6 per row at least
    max_user_connections: int = 4


def connect(info: dict[str, Any], user: str | None = None, password: str | None = None,
            database: str | None = None, timeout: float = 30.0):
    return mysql.connector.connect(
        host=info["host"], port=int(info["port"]), user=user or info["user"],
        password=info["password"] if password is None else password, database=database, use_pure=True,
        autocommit=False, charset="utf8mb4", connection_timeout=timeout)


def _as_upstream(rows: list[Any]) -> list[Any]:
    """Binary values as upstream's C-extension client returns them (bytearray; the pure-Python client gives bytes)."""
    if not any(isinstance(v, bytes) for row in rows for v in row):
        return rows
    return [tuple(bytearray(v) if isinstance(v, bytes) else v for v in row) for row in rows]


def _error_text(exc: Exception) -> str:
    """str(error) as the client prints it; MariaDB's wording of the syntax-error hint is made MySQL's again."""
    return str(exc).replace("MariaDB server version", "MySQL server version")


class EpisodeDatabase:
    """Create, use and drop one episode's database. Not thread-safe: one per env instance."""

    def __init__(self, info: dict[str, Any], limits: Limits | None = None) -> None:
        self.info = info
        self.limits = limits or Limits()
        self.flavor = info.get("flavor", "mariadb")
        self._admin = None
        self.db: str | None = None
        self.user: str | None = None
        self._password: str | None = None
        self._record = None

    def _lost(self, exc: Exception) -> ServerLost:
        return ServerLost(f"MySQL server {self.info['host']}:{self.info['port']} stopped answering: "
                          f"{' '.join(str(exc).split())[:200]}")

    def _check_server(self, exc: Exception) -> None:
        """Raise :class:`ServerLost` when ``exc`` is a lost connection and the server does not answer any more;
        return when the error is the statement's own (the agent sees it, as upstream)."""
        if _client_side(exc) and not server_answers(self.info):
            raise self._lost(exc) from exc

    # --- admin side ----------------------------------------------------------------------------------------------
    def _admin_cursor(self):
        if self._admin is None or not self._admin.is_connected():
            self._admin = connect(self.info)
            self._admin.autocommit = True
        return self._admin.cursor()

    def _admin_run(self, *statements: str) -> None:
        cur = self._admin_cursor()
        try:
            for sql in statements:
                cur.execute(sql)
                if cur.with_rows:
                    cur.fetchall()
        finally:
            cur.close()

    def create(self, record: dict[str, Any]) -> str | None:
        """Make the database, the user and the table (as upstream). Returns upstream's setup failure, if any."""
        token = secrets.token_hex(6)
        self.db, self.user, self._password = f"hdb_{token}", f"hu_{token}", secrets.token_hex(16)
        self._record = write_owner_record(RECORD_KIND, {"host": self.info["host"], "port": self.info["port"],
                                                        "db": self.db, "user": self.user,
                                                        "external": bool(self.info.get("external"))})
        try:
            self._admin_run(
                f"CREATE DATABASE `{self.db}`",
                f"CREATE USER '{self.user}'@'%' IDENTIFIED BY '{self._password}' "
                f"WITH MAX_USER_CONNECTIONS {self.limits.max_user_connections}",
                f"GRANT ALL PRIVILEGES ON `{self.db}`.* TO '{self.user}'@'%'",
            )
            cnx = connect(self.info, database=self.db)
        except mysql.connector.Error as exc:
            if _client_side(exc):
                raise self._lost(exc) from exc
            raise
        # Upstream sends CREATE TABLE and the bulk INSERT as one script that stops at the first error: two std
        # records have duplicate column names (no table) and two have short rows (an empty table).
        try:
            cur = cnx.cursor()
            for sql in (D.create_table_sql(record), D.insert_rows_sql(record)):
                if sql is None:
                    continue
                try:
                    cur.execute(sql)
                except mysql.connector.Error as exc:
                    if _client_side(exc):  # the table's own failure is upstream's; a lost server is not
                        raise self._lost(exc) from exc
                    cnx.rollback()
                    return _error_text(exc)
            cnx.commit()
        except mysql.connector.Error as exc:
            raise self._lost(exc) from exc
        finally:
            try:
                cnx.close()
            except Exception:  # noqa: BLE001 - closing a dead connection
                pass
        return None

    def drop(self) -> None:
        """Drop the episode's database and user. When the server does not answer, the owner record stays, so that the
        next start drops them (an external server) or forgets them (an ephemeral server took them along)."""
        if self.db is None:
            return
        try:
            self._kill_user_connections()
            self._admin_run(f"DROP DATABASE IF EXISTS `{self.db}`", f"DROP USER IF EXISTS '{self.user}'@'%'")
            if self._record is not None:
                self._record.unlink(missing_ok=True)
        finally:
            self.db = self.user = self._password = self._record = None

    def close(self) -> None:
        try:
            self.drop()
        finally:
            if self._admin is not None:
                try:
                    self._admin.close()
                except Exception:  # noqa: BLE001 - closing a dead connection
                    pass
                self._admin = None

    def _kill_user_connections(self) -> None:
        cur = self._admin_cursor()
        try:
            cur.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = %s", (self.user,))
            ids = [row[0] for row in cur.fetchall()]
            for conn_id in ids:
                try:
                    cur.execute(f"KILL CONNECTION {int(conn_id)}")
                except mysql.connector.Error:
                    pass  # it ended meanwhile
        finally:
            cur.close()

    def _kill(self, conn_id: int) -> None:
        """From another thread: a fresh admin connection kills the agent's connection."""
        try:
            cnx = connect(self.info, timeout=10)
            try:
                cnx.cursor().execute(f"KILL CONNECTION {int(conn_id)}")
            finally:
                cnx.close()
        except mysql.connector.Error:
            pass

    # --- the agent's statements ----------------------------------------------------------------------------------
    def execute(self, sql: str) -> str:
        """Run the agent's SQL as the episode user; the observation text before truncation."""
        if not sql.strip():
            return "[]"  # upstream's client answers an empty statement with no rows
        try:
            cnx = connect(self.info, self.user, self._password, self.db,
                          timeout=self.limits.statement_seconds + self.limits.watchdog_grace + 10)
        except mysql.connector.Error as exc:
            self._check_server(exc)
            return _error_text(exc)
        watchdog = threading.Timer(self.limits.statement_seconds + self.limits.watchdog_grace,
                                   self._kill, args=(cnx.connection_id,))
        watchdog.daemon = True
        try:
            cur = cnx.cursor()
            self._set_limits(cur)
            watchdog.start()
            return self._run(cnx, cur, sql)
        except mysql.connector.Error as exc:
            # a connection lost because the watchdog killed it is the statement's outcome; a dead server is not
            self._check_server(exc)
            return _error_text(exc)
        finally:
            watchdog.cancel()
            try:
                cnx.close()
            except Exception:  # noqa: BLE001 - a killed connection cannot close cleanly
                pass

    def _set_limits(self, cur) -> None:
        seconds = self.limits.statement_seconds
        if self.flavor == "mariadb":
            cur.execute(f"SET SESSION max_statement_time = {seconds:g}")
        else:  # MySQL 8 limits SELECTs only; the watchdog covers the rest
            cur.execute(f"SET SESSION max_execution_time = {int(seconds * 1000)}")

    def _run(self, cnx, cur, sql: str) -> str:
        cur.execute(sql)
        rows: list[Any] = []
        if cur.with_rows:
            rows = cur.fetchmany(self.limits.max_rows + 1)
            if len(rows) > self.limits.max_rows:
                # Too many rows: stop the server sending them. str(rows) is already far past the 800 shown chars.
                self._kill(cnx.connection_id)
                return str(_as_upstream(rows))
            rows += cur.fetchall()
        if self._more_results(cur):
            try:
                cnx.rollback()
            except mysql.connector.Error:
                pass
            return OUT_OF_SYNC
        cnx.commit()
        return str(_as_upstream(rows))

    @staticmethod
    def _more_results(cur) -> bool:
        """Whether the text held further statements (upstream's commit then fails); drains them."""
        more = False
        while True:
            try:
                if not cur.nextset():
                    return more
                if cur.with_rows:
                    cur.fetchall()
            except mysql.connector.Error:
                return True  # a later statement failed (the server stops there) or the connection was killed
            more = True

    def table_hash(self, record: dict[str, Any]) -> str:
        """Upstream's MD5 of the table, as the string the judge compares with ``answer_md5``."""
        try:
            cnx = connect(self.info, database=self.db)
        except mysql.connector.Error as exc:
            if _client_side(exc):
                raise self._lost(exc) from exc
            return _error_text(exc)
        try:
            cur = cnx.cursor()
            cur.execute("SET SESSION group_concat_max_len = 1024")  # MySQL's default, which the hashes assume
            cur.execute(D.table_hash_sql(record))
            return str(cur.fetchall())
        except mysql.connector.Error as exc:
            if _client_side(exc):  # the judge's own query lost its server: no verdict
                raise self._lost(exc) from exc
            return _error_text(exc)  # e.g. no such table (upstream could not create it): a wrong answer
        finally:
            try:
                cnx.close()
            except Exception:  # noqa: BLE001 - closing a dead connection
                pass


def drop_stale(info: dict[str, Any]) -> int:
    """Drop databases and users that crashed runs left on this server (owner records); returns how many."""
    found = 0
    for path, rec in stale_owner_records(RECORD_KIND):
        if not rec.get("external"):  # an ephemeral server dies with its owner, and its databases with it
            path.unlink(missing_ok=True)
            continue
        if (rec.get("host"), int(rec.get("port", 0))) != (info["host"], int(info["port"])):
            continue
        found += 1
        try:
            cnx = connect(info, timeout=10)
            try:
                cur = cnx.cursor()
                cur.execute(f"DROP DATABASE IF EXISTS `{rec['db']}`")
                cur.execute(f"DROP USER IF EXISTS '{rec['user']}'@'%'")
            finally:
                cnx.close()
        except mysql.connector.Error:
            continue
        path.unlink(missing_ok=True)
    return found


__all__ = ["EpisodeDatabase", "Limits", "OUT_OF_SYNC", "ServerLost", "connect", "drop_stale", "server_answers"]
