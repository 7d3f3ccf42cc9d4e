"""MySQL service: an ephemeral MariaDB server per run, or an existing server named by ``HARNESS_MYSQL_URL``.

The ephemeral server comes from Debian's ``mariadb-server``: a fresh data directory under the runtime dir, a free
loopback port, an admin account with a random password created by ``--init-file``, and server settings that make
MariaDB behave like the MySQL 8 server AgentBench ran (MySQL 8's default sql_mode, ``group_concat_max_len`` 1024,
a NO PAD accent-insensitive utf8mb4 collation). The process runs as the unprivileged ``mysql`` user when the
harness is root, dies with the harness (parent-death signal) and is removed by ``cleanup_stale`` after a crash.

Connection info returned by ``start()``: ``host``, ``port``, ``user``, ``password``, ``flavor`` ("mariadb" or
"mysql"), ``external`` (True for HARNESS_MYSQL_URL).
"""
from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ..errors import UsageError
from . import ManagedProcess, Service, apt_install, free_port, wait_for_port

KIND = "mariadb"
# MySQL 8.0's default sql_mode (MariaDB's own default is laxer: no ONLY_FULL_GROUP_BY, no NO_ZERO_DATE).
MYSQL8_SQL_MODE = ("ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
                   "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION")
# Closest MariaDB 10.10+ collation to MySQL 8's utf8mb4_0900_ai_ci (UCA, accent/case-insensitive, NO PAD).
COLLATION = "utf8mb4_uca1400_nopad_ai_ci"
FALLBACK_COLLATION = "utf8mb4_general_ci"


def _binary(*names: str) -> str | None:
    for name in names:
        for base in ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"):
            if os.access(f"{base}/{name}", os.X_OK):
                return f"{base}/{name}"
        found = shutil.which(name)
        if found:
            return found
    return None


def redact(url: str) -> str:
    """The URL with its password replaced by ``***`` (for messages)."""
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    netloc = parsed.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return parsed._replace(netloc=f"{user}:***@{netloc[-1]}").geturl()


def parse_url(url: str) -> dict[str, Any]:
    """``mysql://user:password@host:port`` -> connection info (UsageError with one clear line when malformed)."""
    try:
        parsed = urlparse(url)
        port = parsed.port
    except ValueError:
        parsed, port = None, None
    if parsed is None or parsed.scheme not in ("mysql", "mariadb") or not parsed.hostname or not parsed.username:
        raise UsageError(f"HARNESS_MYSQL_URL must look like mysql://user:password@host:3306, got {redact(url)!r}")
    return {"host": parsed.hostname, "port": port or 3306, "user": unquote(parsed.username),
            "password": unquote(parsed.password or ""), "external": True}


class MariaDB(Service):
    name = "mysql"

    def __init__(self) -> None:
        self.process: ManagedProcess | None = None
        self.info: dict[str, Any] | None = None

    # --- install -------------------------------------------------------------------------------------------------
    @classmethod
    def install(cls) -> None:
        """Debian's MariaDB server and client (idempotent; nothing to do when HARNESS_MYSQL_URL is set)."""
        if os.environ.get("HARNESS_MYSQL_URL"):
            return
        apt_install(["mariadb-server", "mariadb-client"], check_binaries=["mariadbd", "mariadb-install-db"])

    # --- lifecycle -----------------------------------------------------------------------------------------------
    @classmethod
    def cleanup_stale(cls) -> None:
        ManagedProcess.cleanup_stale(KIND)

    def start(self) -> dict[str, Any]:
        url = os.environ.get("HARNESS_MYSQL_URL")
        if url:
            info = parse_url(url)
            info["flavor"] = _probe_flavor(info, url)
            self.info = info
            return info
        return self._start_ephemeral()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    # --- the ephemeral server ---------------------------------------------------------------------------------
    def _start_ephemeral(self) -> dict[str, Any]:
        server = _binary("mariadbd", "mysqld")
        install_db = _binary("mariadb-install-db", "mysql_install_db")
        if not server or not install_db:
            raise UsageError("MariaDB is not installed: run `harness setup --tasks db` "
                             "(or apt-get install mariadb-server), or set HARNESS_MYSQL_URL")
        # not under the runtime dir: the mysql user must be able to reach it (/root is 0700)
        root = Path(tempfile.mkdtemp(prefix="harness-mariadb-", dir=_data_parent()))
        data, files = root / "data", root / "files"
        data.mkdir()
        files.mkdir()
        password = secrets.token_hex(16)
        init = root / "init.sql"
        init.write_text(
            f"CREATE USER 'harness'@'127.0.0.1' IDENTIFIED BY '{password}';\n"
            "GRANT ALL PRIVILEGES ON *.* TO 'harness'@'127.0.0.1' WITH GRANT OPTION;\n"
        )
        drop = _drop_privileges()
        if drop:  # the server runs as the mysql user: it must own its folder
            uid, gid = drop
            for path in (root, data, files, init):
                os.chown(path, uid, gid)
        # every table in the capped system tablespace, so that an agent's runaway INSERTs stop at a bounded size
        innodb = ["--innodb-log-file-size=8M", "--innodb-data-file-path=ibdata1:4M:autoextend:max:2G",
                  "--innodb-file-per-table=0"]
        try:
            # root without a mysql user: mariadbd must be told explicitly that running as root is intended
            as_root = ["--user=root"] if drop is None and os.geteuid() == 0 else []
            r = subprocess.run([*_as_user(drop, pdeathsig=False), install_db, "--no-defaults", f"--datadir={data}",
                                "--auth-root-authentication-method=socket", "--skip-test-db", *as_root, *innodb],
                               capture_output=True, text=True, timeout=300)
            if r.returncode != 0:
                raise RuntimeError(f"mariadb-install-db failed: {(r.stderr or r.stdout).strip()[-500:]}")
            port = free_port()
            argv = [*_as_user(drop, pdeathsig=True), server, "--no-defaults", *as_root, f"--datadir={data}",
                    f"--socket={root / 'mysqld.sock'}", f"--pid-file={root / 'mysqld.pid'}",
                    f"--log-error={root / 'error.log'}", f"--port={port}", "--bind-address=127.0.0.1",
                    f"--init-file={init}", "--skip-name-resolve", f"--secure-file-priv={files}",
                    "--local-infile=0", "--symbolic-links=0", "--event-scheduler=DISABLED",
                    "--max-connections=400", "--innodb-buffer-pool-size=64M", "--innodb-doublewrite=0",
                    "--innodb-flush-log-at-trx-commit=0", *innodb, f"--tmpdir={root}",
                    "--innodb-temp-data-file-path=ibtmp1:12M:autoextend:max:1G", "--enforce-storage-engine=InnoDB",
                    "--character-set-server=utf8mb4", f"--collation-server={_collation(server)}",
                    f"--sql-mode={MYSQL8_SQL_MODE}", "--group-concat-max-len=1024",
                    "--max-allowed-packet=64M"]
            self.process = ManagedProcess(argv, kind=KIND, log=root / "stdout.log", cleanup_paths=[root])
            wait_for_port(port, timeout=120, proc=self.process.proc)
        except BaseException as exc:
            log = root / "error.log"
            tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
            if self.process is not None:
                self.process.stop()
                self.process = None
            shutil.rmtree(root, ignore_errors=True)
            if tail and isinstance(exc, Exception):
                raise RuntimeError(f"MariaDB did not start: {exc}; its log ends: {' | '.join(tail)}") from exc
            raise
        self.info = {"host": "127.0.0.1", "port": port, "user": "harness", "password": password,
                     "flavor": "mariadb", "external": False}
        _wait_for_login(self.info, self.process)
        return self.info


def _data_parent() -> str | None:
    """Where the throwaway data directory goes: HARNESS_MYSQL_TMPDIR, else /dev/shm (DDL is ~10x faster without
    fsync to disk; the tablespace is capped at 2 GB), else the system temp dir."""
    chosen = os.environ.get("HARNESS_MYSQL_TMPDIR")
    if chosen:
        return chosen
    shm = Path("/dev/shm")
    try:
        if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 4 << 30:
            return str(shm)
    except OSError:
        pass
    return None


def _drop_privileges() -> tuple[int, int] | None:
    """(uid, gid) of the ``mysql`` user when running as root (mariadbd refuses to run as root otherwise)."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam("mysql")
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def _as_user(drop: tuple[int, int] | None, pdeathsig: bool) -> list[str]:
    """setpriv prefix: switch user, and set the parent-death signal *after* the switch (a uid change clears it)."""
    if drop is None:
        return []
    uid, gid = drop
    argv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]
    if pdeathsig:
        argv.append("--pdeathsig=TERM")
    return argv


def _collation(server: str) -> str:
    """The NO PAD UCA collation when this MariaDB has it (10.10+), else general_ci."""
    try:
        out = subprocess.run([server, "--version"], capture_output=True, text=True, timeout=30).stdout
        major, minor = (int(x) for x in out.split("Ver ", 1)[1].split("-", 1)[0].split(".")[:2])
        return COLLATION if (major, minor) >= (10, 10) else FALLBACK_COLLATION
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return FALLBACK_COLLATION


def _connect(info: dict[str, Any], **kw):
    import mysql.connector

    return mysql.connector.connect(host=info["host"], port=info["port"], user=info["user"],
                                   password=info["password"], use_pure=True, connection_timeout=10, **kw)


def _wait_for_login(info: dict[str, Any], process: ManagedProcess, timeout: float = 60.0) -> None:
    """The port opens before --init-file has created the admin account: wait until it can log in."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            _connect(info).close()
            return
        except Exception as exc:  # noqa: BLE001 - any failure means "not yet"
            if process.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"MariaDB did not accept the admin login: {exc}") from exc
            time.sleep(0.2)


def _probe_flavor(info: dict[str, Any], url: str = "") -> str:
    try:
        cnx = _connect(info)
    except Exception as exc:  # noqa: BLE001 - refused, unknown host, bad login: the user's server or URL
        reason = " ".join(str(exc).split())[:200]
        raise UsageError(f"HARNESS_MYSQL_URL={redact(url) or info['host']} does not answer ({reason}): start that "
                         "server or correct the URL, or unset HARNESS_MYSQL_URL to use an ephemeral MariaDB") from None
    try:
        cur = cnx.cursor()
        cur.execute("SELECT VERSION()")
        version = str(cur.fetchall()[0][0])
    finally:
        cnx.close()
    return "mariadb" if "mariadb" in version.lower() else "mysql"
