"""OS env against the real Docker engine and the built image: protocol, judging, shell semantics (fixture records)."""
from __future__ import annotations

from pathlib import Path

import pytest
from tests.integration.os_support import need_image

pytestmark = pytest.mark.integration
docker = pytest.importorskip("docker")

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "os"
HELLO, REGEX, QUIRK, COUNT, STATE = range(5)  # episode indices of the fixture split


@pytest.fixture(scope="module")
def env():
    need_image()
    from envs.os_interaction.env import OSEnv
    e = OSEnv(split="std", data_dir=FIXTURE, pool_size=1)
    yield e
    e.close()


def bash(code: str) -> str:
    return f"Think: run it.\n\nAct: bash\n\n```bash\n{code}\n```"


def test_match_answer_and_wrong_answer(env):
    obs, info = env.reset(options={"index": HELLO})
    assert info["messages"][-1]["content"].endswith("Say hello.") and obs == info["messages"][-1]["content"]
    _, reward, done, _, info = env.step("Think: easy.\n\nAct: answer( hello )")
    assert (reward, done, info["status"]) == (1.0, True, "completed")
    assert info["metrics"]["sample_id"] == "std-001-probe-00001"
    env.reset(options={"index": HELLO})
    _, reward, done, _, info = env.step("Act: answer(goodbye)")
    assert (reward, done) == (0.0, True)


def test_check_with_example_output(env):
    env.reset(options={"index": COUNT})  # init made three files
    obs, reward, done, _, _ = env.step(bash("find /srv/box -type f | wc -l"))
    assert not done and obs == "The output of the OS:\n\n3"
    _, reward, done, _, info = env.step("Act: answer(3)")
    assert reward == 1.0 and info["metrics"]["judge"] == "check"
    env.reset(options={"index": COUNT})
    _, reward, _, _, _ = env.step("Act: answer(4)")
    assert reward == 0.0


def test_start_script_state_persists_in_the_shell(env):
    env.reset(options={"index": REGEX})
    obs, *_ = env.step(bash('echo "$WORD"; pwd'))
    assert obs == "The output of the OS:\n\nbanana\n/tmp"
    obs, *_ = env.step(bash("cd /var\nexport N=7\ncat <<EOF\nn=$N\nEOF"))
    assert obs == "The output of the OS:\n\nn=7"
    obs, *_ = env.step(bash("pwd; echo $N"))
    assert obs == "The output of the OS:\n\n/var\n7"
    obs, *_ = env.step(bash("true"))
    assert obs == "The output of the OS is empty."
    _, reward, done, _, _ = env.step("Act: answer(banana)")
    assert reward == 1.0


def test_state_check_finish(env):
    env.reset(options={"index": STATE})
    _, reward, done, _, info = env.step("Act: finish")
    assert (reward, info["status"]) == (0.0, "completed")
    env.reset(options={"index": STATE})
    env.step(bash("echo yes > /srv/done"))
    _, reward, done, _, _ = env.step("Act: finish")
    assert reward == 1.0


def test_unparseable_reply_ends_the_episode(env):
    env.reset(options={"index": STATE})
    env.step(bash("echo yes > /srv/done"))
    _, reward, done, _, info = env.step("I would rather chat.")
    # upstream judges the container anyway: the state check still passes
    assert done and info["status"] == "agent_invalid_action" and reward == 1.0


def test_round_limit(env):
    env.reset(options={"index": HELLO})
    for i in range(7):
        _, _, done, _, _ = env.step(bash(f"echo {i}"))
        assert not done
    _, reward, done, _, info = env.step(bash("echo 7"))
    assert done and info["status"] == "task_limit_reached" and reward == 0.0


def test_nested_login_shell_and_exit(env):
    env.reset(options={"index": HELLO})
    obs, *_ = env.step(bash("useradd -m -s /bin/bash jack && su - jack"))
    obs, *_ = env.step(bash("whoami; pwd"))
    assert obs == "The output of the OS:\n\njack\n/home/jack"
    obs, *_ = env.step(bash("exit"))
    assert "<<" not in obs
    obs, *_ = env.step(bash("whoami"))
    assert obs == "The output of the OS:\n\nroot"
    env.step(bash("exit"))  # the login shell itself ends: the next command gets a new one
    obs, *_ = env.step(bash("echo back"))
    assert obs == "The output of the OS:\n\nback"


def test_terminal_escapes_are_removed(env):
    env.reset(options={"index": HELLO})
    obs, *_ = env.step(bash("printf '\\033[1;31mred\\033[0m\\n'; ls --color=always -d /tmp"))
    assert "\x1b" not in obs and obs == "The output of the OS:\n\nred\n/tmp"


def test_packages_image_has_npm():
    from envs.os_interaction.images import PACKAGES
    from harness.services.images import image_is_current
    if not image_is_current(PACKAGES):
        pytest.skip("harness/os-packages is built only with HARNESS_OS_PACKAGES_IMAGE=1 harness setup --tasks os")
    from envs.os_interaction.env import OSEnv
    e = OSEnv(split="std", data_dir=FIXTURE, pool_size=0, image=PACKAGES.tag)
    try:
        e.reset(options={"index": HELLO})
        obs, *_ = e.step(bash("[ -x \"$(command -v npm)\" ] && echo yes || echo no"))
        assert obs == "The output of the OS:\n\nyes"
    finally:
        e.close()


def _synthetic(env, **fields):
    """Append a record made here to the env's split; returns its index."""
    from envs.os_interaction.data import Record
    base = env.records[COUNT]
    env.records = list(env.records) + [Record(**{**base.__dict__, "sample_id": "synthetic", **fields})]
    return len(env.records) - 1


def test_oracle_waits_for_an_example_slower_than_the_command_limit():
    need_image()
    from envs.os_interaction.env import OSEnv
    e = OSEnv(split="std", data_dir=FIXTURE, pool_size=0, command_timeout=2)
    try:
        i = _synthetic(e, init=(), example=("bash", "sleep 3; echo 42"))
        e.reset(options={"index": i})
        gen, replies = e.oracle_actions(i), []
        reply = next(gen)
        while True:
            replies.append(reply)
            obs, reward, done, _, info = e.step(reply)
            if done:
                break
            reply = gen.send(obs)
        # foreground run cut at 2 s, background run, one wait cut at 2 s, one that returns, the answer
        assert len(replies) == 5 and replies[-1].endswith("Act: answer(42)")
        assert reward == 1.0 and info["metrics"]["timeouts"] == 2
    finally:
        e.close()


def test_init_that_does_not_finish_is_an_error_not_an_episode():
    need_image()
    from envs.os_interaction.env import OSEnv
    e = OSEnv(split="std", data_dir=FIXTURE, pool_size=0, script_timeout=2)
    try:
        i = _synthetic(e, init=(("bash", "sleep 30"),))
        with pytest.raises(RuntimeError, match="init script of synthetic did not run"):
            e.reset(options={"index": i})
    finally:
        e.close()
