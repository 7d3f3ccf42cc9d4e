"""Helpers for the Digital Card Game tests: the built engine, upstream's own judger run, episodes played in-process."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable

from envs.dcg.build import TARBALL, build
from envs.dcg.env import SCRIPTS, SEEDED
from tests.conftest import need_data


def engine():
    """The engine built from the shared tarball (``harness setup --tasks dcg`` did it already under make test)."""
    need_data(*TARBALL.parts)
    from harness import data_dir

    return build(data_dir() / TARBALL, log=lambda *_: None)


def _serve(server: socket.socket, answer: Callable[[list], str]) -> None:
    """Upstream's server.py side for a judger run: one client, JSON requests in, raw replies out."""
    conn, _ = server.accept()
    buf = b""
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            buf += data
            try:
                messages = json.loads(buf.decode())
            except ValueError:
                continue
            buf = b""
            conn.sendall(answer(messages).encode())


def run_upstream_judger(eng, seed: int, seats: list[str], workdir: Path,
                        answer: Callable[[list], str] | None = None) -> tuple[str, bytes]:
    """One game under upstream's judger.py (its own threads, timer and framing): ``seats`` are ``baseline1``,
    ``baseline2`` or ``llm`` (upstream's main.py/AI_En talking to ``answer`` over a socket). Returns the judger's
    standard output and the replay."""
    py = sys.executable
    workdir.mkdir(parents=True, exist_ok=True)
    server = thread = None
    commands = []
    for name in seats:
        if name == "llm":
            server = socket.socket()
            server.bind(("127.0.0.1", 0))
            server.listen(1)
            thread = threading.Thread(target=_serve, args=(server, answer), daemon=True)
            thread.start()
            commands.append(f"{py}+{eng.script('main.py')}+en+2+0+{workdir}+{server.getsockname()[1]}")
        else:
            commands.append(f"{py}+{SEEDED}+{seed}+{eng.script(SCRIPTS[name])}+2+1+{workdir}")
    env = dict(os.environ, AQUAWAR_SEED=str(seed))
    out = subprocess.run([py, str(eng.root / "judger" / "judger.py"), str(eng.logic), *commands, "config",
                          str(workdir / "replay.json")], capture_output=True, env=env, cwd=workdir, timeout=300)
    if server is not None:
        thread.join(10)
        server.close()
    return out.stdout.decode(errors="replace"), (workdir / "replay.json").read_bytes()


def play(env, index: int, reply: Callable[[str], str] | None = None) -> tuple[float, dict, list[str]]:
    """One episode in-process; ``reply`` maps each prompt to the model's answer (default: the env's oracle).
    Returns the reward, the final info and the prompts seen."""
    env.reset(options={"index": index})
    oracle = env.oracle_actions(index) if reply is None else None
    prompts = []
    while True:
        prompt = env.messages[-1]["content"]
        prompts.append(prompt)
        action = next(oracle) if oracle is not None else reply(prompt)
        _, reward, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            return reward, info, prompts
