"""Owner records of services (harness/services/process.py): two runs on one machine read each other's records while
they are written and removed; clean-up acts only on what a dead owner left, and never on a process that merely
reuses a dead server's pid."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from harness.services.process import (ManagedProcess, process_start_time, stale_owner_records,
                                      write_owner_record)


def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_records_appear_whole_and_only_dead_owners_are_stale(isolated_runtime):
    mine = write_owner_record("probe", {"x": 1})
    assert json.loads(mine.read_text())["x"] == 1
    assert not list(isolated_runtime.glob(".*"))  # the temporary file was renamed into place
    dead = isolated_runtime / f"probe-{_dead_pid()}-1.json"
    dead.write_text(json.dumps({"owner": _dead_pid(), "x": 2}))
    assert [data["x"] for _, data in stale_owner_records("probe")] == [2]


def test_records_of_another_pid_namespace_are_never_judged(isolated_runtime):
    isolated_runtime.mkdir(parents=True, exist_ok=True)
    other = isolated_runtime / f"probe-{_dead_pid()}-2.json"
    other.write_text(json.dumps({"owner": _dead_pid(), "pidns": "pid:[1]", "x": 3}))
    assert stale_owner_records("probe") == [] and other.exists()


def test_a_record_that_vanishes_while_being_read_is_skipped(isolated_runtime, monkeypatch):
    rec = write_owner_record("probe", {"x": 1})
    real = Path.read_text

    def vanishing(self, *a, **k):
        if self == rec:
            raise FileNotFoundError(self)
        return real(self, *a, **k)

    monkeypatch.setattr(Path, "read_text", vanishing)
    assert stale_owner_records("probe") == []
    monkeypatch.undo()
    assert rec.exists()  # another process's record is not removed for being unreadable at that moment


def test_a_reused_pid_is_not_killed(isolated_runtime):
    bystander = subprocess.Popen(["sleep", "60"], start_new_session=True)  # a process that now holds the pid
    try:
        start = process_start_time(bystander.pid)
        assert start is not None
        isolated_runtime.mkdir(parents=True, exist_ok=True)
        path = isolated_runtime / f"server-{_dead_pid()}-1.json"
        path.write_text(json.dumps({"owner": _dead_pid(), "pid": bystander.pid, "start": start + 1, "paths": []}))
        assert ManagedProcess.cleanup_stale("server") == 1
        assert bystander.poll() is None and not path.exists()
    finally:
        bystander.kill()
        bystander.wait()
