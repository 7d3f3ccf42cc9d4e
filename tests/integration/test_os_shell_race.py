"""The agent's login shell is ready before the task's init runs (issue 20: Q30-00004 once saw the PATH that its init
wrote into ~/.bashrc, because the shell was still starting when init ran).

The episode's order is reproduced on one container: open the shell, run an init that appends to ``~/.bashrc``, ask the
shell what it read. The race is made likely: the login shell's startup spins a busy loop (as a loaded machine slows
it) while a busy loop loads the container's CPU.
"""
from __future__ import annotations

import pytest
from tests.integration.os_support import need_image

pytestmark = pytest.mark.integration
docker = pytest.importorskip("docker")

REPETITIONS = 50
STARTUP_SPIN = 5000  # iterations of a bash loop in /etc/profile.d: tens of ms of CPU for every login shell


@pytest.fixture(scope="module")
def loaded_container():
    need_image()
    from envs.os_interaction import containers
    from envs.os_interaction.images import DEFAULT
    from envs.os_interaction.judge import run_script
    cli = containers.client()
    c = cli.containers.run(**containers.run_kwargs(DEFAULT.tag, containers.Limits()))
    try:
        spin = f"i=0; while [ $i -lt {STARTUP_SPIN} ]; do i=$((i+1)); done"
        assert run_script(c, ("bash", f"echo '{spin}' > /etc/profile.d/zz-slow-start.sh")).exit_code == 0
        c.exec_run(["bash", "-c", "while :; do :; done"], detach=True)  # shares the container's one CPU
        yield cli, c
    finally:
        containers.remove_own(cli)
        cli.close()


def test_init_never_reaches_the_agents_shell(loaded_container):
    from envs.os_interaction.judge import run_script
    from envs.os_interaction.shell import Shell
    cli, c = loaded_container
    seen = []
    for i in range(REPETITIONS):
        shell = Shell(cli.api, c.id, timeout=30)  # what OSEnv._reset does: the shell first, then init
        try:
            assert run_script(c, ("bash", f"echo 'export RACE_{i}=init' >> ~/.bashrc")).exit_code == 0
            out, timed_out = shell.run(f'echo "${{RACE_{i}:-unset}}"')
        finally:
            shell.close()
        seen.append("timeout" if timed_out else out.strip())
    assert seen == ["unset"] * REPETITIONS, f"{REPETITIONS - seen.count('unset')} of {REPETITIONS} shells read init"
