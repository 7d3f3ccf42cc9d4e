"""The agent's persistent ``bash --login`` in the container: one ``docker exec`` with a terminal, as upstream.

Each command is sent as one line that prints a start marker, ``eval``s the (base64-encoded) command in the current
shell (so ``cd``, variables and ``su - user`` persist, and multi-line code runs as one unit) and prints an end marker.
The output is what lies between the markers. When the command starts a nested interactive shell (``su - jack``) or
ends the shell, the end marker never comes: the command is done when the stream ends or when the terminal has been
quiet at a shell prompt. After ``timeout`` seconds the command gets Ctrl-C (then the shell is replaced if it does not
come back) and the output ends with a notice.
"""
from __future__ import annotations

import base64
import re
import select
import time
import uuid

from .protocol import clean_terminal

TIMEOUT_NOTICE = "\n[the command did not finish within {timeout:g} seconds and was interrupted]"
_PROMPT = re.compile(r"(?:^|\n)[^\n]*[\w.-]+@[\w.-]+:[^\n]*[#$] ?$")
_KEEP = 256 * 1024  # bytes of output kept per command (the observation shows 800 characters at most)
_QUIET = 0.3  # seconds of silence at a prompt that end a command without end marker


class Shell:
    def __init__(self, api, container_id: str, timeout: float = 30.0) -> None:
        self.api, self.container_id, self.timeout = api, container_id, timeout
        self.n = 0
        self.tag = uuid.uuid4().hex[:8]
        self._stale = re.compile(rf"<<he:\d+:{self.tag}>>")
        self.sock = None
        self._open()

    # -- the exec session ---------------------------------------------------------------------------------------
    def _open(self) -> None:
        self.exec_id = self.api.exec_create(self.container_id, ["bash", "--login"], stdin=True, tty=True,
                                            environment={"TERM": "xterm"})["Id"]
        raw = self.api.exec_start(self.exec_id, socket=True, tty=True)
        self.sock = getattr(raw, "_sock", raw)
        self.sock.setblocking(False)
        try:
            self.api.exec_resize(self.exec_id, height=24, width=80)
        except Exception:
            pass
        self.alive = True
        self._wait_ready()

    def _wait_ready(self) -> None:
        """Return once the login shell has read its startup files and runs commands (as upstream waits for its first
        output): whatever runs next (the task's init) can no longer change what this shell read (a ``~/.bashrc`` that
        init writes). Bash runs the typed line only after its startup files; the echo of the line shows the marker
        split in two, so only the command's output matches."""
        marker = f"<<hr:{self.tag}>>".encode()
        self._send(f" printf '<<hr:%s>>\\n' '{self.tag}'\n".encode("ascii"))
        seen, deadline = b"", time.monotonic() + max(self.timeout, 5.0)
        while time.monotonic() < deadline:
            data = self._recv(min(0.5, deadline - time.monotonic()))
            if data is None:
                break
            seen = (seen + data)[-4096:]
            if marker in seen:
                return
        self.close()
        raise RuntimeError(f"the login shell in container {self.container_id[:12]} did not start within "
                           f"{max(self.timeout, 5.0):g} s")

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None
        self.alive = False

    def _send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                sent = self.sock.send(view)
                view = view[sent:]
            except (BlockingIOError, InterruptedError):
                select.select([], [self.sock], [], 1.0)

    def _recv(self, wait: float) -> bytes | None:
        """Bytes available within ``wait`` seconds; b"" when none came; None when the stream ended."""
        ready, _, _ = select.select([self.sock], [], [], max(0.0, wait))
        if not ready:
            return b""
        try:
            data = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return b""
        except OSError:
            return None
        return data if data else None

    # -- commands -------------------------------------------------------------------------------------------------
    def run(self, command: str, timeout: float | None = None) -> tuple[str, bool]:
        """Run ``command`` in the shell; returns (clean output, timed out)."""
        timeout = self.timeout if timeout is None else timeout
        if not self.alive:
            self._open()
        self.n += 1
        start, end = f"<<hs:{self.n}:{self.tag}>>", f"<<he:{self.n}:{self.tag}>>"
        code = base64.b64encode(command.encode("utf-8")).decode("ascii")
        line = (f"printf '<<hs:%s>>\\n' '{self.n}:{self.tag}'; eval \"$(printf %s {code} | base64 -d)\"; "
                f"printf '<<he:%s>>' '{self.n}:{self.tag}'\n")
        self._send(line.encode("ascii"))
        buf = bytearray()  # everything after the start marker (first _KEEP bytes)
        tail = ""  # recent text, for the prompt check
        pending = b""  # before the start marker
        started = False
        deadline = time.monotonic() + timeout
        last_data = time.monotonic()
        timed_out = False
        while True:
            now = time.monotonic()
            if now >= deadline:
                timed_out = True
                break
            data = self._recv(min(_QUIET, deadline - now))
            if data is None:  # the shell exited (``exit``): a new one starts with the next command
                self.close()
                break
            if data:
                last_data = time.monotonic()
                if not started:
                    pending += data
                    i = pending.find(start.encode())
                    if i < 0:
                        pending = pending[-len(start) - 8:]
                        continue
                    started = True
                    data = pending[i + len(start):]
                    pending = b""
                    if data.startswith(b"\r\n"):
                        data = data[2:]
                    elif data.startswith(b"\n"):
                        data = data[1:]
                if len(buf) < _KEEP:
                    buf += data[:_KEEP - len(buf)]
                tail = (tail + data.decode("utf-8", "replace"))[-2048:]
                if end in tail:
                    out = bytes(buf).decode("utf-8", "replace")
                    return clean_terminal(out.split(end, 1)[0]), False
                continue
            # quiet: a nested shell's prompt (su - user) ends the command without end marker
            if started and time.monotonic() - last_data >= _QUIET and _PROMPT.search(clean_terminal(tail)):
                out = clean_terminal(bytes(buf).decode("utf-8", "replace"))
                # an outer shell that resumes (after `exit` from `su - user`) prints an earlier command's end marker
                return self._stale.sub("", _PROMPT.sub("", out)), False
        out = bytes(buf).decode("utf-8", "replace")
        if timed_out:
            self._interrupt()
        out = clean_terminal(out.split(end, 1)[0])
        return (out + TIMEOUT_NOTICE.format(timeout=timeout) if timed_out else out), timed_out

    def _interrupt(self) -> None:
        """Ctrl-C; if the shell does not come back to a prompt, kill everything in it and start a new shell."""
        if not self.alive:
            return
        self._send(b"\x03")
        tail, deadline = "", time.monotonic() + 3.0
        while time.monotonic() < deadline:
            data = self._recv(0.2)
            if data is None:
                self.close()
                return
            if data:
                tail = (tail + data.decode("utf-8", "replace"))[-2048:]
            elif _PROMPT.search(clean_terminal(tail)):
                return
        self.close()
        try:  # whatever ignores SIGINT (or floods the terminal) goes; PID 1 stays
            self.api.exec_start(self.api.exec_create(self.container_id, ["kill", "-9", "-1"])["Id"])
        except Exception:
            pass
