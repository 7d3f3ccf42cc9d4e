"""The game relay without the engine: stand-in processes (a silent logic, players that never answer)."""
import sys
import threading
import time

import pytest

from envs.dcg.relay import GameError, Match

SILENT = [sys.executable, "-c", "import sys, time; sys.stdin.buffer.read(); time.sleep(60)"]


def test_close_from_another_thread_wakes_a_relay_waiting_on_its_processes(tmp_path):
    logic = tmp_path / "logic"
    logic.write_text(f"#!{sys.executable}\nimport sys, time\nsys.stdin.buffer.read(4)\ntime.sleep(60)\n")
    logic.chmod(0o755)
    match = Match(logic, [SILENT, SILENT], tmp_path, llm_seat=None)
    closer = threading.Timer(0.5, match.close)
    closer.start()
    started = time.monotonic()
    with pytest.raises(GameError, match="closed"):
        match.start()
    assert time.monotonic() - started < 10
    closer.join(10)
    assert match._procs and all(p.poll() is not None for p in match._procs)  # whatever had started is gone


def test_a_logic_that_dies_is_a_game_error_not_a_hang(tmp_path):
    match = Match(tmp_path / "missing-logic", [SILENT, SILENT], tmp_path, llm_seat=None)
    try:
        with pytest.raises(GameError, match="cannot start"):
            match.start()
    finally:
        match.close()
    logic = tmp_path / "logic"
    logic.write_text("#!/bin/sh\nexit 3\n")
    logic.chmod(0o755)
    match = Match(logic, [SILENT, SILENT], tmp_path, llm_seat=None)
    try:
        with pytest.raises(GameError, match="status 3"):
            match.start()
    finally:
        match.close()
