"""One Aquawar game: the upstream logic process and two upstream player processes, relayed as upstream's judger does.

Upstream (``judger/judger.py``) runs the logic and the players as child processes and relays between them over their
standard streams; this module does the same job on one thread with ``selectors`` instead of judger.py's four threads
and its busy-waiting timer thread (which keeps a CPU core spinning while a player thinks). The wire protocol is
judger.py's, byte for byte:

- to the logic: 4-byte big-endian length + JSON text; first ``{"player_list": [1, 1], "player_num": 2, "replay": P}``,
  then ``{"player": i, "content": "<player message>"}`` for messages of players the logic listens to, and
  ``{"player": -1, "content": "{\"player\": i, \"state\": s, \"error\": 0|1, ...}"}`` when player i dies (0) or
  runs out of time (1);
- from the logic: 4-byte length + 4-byte target (-1) + JSON: ``state > 0`` carries the listen list and the texts for the
  players (written to them raw, unframed), ``state == 0`` sets the time limit and the maximum message length,
  ``state < 0`` ends the game with ``end_info``;
- from a player: 4-byte length + JSON; a length over the limit is ignored (its body is not consumed, as judger.py).

Time limits: judger.py gives the player the logic listens to ``time`` seconds (the logic sets 300) per state. Here the
clock runs only while the relay waits on the game; while the model is being asked (between a request of the LLM
player and its reply) it is stopped, so that a slow or busy model server never decides a game. ``expire()`` ends the
current state at once as a timeout: that is what upstream's clock would do, 300 s later, when the LLM player never
gets an answer (an empty reply, or a request upstream's server cannot read).

The LLM player (upstream ``AI_SDK/Python/main.py`` with ``AI_En``) asks its questions over a TCP socket: a JSON list
of ``{"role": "user"|"agent", "content"}`` messages, unframed; the reply is the model's raw text, unframed. That is
upstream's ``server.py`` protocol; this module plays the server side on its own loopback port.
"""
from __future__ import annotations

import ctypes
import json
import os
import selectors
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

#: upstream server.py reads a request with one ``recv(10000)``; a longer request never parses there
SERVER_RECV_LIMIT = 10000
#: judger.py's time limit and message-length limit before the logic sets its own
DEFAULT_TIME_LIMIT = 20.0
DEFAULT_LENGTH_LIMIT = 2048

_PR_SET_PDEATHSIG = 1
try:
    _prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
except OSError:  # not Linux/glibc: processes are still killed by close(), only not after a SIGKILLed harness
    _prctl = None


def _child_setup() -> None:
    """In the forked child: SIGKILL when the harness thread that started it dies, and a process group of its own."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    os.setpgid(0, 0)


def frame(text: str) -> bytes:
    """judger.py's ``convert_byte``: the length of the text in characters (always ASCII here), then UTF-8."""
    return len(text).to_bytes(4, "big", signed=True) + text.encode("utf-8")


class GameError(RuntimeError):
    """The game infrastructure failed (the logic crashed, a process would not start): not the model's doing."""


@dataclass
class Request:
    """The LLM player asks the model: the messages as upstream's client sends them."""

    messages: list[dict[str, str]]
    raw_bytes: int


@dataclass
class End:
    """The logic ended the game."""

    end_info: str  # the logic's end_info text, e.g. '{"0" : 0, "1" : 100}' with newlines and tabs
    errors: list[dict[str, Any]] = field(default_factory=list)  # judger-side events (timeouts, deaths) for the log


@dataclass
class _Player:
    seat: int
    proc: subprocess.Popen
    buf: bytearray = field(default_factory=bytearray)
    eof: bool = False
    reported: bool = False


class Match:
    """Processes and relay of one game. ``start()`` and ``reply()`` return the next :class:`Request` or :class:`End`."""

    def __init__(self, logic: Path, players: Sequence[Sequence[str]], workdir: Path, *, llm_seat: int | None,
                 env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
        self.logic_path = logic
        self.player_argv = [list(p) for p in players]
        self.workdir = Path(workdir)
        self.llm_seat = llm_seat
        self.env = env
        self.cwd = cwd or self.workdir
        self.replay_path = self.workdir / "replay.json"
        self.sel = selectors.DefaultSelector()
        self.players: list[_Player] = []
        self.logic: subprocess.Popen | None = None
        self.logic_buf = bytearray()
        self.listen: list[int] = []
        self.state = 0  # judger.py's now_state
        self.time_limit = DEFAULT_TIME_LIMIT
        self.length_limit = DEFAULT_LENGTH_LIMIT
        self.clock_state: int | None = None  # the state whose time runs (judger.py's Time_thread)
        self.clock_used = 0.0
        self.clock_fired = False
        self.server: socket.socket | None = None
        self.conn: socket.socket | None = None
        self.request_buf = bytearray()
        self.events: list[dict[str, Any]] = []
        self.ended: End | None = None
        self.closed = False
        self._lock = threading.Lock()  # a process is started either before close() (which kills it) or not at all
        self._procs: list[subprocess.Popen] = []
        # close() from another thread (the runner giving up on a stuck env) wakes a relay blocked in select
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self.sel.register(self._wake_r, selectors.EVENT_READ, ("wake", None))

    # --- processes ----------------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.getsockname()[1]

    def open_server(self) -> int:
        """The loopback port the LLM player connects to (call before building its command line)."""
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.server.setblocking(False)
        self.sel.register(self.server, selectors.EVENT_READ, ("server", None))
        return self.port

    def _spawn(self, argv: list[str], stdout, tag: str) -> subprocess.Popen:
        with self._lock:
            if self.closed:
                raise GameError("the game was closed while it started")
            err = open(self.workdir / f"{tag}.stderr", "wb")
            try:
                proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=stdout, stderr=err, cwd=self.cwd,
                                        env=self.env, preexec_fn=_child_setup, bufsize=0)
            except OSError as exc:
                raise GameError(f"cannot start {argv[0]}: {exc}") from None
            finally:
                err.close()
            self._procs.append(proc)
            return proc

    def start(self) -> Request | End:
        try:
            return self._start()
        except (OSError, ValueError):
            if self.closed:
                raise GameError("the game was closed while it started") from None
            raise

    def _start(self) -> Request | End:
        self.workdir.mkdir(parents=True, exist_ok=True)
        for seat, argv in enumerate(self.player_argv):  # judger.py starts the players, then the logic
            proc = self._spawn(argv, subprocess.PIPE, f"player{seat}")
            os.set_blocking(proc.stdout.fileno(), False)
            player = _Player(seat, proc)
            self.players.append(player)
            self.sel.register(proc.stdout, selectors.EVENT_READ, ("player", player))
        self.logic = self._spawn([str(self.logic_path)], subprocess.PIPE, "logic")
        os.set_blocking(self.logic.stdout.fileno(), False)
        self.sel.register(self.logic.stdout, selectors.EVENT_READ, ("logic", None))
        self._to_logic(json.dumps({"player_list": [1] * len(self.players), "player_num": len(self.players),
                                   "replay": str(self.replay_path)}))
        return self._pump()

    def reply(self, text: str) -> Request | End:
        """Send the model's reply to the LLM player (as upstream's server: the raw text) and run the game on."""
        if self.ended:
            return self.ended
        data = text.encode("utf-8")
        if data and self.conn is not None:
            try:
                self.conn.sendall(data)
            except OSError:
                pass  # the player died; the relay reports it
        return self._pump()

    def expire(self, reason: str) -> Request | End:
        """The LLM player gets no answer: its time runs out now (upstream: after the full time limit)."""
        if self.ended:
            return self.ended
        self.events.append({"event": "timeout", "state": self.state, "reason": reason})
        self._timeout()
        return self._pump()

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
            procs = list(self._procs)
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass
        for proc in procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    proc.kill()
        for proc in procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
            for stream in (proc.stdin, proc.stdout):
                try:
                    if stream:
                        stream.close()
                except OSError:
                    pass
        for s in (self.conn, self.server):
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self.sel.close()

    def stderr_tail(self, tag: str, n: int = 400) -> str:
        try:
            return (self.workdir / f"{tag}.stderr").read_text(errors="replace")[-n:]
        except OSError:
            return ""

    # --- writing ------------------------------------------------------------------------------------------------
    @staticmethod
    def _write(stream, data: bytes) -> None:
        """All of ``data`` to a child's stdin; failures are ignored as judger.py ignores them (a dead process shows
        up as the end of its output)."""
        try:
            view = memoryview(data)
            while view:
                view = view[stream.write(view):]
        except (OSError, ValueError, TypeError):
            pass

    def _to_logic(self, text: str) -> None:
        self._write(self.logic.stdin, frame(text))

    def _to_player(self, seat: int, data: bytes) -> None:
        self._write(self.players[seat].proc.stdin, data)

    def _timeout(self) -> None:
        """judger.py's send_timeout_error: a timeout for every player the logic listens to, in the current state."""
        for seat in self.listen:
            content = json.dumps({"player": seat, "state": self.state, "error": 1, "error_log": "TIMEOUT ERROR"})
            self._to_logic(json.dumps({"player": -1, "content": content}))
        self.clock_fired = True

    def _run_error(self, seat: int) -> None:
        content = json.dumps({"player": seat, "state": self.state, "error": 0, "error_log": "RUN ERROR"})
        self._to_logic(json.dumps({"player": -1, "content": content}))

    # --- reading ------------------------------------------------------------------------------------------------
    def _pump(self) -> Request | End:
        """Relay until the LLM player asks the model or the logic ends the game."""
        while True:
            if self.ended:
                return self.ended
            request = self._complete_request()
            if request is not None:
                return request
            wait = None
            if self.clock_state is not None and not self.clock_fired:
                wait = max(0.0, self.time_limit - self.clock_used)
            t0 = time.monotonic()
            try:
                if self.closed:
                    raise ValueError("closed")
                ready = self.sel.select(wait)
            except (OSError, ValueError):
                if self.closed:
                    raise GameError("the game was closed while it ran") from None
                raise
            self.clock_used += time.monotonic() - t0
            if self.clock_state is not None and not self.clock_fired and self.clock_used >= self.time_limit:
                self.events.append({"event": "timeout", "state": self.state, "reason": "time limit"})
                self._timeout()
            for key, _ in ready:
                kind, obj = key.data
                if kind == "wake" or self.closed:
                    raise GameError("the game was closed while it ran")
                if kind == "logic":
                    self._read_logic()
                elif kind == "player":
                    self._read_player(obj)
                elif kind == "server":
                    self._accept()
                elif kind == "conn":
                    self._read_conn()
                if self.ended:
                    return self.ended

    def _accept(self) -> None:
        try:
            conn, _ = self.server.accept()
        except BlockingIOError:
            return
        if self.conn is not None:  # upstream's server serves one client per game
            conn.close()
            return
        conn.settimeout(60)  # reads happen only when select says so; a reply is sent whole
        self.conn = conn
        self.sel.register(conn, selectors.EVENT_READ, ("conn", None))

    def _read_conn(self) -> None:
        try:
            data = self.conn.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:  # the LLM player closed its socket (it exits or crashed); the relay sees its process end
            self.sel.unregister(self.conn)
            return
        self.request_buf += data

    def _complete_request(self) -> Request | None:
        if not self.request_buf:
            return None
        try:
            text = self.request_buf.decode("utf-8")
            messages = json.loads(text)
        except (UnicodeDecodeError, ValueError):
            return None
        raw = len(self.request_buf)
        self.request_buf.clear()
        return Request(messages=messages, raw_bytes=raw)

    def _read_logic(self) -> None:
        try:
            chunk = os.read(self.logic.stdout.fileno(), 1 << 16)
        except BlockingIOError:
            return
        if not chunk:
            self.sel.unregister(self.logic.stdout)
            self.logic.wait(5)
            raise GameError(f"the game logic exited (status {self.logic.returncode}) before the game ended: "
                            f"{self.stderr_tail('logic')!r}")
        self.logic_buf += chunk
        while len(self.logic_buf) >= 8 and not self.ended:
            length = int.from_bytes(self.logic_buf[0:4], "big", signed=True)
            goal = int.from_bytes(self.logic_buf[4:8], "big", signed=True)
            if length < 0:
                raise GameError(f"bad frame from the game logic (length {length})")
            if len(self.logic_buf) < 8 + length:
                break
            data = bytes(self.logic_buf[8:8 + length])
            del self.logic_buf[:8 + length]
            if length:
                self._logic_message(goal, data)

    def _logic_message(self, goal: int, data: bytes) -> None:
        if goal != -1:
            if not 0 <= goal < len(self.players):
                raise GameError(f"the game logic addressed player {goal}")
            self._to_player(goal, data)
            return
        try:
            msg = json.loads(data)
            state = msg["state"]
        except (ValueError, KeyError, TypeError):
            raise GameError(f"undecodable message from the game logic: {data[:200]!r}") from None
        if not isinstance(state, int):
            raise GameError(f"undecodable message from the game logic: {data[:200]!r}")
        self.state = state
        if state > 0:
            self.listen = list(msg["listen"])
            for seat, content in zip(msg["player"], msg["content"]):
                self._to_player(seat, content.encode("utf-8"))
            self.clock_state, self.clock_used, self.clock_fired = state, 0.0, False
        elif state < 0:
            self.ended = End(end_info=str(msg.get("end_info", "")), errors=list(self.events))
        else:
            if "time" in msg:
                self.time_limit = float(msg["time"])
            if "length" in msg:
                self.length_limit = int(msg["length"])

    def _read_player(self, player: _Player) -> None:
        try:
            chunk = os.read(player.proc.stdout.fileno(), 1 << 16)
        except BlockingIOError:
            return
        if not chunk:
            player.eof = True
            self.sel.unregister(player.proc.stdout)
            player.proc.wait()
            if not player.reported:  # judger.py: a player whose process ended is a run error, whenever it happens
                player.reported = True
                self.events.append({"event": "player_exit", "seat": player.seat, "state": self.state,
                                    "status": player.proc.returncode})
                self._run_error(player.seat)
            return
        player.buf += chunk
        while len(player.buf) >= 4:
            length = int.from_bytes(player.buf[0:4], "big", signed=True)
            if length > self.length_limit:  # judger.py drops the header and never reads such a body
                del player.buf[:4]
                continue
            if length <= 0:
                del player.buf[:4]
                continue
            if len(player.buf) < 4 + length:
                break
            data = bytes(player.buf[4:4 + length])
            del player.buf[:4 + length]
            if player.seat in self.listen:
                self._to_logic(json.dumps({"player": player.seat, "content": data.decode("utf-8", "replace")}))
