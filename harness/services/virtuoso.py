"""SPARQL services for the knowledge-graph task: a throw-away Virtuoso server (``sparql``), and Freebase
(``freebase``): a user's endpoint, or a Virtuoso the harness starts on a downloaded Freebase database folder.

With ``HARNESS_SPARQL_URL`` set (e.g. a Virtuoso loaded with the Freebase dump, as AgentBench uses), nothing is
started and the connection info just names that URL. Otherwise Debian's ``virtuoso-opensource`` runs from a
temporary directory on free loopback ports, as a :class:`ManagedProcess` (it dies with the harness; a crashed run's
server and folder are removed by the next start). Turtle files are loaded into a named graph through Virtuoso's SQL
port (``isql-vt``), either at start (``Virtuoso(turtle=...)``) or later with :func:`load_turtle`. The database
password is random per server; the SPARQL endpoint itself is read-only.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Sequence

import httpx

from . import Service
from .process import ManagedProcess, apt_install, free_port, runtime_dir, wait_for_port

KIND = "virtuoso"
DEFAULT_GRAPH = "http://harness.local/graph/default"

_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DirsAllowed = ., {d}
NumberOfBuffers = 4000
MaxDirtyBuffers = 3000
CheckpointInterval = 0
CaseMode = 2
ThreadsPerQuery = 2
MaxQueryMem = 256M
AllowOSCalls = 0

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {d}
ServerThreads = 8
MaxClientConnections = 8
EnabledGzipContent = 0

[SPARQL]
ResultSetMaxRows = 100000
MaxQueryExecutionTime = 60
MaxQueryCostEstimationTime = 60
"""


def _binaries() -> tuple[str, str]:
    server, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if not server or not isql:
        raise RuntimeError("Virtuoso is not installed: run `harness setup --tasks kg` "
                           "(installs Debian's virtuoso-opensource), or set HARNESS_SPARQL_URL to an endpoint")
    return server, isql


def _isql(info: dict[str, Any], sql: str, timeout: float = 300.0) -> str:
    """Run SQL statements through Virtuoso's SQL port; raise with Virtuoso's message on failure."""
    _, isql = _binaries()
    r = subprocess.run([isql, info["sql"], "dba", info["password"], "VERBOSE=OFF", "BANNER=OFF", "PROMPT=OFF",
                        "ERRORS=STDOUT", f"EXEC={sql}"], capture_output=True, text=True, timeout=timeout)
    out = r.stdout + r.stderr
    if r.returncode != 0 or "*** Error" in out:
        raise RuntimeError(f"Virtuoso SQL failed (exit {r.returncode}): {' '.join(out.split())[-300:]}")
    return out


_load_lock = threading.Lock()


def load_turtle(info: dict[str, Any], files: Sequence[str | Path], graph: str = DEFAULT_GRAPH) -> None:
    """Load Turtle files into ``graph`` of a harness-started Virtuoso (loading the same file twice changes nothing)."""
    if not info.get("managed"):
        raise RuntimeError("Turtle files can only be loaded into the harness-started Virtuoso, not into "
                           f"HARNESS_SPARQL_URL={info.get('url')}")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9/._~-]+", graph):
        raise ValueError(f"unsafe graph IRI {graph!r}")
    with _load_lock:
        for path in files:
            # the server may read only from its own folder (DirsAllowed): copy the file there first
            src = Path(path).resolve()
            dest = Path(info["dir"]) / f"load-{time.monotonic_ns()}-{src.name}"
            shutil.copyfile(src, dest)
            try:
                _isql(info, f"DB.DBA.TTLP_MT(file_to_string_output('{dest}'), '', '{graph}', 0); checkpoint;")
            finally:
                dest.unlink(missing_ok=True)


def graph_size(info: dict[str, Any], graph: str) -> int:
    """Number of triples in ``graph`` (through the SPARQL endpoint)."""
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    r = httpx.post(info["url"], data={"query": query}, headers={"Accept": "application/sparql-results+json"},
                   timeout=60)
    r.raise_for_status()
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


#: the layout of the widely used Freebase-Setup instructions (github.com/dki-lab/Freebase-Setup): the downloaded
#: virtuoso_db.zip unpacks to a folder holding virtuoso.db; the server keeps its log, lock and transaction files there
_FREEBASE_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DirsAllowed = .
CaseMode = 2
MaxStaticCursorRows = 100000
CheckpointInterval = 60
AllowOSCalls = 0
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
Charset = UTF-8
ServerThreads = 15

[SPARQL]
ResultSetMaxRows = 50000
MaxQueryCostEstimationTime = 600
MaxQueryExecutionTime = 180
"""

def wait_sparql(url: str, timeout: float, proc=None) -> None:
    """The HTTP port opens before the SPARQL handler answers: poll a trivial query."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            r = httpx.post(url, data={"query": "ASK { }"}, timeout=10,
                           headers={"Accept": "application/sparql-results+json"})
            if r.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited (status {proc.returncode}) before its SPARQL endpoint answered")
        if time.monotonic() > deadline:
            raise TimeoutError(f"the SPARQL endpoint {url} did not answer within {timeout:.0f} s")
        time.sleep(0.2)


#: the query that tells a Freebase endpoint from any other: the English name of m.02mjmr
HEALTH_QUERY = ("PREFIX ns: <http://rdf.freebase.com/ns/>\n"
                "SELECT ?name WHERE { ns:m.02mjmr ns:type.object.name ?name . FILTER (lang(?name) = 'en') }")
HEALTH_ANSWER = "Barack Obama"


def freebase_health(url: str, timeout: float = 120.0) -> None:
    """One known query against a Freebase endpoint; RuntimeError with one line saying what is wrong."""
    try:
        r = httpx.post(url, data={"query": HEALTH_QUERY}, headers={"Accept": "application/sparql-results+json"},
                       timeout=timeout)
        r.raise_for_status()
        names = [b["name"]["value"] for b in r.json()["results"]["bindings"]]
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise RuntimeError(f"the Freebase endpoint {url} did not answer the known query (the English name of "
                           f"m.02mjmr): {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    if HEALTH_ANSWER not in names:
        raise RuntimeError(f"the endpoint {url} answers SPARQL but does not hold Freebase: the English name of "
                           f"m.02mjmr should be {HEALTH_ANSWER!r}, it gave {names[:3]}")


def freebase_folder(text: str) -> Path:
    """The database folder a user pointed HARNESS_FREEBASE_DIR at (the folder, or its virtuoso.db file)."""
    path = Path(text).expanduser()
    if path.is_file() and path.name.endswith(".db"):
        path = path.parent
    if not (path / "virtuoso.db").is_file():
        raise RuntimeError(f"HARNESS_FREEBASE_DIR={text}: no virtuoso.db there; unzip the Freebase database of the "
                           "Freebase-Setup instructions (virtuoso_db.zip, 53 GB) and point HARNESS_FREEBASE_DIR at the "
                           "folder that holds virtuoso.db")
    if not os.access(path, os.W_OK) or not os.access(path / "virtuoso.db", os.W_OK):
        raise RuntimeError(f"HARNESS_FREEBASE_DIR={path}: Virtuoso needs to write its log, lock and transaction files "
                           "beside virtuoso.db: make the folder and the file writable")
    return path.resolve()


def _buffers() -> tuple[int, int]:
    """Freebase-Setup's rule: 15 % of the machine's memory as 8 KB buffers, half of them dirty."""
    try:
        total_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                        if line.startswith("MemTotal:"))
    except (OSError, StopIteration, ValueError):
        total_kb = 8 * 1024 * 1024
    n = max(10_000, int(total_kb * 0.15 / 8))
    return n, n // 2


class FreebaseVirtuoso(Service):
    """Freebase for the KG task's std and dev splits. ``HARNESS_SPARQL_URL``: that endpoint. Else
    ``HARNESS_FREEBASE_DIR``: Virtuoso started on that database folder (loopback ports; the folder is used in place,
    never removed). Either way one known query must answer before any episode runs. ``start()`` returns
    ``{"url", "managed", "dir"}``."""

    name = "freebase"
    kind = "freebase-virtuoso"  # not "virtuoso-...": the test-graph server's cleanup globs those

    def __init__(self, start_timeout: float = 900.0) -> None:
        self.start_timeout = start_timeout
        self.process: ManagedProcess | None = None
        self.info: dict[str, Any] = {}

    @classmethod
    def install(cls) -> None:
        Virtuoso.install()

    @classmethod
    def cleanup_stale(cls) -> None:
        ManagedProcess.cleanup_stale(cls.kind)

    def start(self) -> dict[str, Any]:
        url = os.environ.get("HARNESS_SPARQL_URL", "").strip()
        folder_text = os.environ.get("HARNESS_FREEBASE_DIR", "").strip()
        if url:
            freebase_health(url)
            self.info = {"url": url, "managed": False}
            return self.info
        if not folder_text:
            raise RuntimeError("the kg std/dev splits need Freebase: set HARNESS_FREEBASE_DIR to a downloaded Freebase "
                               "Virtuoso database folder (the one holding virtuoso.db, as in the Freebase-Setup "
                               "instructions) or HARNESS_SPARQL_URL=http://HOST:PORT/sparql; or run --split test-graph")
        folder = freebase_folder(folder_text)
        server, _ = _binaries()
        conf = Path(tempfile.mkdtemp(prefix="harness-freebase-", dir=runtime_dir()))
        sql_port, http_port = free_port(), free_port()
        while http_port == sql_port:
            http_port = free_port()
        buffers, dirty = _buffers()
        (conf / "virtuoso.ini").write_text(_FREEBASE_INI.format(d=folder, sql_port=sql_port, http_port=http_port,
                                                                buffers=buffers, dirty=dirty))
        # the config folder is ours to remove; the database folder is the user's and stays
        self.process = ManagedProcess([server, "+foreground", "+configfile", str(conf / "virtuoso.ini")],
                                      kind=self.kind, log=conf / "stdout.log", cwd=folder, cleanup_paths=[conf])
        url = f"http://127.0.0.1:{http_port}/sparql"
        try:
            wait_for_port(http_port, timeout=self.start_timeout, proc=self.process.proc)
            wait_sparql(url, self.start_timeout, self.process.proc)
            freebase_health(url)
        except BaseException as exc:
            log = conf / "stdout.log"
            tail = [x for x in log.read_text(errors="replace").splitlines() if x.strip()][-2:] if log.exists() else []
            self.stop()
            if isinstance(exc, Exception):
                raise RuntimeError(f"Virtuoso on {folder} did not serve Freebase: {exc}"
                                   + (f"; its log: {' | '.join(tail)}" if tail else "")) from exc
            raise
        self.info = {"url": url, "managed": True, "dir": str(folder)}
        return self.info

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(timeout=120.0)  # a clean shutdown checkpoints the database
            self.process = None


class Virtuoso(Service):
    """``start()`` returns ``{"url", "managed"}``; a managed server adds ``graph``, ``sql``, ``password``, ``dir``."""

    name = "sparql"

    def __init__(self, turtle: Sequence[str | Path] = (), graph: str = DEFAULT_GRAPH,
                 use_env_url: bool = True, start_timeout: float = 180.0) -> None:
        self.turtle = list(turtle)
        self.graph = graph
        self.use_env_url = use_env_url
        self.start_timeout = start_timeout
        self.process: ManagedProcess | None = None
        self.info: dict[str, Any] = {}

    @classmethod
    def install(cls) -> None:
        apt_install(["virtuoso-opensource"], check_binaries=["virtuoso-t", "isql-vt"])

    @classmethod
    def cleanup_stale(cls) -> None:
        ManagedProcess.cleanup_stale(KIND)

    def start(self) -> dict[str, Any]:
        url = os.environ.get("HARNESS_SPARQL_URL", "").strip() if self.use_env_url else ""
        if url:
            self.info = {"url": url, "managed": False}
            return self.info
        server, _ = _binaries()
        folder = Path(tempfile.mkdtemp(prefix="harness-virtuoso-", dir=runtime_dir()))
        sql_port, http_port = free_port(), free_port()
        while http_port == sql_port:
            http_port = free_port()
        (folder / "virtuoso.ini").write_text(_INI.format(d=folder, sql_port=sql_port, http_port=http_port))
        self.process = ManagedProcess([server, "+foreground", "+configfile", str(folder / "virtuoso.ini")],
                                      kind=KIND, log=folder / "stdout.log", cwd=folder, cleanup_paths=[folder])
        try:
            wait_for_port(http_port, timeout=self.start_timeout, proc=self.process.proc)
            wait_for_port(sql_port, timeout=self.start_timeout, proc=self.process.proc)
            url = f"http://127.0.0.1:{http_port}/sparql"
            self._wait_ready(url)
            password = "h" + secrets.token_hex(12)  # an identifier: must not start with a digit
            info = {"url": url, "managed": True, "graph": self.graph, "sql": f"127.0.0.1:{sql_port}",
                    "password": "dba", "dir": str(folder)}
            self._retry(lambda: _isql(info, f"set password dba {password};", timeout=30))
            info["password"] = password
            self.info = info
            if self.turtle:
                load_turtle(info, self.turtle, self.graph)
        except BaseException as exc:
            log = (folder / "virtuoso.log")
            tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
            self.stop()
            if isinstance(exc, Exception):
                raise RuntimeError(f"Virtuoso did not start: {exc}; log: {' | '.join(tail)}") from exc
            raise
        return self.info

    def _wait_ready(self, url: str) -> None:
        wait_sparql(url, self.start_timeout)

    def _retry(self, fn) -> None:
        """The SQL port accepts connections a moment before logins work: retry the first statement."""
        deadline = time.monotonic() + 60
        while True:
            try:
                return fn()
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(timeout=20.0)
            self.process = None
