import json

import pytest

from harness import TaskSpec, UsageError, availability, register_task, resolve_tasks
from harness.backend import parse_model_spec
from tests.helpers import ECHO_REPLAY, harness_env, run_harness


def test_unavailable_env_is_listed_with_reason_and_others_still_work(tmp_path):
    plugin = tmp_path / "plug.py"
    plugin.write_text(
        "from harness import TaskSpec, register_task\n"
        "register_task(TaskSpec(name='needs_missing', category='test', env='x:Y', splits={'a': 1},"
        " default_split='a', metric='m', requires=('no_such_module_xyz',)))\n")
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('boom at import')\n")
    env = harness_env(HARNESS_PLUGINS=f"{plugin},{broken},{harness_env()['HARNESS_PLUGINS']}")
    r = run_harness("envs", "--json", env=env)
    assert r.returncode == 0, r.stderr
    rows = {row["name"]: row for row in json.loads(r.stdout)}
    assert rows["needs_missing"]["available"] is False
    assert "no_such_module_xyz" in rows["needs_missing"]["reason"]
    assert "boom at import" in rows[str(broken)]["reason"]
    assert rows["echo"]["available"] is True and rows["echo"]["splits"] == {"test": 300, "dev": 10}


def test_groups_resolve_and_unknown_names_raise():
    register_task(TaskSpec(name="g_in", category="held_in", env="x:Y", splits={"s": 1}, default_split="s", metric="m"),
                  replace=True)
    names = [s.name for s in resolve_tasks("held_in")]
    assert "g_in" in names
    assert all(s.category == "held_in" for s in resolve_tasks("held_in"))
    with pytest.raises(UsageError, match="unknown task 'nope'"):
        resolve_tasks("nope")
    assert availability(resolve_tasks("g_in")[0]).ok


@pytest.mark.parametrize("spec,msg", [("", "no model"), ("bogus:x", "unknown backend"), ("hf:", "needs a target"),
                                      ("hf:/m?bad", "key=value")])
def test_malformed_model_specs(spec, msg):
    with pytest.raises(UsageError, match=msg):
        parse_model_spec(spec)


def _bad_input_cases(tmp_path):
    bad_replay = tmp_path / "bad.jsonl"
    bad_replay.write_text('{"task": "echo", "index": 0, "responses": ["ok"]}\n{"task": "echo"}\n')
    return {
        "unknown task": (["--model", f"replay:{ECHO_REPLAY}", "--tasks", "nosuchtask"], "unknown task"),
        "unknown group": (["--model", f"replay:{ECHO_REPLAY}", "--tasks", "held_sideways"], "unknown task"),
        "malformed spec": (["--model", "gpt4", "--tasks", "echo"], "malformed model spec"),
        "malformed replay": (["--model", f"replay:{bad_replay}", "--tasks", "echo"], "line 2"),
        "missing replay": (["--model", f"replay:{tmp_path}/none.jsonl", "--tasks", "echo"], "does not exist"),
        "bad split": (["--model", "oracle", "--tasks", "echo", "--split", "xx"], "no split 'xx'"),
        "bad indices": (["--model", "oracle", "--tasks", "echo", "--indices", "1,x"], "--indices"),
        "bad option": (["--model", "oracle", "--tasks", "echo", "--concurrency", "zero"], "invalid int"),
    }


def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path):
    for label, (args, msg) in _bad_input_cases(tmp_path).items():
        out = tmp_path / f"out-{label.replace(' ', '-')}"
        r = run_harness("eval", *args, "--output", str(out), "--no-progress")
        assert r.returncode == 2, (label, r.stdout, r.stderr)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        assert len(lines) == 1 and msg in lines[0], (label, r.stderr)
        assert not out.exists(), label


def test_missing_data_is_a_usage_error(tmp_path):
    plugin = tmp_path / "needsdata.py"
    plugin.write_text(
        "from harness import TaskSpec, register_task\n"
        "register_task(TaskSpec(name='needs_data', category='test', env='echo_env:EchoEnv', splits={'test': 1},"
        " default_split='test', metric='m', data=('nope/not-here.json',)))\n")
    env = harness_env(HARNESS_PLUGINS=f"{harness_env()['HARNESS_PLUGINS']},{plugin}", HARNESS_DATA=str(tmp_path))
    r = run_harness("eval", "--model", "oracle", "--tasks", "needs_data", "--output", str(tmp_path / "o"), env=env)
    assert r.returncode == 2 and "needs data" in r.stderr and "HARNESS_DATA" in r.stderr
    assert not (tmp_path / "o").exists()


def test_env_that_refuses_to_start_stops_the_run_before_anything_is_written(tmp_path):
    plugin = tmp_path / "refuses.py"
    plugin.write_text(
        "from harness import TaskSpec, TextEnv, UsageError, register_task\n"
        "class Refuses(TextEnv):\n"
        "    def _load(self, split):\n"
        "        raise UsageError('this split needs an endpoint: set HARNESS_TEST_URL')\n"
        "for name, safe in (('refuses_thread', True), ('refuses_proc', False)):\n"
        "    register_task(TaskSpec(name=name, category='test', env='refuses:Refuses', splits={'a': 1},"
        " default_split='a', metric='m', thread_safe=safe))\n")
    env = harness_env(HARNESS_PLUGINS=f"{harness_env()['HARNESS_PLUGINS']},{plugin}",
                      PYTHONPATH=str(tmp_path))
    for task in ("refuses_thread", "refuses_proc"):
        out = tmp_path / f"out-{task}"
        r = run_harness("eval", "--model", "oracle", "--tasks", f"echo,{task}", "--output", str(out), env=env)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        assert r.returncode == 2 and len(lines) == 1 and "HARNESS_TEST_URL" in lines[0], (task, r.stderr)
        assert not out.exists()
    r = run_harness("eval", "--model", "oracle", "--tasks", "echo", "--indices", "5,400", "--output",
                    str(tmp_path / "o2"))
    assert r.returncode == 2 and "out of range" in r.stderr and not (tmp_path / "o2").exists()


def test_tasks_picked_through_a_group_that_cannot_start_are_skipped_with_a_notice(tmp_path):
    plugin = tmp_path / "refuses2.py"
    plugin.write_text(
        "from harness import TaskSpec, TextEnv, UsageError, register_task\n"
        "class Refuses(TextEnv):\n"
        "    def _load(self, split):\n"
        "        raise UsageError('this split needs an endpoint: set HARNESS_TEST_URL')\n"
        "register_task(TaskSpec(name='refuses_group', category='held_out', env='refuses2:Refuses', splits={'a': 1},"
        " default_split='a', metric='m'))\n")
    # an empty data folder: every real held-out task lacks its data, the plugin's env refuses to start
    env = harness_env(HARNESS_PLUGINS=f"{harness_env()['HARNESS_PLUGINS']},{plugin}", PYTHONPATH=str(tmp_path),
                      HARNESS_DATA=str(tmp_path / "nodata"))
    out = tmp_path / "out"
    r = run_harness("eval", "--model", "oracle", "--tasks", "echo,held_out", "--limit", "3", "--output", str(out),
                    "--no-progress", env=env)
    assert r.returncode == 0, r.stderr
    assert "note: skipping refuses_group: this split needs an endpoint" in r.stderr
    assert [p.name for p in sorted(out.glob("*/*/episodes.jsonl"))] == ["episodes.jsonl"]
    assert (next(out.glob("*/")) / "echo" / "episodes.jsonl").exists()
    r = run_harness("eval", "--model", "oracle", "--tasks", "held_out", "--output", str(tmp_path / "o2"), env=env)
    assert r.returncode == 2 and "none of the selected tasks can run here" in r.stderr
    assert not (tmp_path / "o2").exists()
