"""Two runs on one Docker engine do not disturb each other (issue 12): clean-up touches only what a dead owner left,
and listing/removal tolerate containers that another process removes at the same moment."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from tests.helpers import HARNESS, ROOT
from tests.integration.os_support import need_image

pytestmark = pytest.mark.integration
docker = pytest.importorskip("docker")

FIXTURE = ROOT / "tests" / "fixtures" / "os"
# the oracle on the fixture split: index 1 is matched by a regex, which gives the oracle no answer to copy
ORACLE_REWARDS = {0: 1.0, 1: 0.0, 2: 1.0, 3: 1.0, 4: 1.0}


def _labelled(cli, labels: dict[str, str]):
    from envs.os_interaction.images import DEFAULT
    return cli.containers.run(DEFAULT.tag, command=["sleep", "600"], detach=True, network_mode="none",
                              labels=labels, log_config={"type": "none"})


def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_clean_up_removes_only_what_dead_owners_left():
    need_image()
    from envs.os_interaction.containers import KIND, client, remove_stale
    from harness.services.docker import owner_labels
    cli = client()
    live = subprocess.Popen(["sleep", "600"])  # another live run on this machine
    mine = owner_labels(KIND)
    made = {
        "dead": _labelled(cli, {**mine, "harness.owner": str(_dead_pid())}),
        "live": _labelled(cli, {**mine, "harness.owner": str(live.pid)}),
        "mine": _labelled(cli, mine),
        "other machine": _labelled(cli, {**mine, "harness.owner": str(_dead_pid()), "harness.host": "elsewhere"}),
        "earlier boot": _labelled(cli, {**mine, "harness.owner": str(live.pid), "harness.boot": "an-earlier-boot"}),
        # a harness in another container or sandbox sharing this engine: its pids are not ours to check
        "other pid namespace": _labelled(cli, {**mine, "harness.owner": str(_dead_pid()),
                                               "harness.pidns": "pid:[1]"}),
    }
    try:
        remove_stale(cli)
        left = {c.id for c in cli.containers.list(all=True, filters={"label": f"harness.kind={KIND}"})}
        assert {name for name, c in made.items() if c.id in left} == {"live", "mine", "other machine",
                                                                       "other pid namespace"}
    finally:
        live.kill()
        live.wait()
        for c in made.values():
            try:
                c.remove(force=True)
            except docker.errors.NotFound:
                pass
        cli.close()


def test_clean_up_tolerates_containers_removed_meanwhile():
    """The SDK's containers.list() inspects each container and raised NotFound when another process had just removed
    one; our listing is one engine call, and removal of a vanished container is no error."""
    need_image()
    from envs.os_interaction.containers import KIND, client, remove_own, remove_stale
    from harness.services.docker import list_labelled, owner_labels, remove_container
    cli = client()
    cs = [_labelled(cli, {**owner_labels(KIND), "harness.owner": str(_dead_pid())}) for _ in range(4)]
    listed = list_labelled(cli, KIND)
    for c in cs:  # another process removes them between our listing and our removal
        c.remove(force=True)
    assert [remove_container(cli, c["Id"]) for c in listed if c["Id"] in {x.id for x in cs}] == [False] * 4
    assert remove_stale(cli) >= 0 and remove_own(cli) >= 0
    cli.close()


def _eval(out: Path, runtime: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_SERVICE_")}
    env.update(HARNESS_DATA=str(FIXTURE), HARNESS_RUNTIME_DIR=str(runtime), PYTHONPATH=str(ROOT))
    return subprocess.Popen([*HARNESS, "eval", "--model", "oracle", "--tasks", "os", "--limit", "5",
                             "--output", str(out), "--no-progress"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_two_os_evals_at_once_both_complete_with_the_oracles_scores(tmp_path):
    need_image()
    from envs.os_interaction.containers import KIND, client, remove_stale
    procs = [_eval(tmp_path / f"run{k}", tmp_path / "run") for k in (1, 2)]
    # a third party cleans up stale containers over and over while both run: it must never touch theirs
    cli, stop, errors = client(), threading.Event(), []

    def sweep() -> None:
        while not stop.is_set():
            try:
                remove_stale(cli)
            except Exception as exc:  # noqa: BLE001 - recorded for the assertion
                errors.append(repr(exc))
            time.sleep(0.05)

    sweeper = threading.Thread(target=sweep, daemon=True)
    sweeper.start()
    try:
        outs = [p.communicate(timeout=300)[0] for p in procs]
    finally:
        stop.set()
        sweeper.join()
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert [p.returncode for p in procs] == [0, 0], outs
    assert errors == []
    for k in (1, 2):
        records = [json.loads(line) for line in (tmp_path / f"run{k}").glob("*/os/episodes.jsonl").__next__()
                   .read_text().splitlines()]
        assert {r["index"]: r["reward"] for r in records} == ORACLE_REWARDS, [r["error"] for r in records]
        assert {r["status"] for r in records} == {"completed"}
    # each run removed its own containers when it ended
    left = [c for c in cli.api.containers(all=True, filters={"label": f"harness.kind={KIND}"})
            if c["Labels"].get("harness.owner") in {str(p.pid) for p in procs}]
    assert left == []
    cli.close()
