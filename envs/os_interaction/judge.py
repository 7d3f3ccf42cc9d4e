"""Scripts run outside the agent's shell (init, example, check) and the upstream judging rules.

A script runs as upstream's ``execute_independent``: ``bash -c CODE -- ARGS`` or ``python3 -c CODE ARGS`` in its own
``docker exec`` (stdout and stderr together). No wrapper process is added (process-counting examples count the
judge's own process tree); instead the call is abandoned after ``timeout`` seconds, so no script can hang an episode
(the container's removal ends it). Upstream set no limit; ours (:data:`SCRIPT_TIMEOUT`) is generous, because on a
loaded machine check scripts that start a hundred processes (std 5/new.json 0, 1) take minutes.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from .data import Record, Script


SCRIPT_TIMEOUT = 300.0  # seconds for one init, example or check script


@dataclass
class ExecResult:
    exit_code: int
    output: str
    finished: bool = True  # False: the script could not be started, or did not end within the time limit


def run_script(container, script: Script, *params: str, timeout: float = SCRIPT_TIMEOUT) -> ExecResult:
    language, code = script
    if language == "bash":
        cmd = ["bash", "-c", code] + (["--", *params] if params else [])
    elif language == "python":
        cmd = ["python3", "-c", code, *params]
    else:  # upstream also knows c/c++, which no record uses and the images have no compiler for
        raise ValueError(f"unsupported script language {language!r}")
    box: dict = {}

    def call() -> None:
        try:
            box["result"] = container.exec_run(cmd)
        except Exception as exc:  # noqa: BLE001 - e.g. the container cannot fork any more
            box["error"] = exc

    t = threading.Thread(target=call, daemon=True)
    t.start()
    t.join(timeout)
    if "result" not in box:
        reason = f"{type(box['error']).__name__}: {box['error']}" if "error" in box else f"timed out after {timeout:g} s"
        return ExecResult(-1, f"[script failed to run: {reason}]", finished=False)
    r = box["result"]
    return ExecResult(r.exit_code if r.exit_code is not None else -1, (r.output or b"").decode("utf-8", "replace"))


def judge(record: Record, container, answer: str | None, timeout: float = SCRIPT_TIMEOUT) -> tuple[bool, dict]:
    """Upstream's verdict for ``answer`` (None when the agent finished without one or never answered)."""
    if record.match is not None:
        if answer is None:
            return False, {"judge": "match"}
        if record.match.get("strip", True):
            answer = answer.strip()
        if "answer" in record.match:
            return answer == record.match["answer"], {"judge": "match"}
        return re.search(record.match["regex"], answer) is not None, {"judge": "match"}
    params = [str(answer)]
    for i, script in enumerate(record.check or ()):
        if script is None:
            if record.example is None:
                return False, {"judge": "check", "error": "check needs the example, which the record lacks"}
            script = record.example
        r = run_script(container, script, *params, timeout=timeout)
        if r.exit_code != 0:
            # a script that cannot run or never ends fails the check, as a failing one does: the agent may have broken
            # the system it checks (a fork bomb, a command that hangs)
            return False, {"judge": "check", "failed_script": i, **({} if r.finished else {"script_error": r.output})}
        params.append(r.output)
    return True, {"judge": "check"}
