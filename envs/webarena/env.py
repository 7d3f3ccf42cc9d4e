"""WebArena as AgentTuning ran it for open models (``eval-tgi.sh``, ``run.py``): the 2-shot CoT prompt over
viewport-limited accessibility trees with element ids, id-based actions, 30 steps, the early-stop rules, and
upstream's evaluators on the live page.

Every model call sees a fresh prompt (upstream's Llama-2 framing): the intro, the acknowledgement, the two examples,
then ``OBSERVATION`` (the tabs line and the tree, cut to 1,920 tokens), ``URL`` (shown under the public-looking name of
its site), ``OBJECTIVE`` and ``PREVIOUS ACTION`` (the last action with its element's line, or a feedback sentence).
``step`` returns that prompt as ``info["messages"]``; its observation is the newest user turn.

Before each model call the episode stops early, as upstream: after 30 actions (``task_limit_reached``), after 3
unparsable replies in a row (``agent_validation_failed``), after the same action 3 times in a row or the same typing
3 times in all (``agent_invalid_action``); the evaluators then judge the final state with the answer
"Early stop: <reason>", as upstream does. ``stop [answer]`` ends the episode (``completed``). An action that fails
(an id that is not on the page, a tab that does not exist) does nothing and the episode goes on.

``fuzzy_match`` references are judged by a model: the final step's ``metrics["judge_requests"]`` holds the questions
(upstream's prompt) and the ``webarena`` agent strategy asks ``--judge`` and multiplies the verdicts into the reward.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Iterator

from harness import StepResult, TextEnv, UsageError, data_dir as default_data_dir, status as S

from . import sites
from .actions import (Action, ActionParsingError, describe, equivalent, extract, none_action, parse)
from .browser import VIEWPORT, BrowserHost, Session
from .evaluate import Helpers, evaluate
from .observation import Rendered, render
from .prompts import load_texts
from .tokens import truncate

MAX_STEPS = 30
ORACLE_REF = re.compile(r"\{(\w+) ('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")\}")


class WebArenaEnv(TextEnv):
    max_rounds = None  # the env ends episodes itself (upstream's early stop, evaluated)

    def __init__(self, split: str = "test", data_dir: str | Path | None = None, standin: bool = False,
                 texts: str | None = None, max_steps: int = MAX_STEPS, parsing_failure_th: int = 3,
                 repeating_action_failure_th: int = 3, max_obs_length: int = 1920,
                 sleep_after_execution: float = 2.5, eval_settle: float = 3.0, confine: bool | None = None,
                 **kwargs: Any) -> None:
        self.standin = bool(standin)
        root = Path(data_dir) if data_dir else default_data_dir()
        self.texts = load_texts(root, texts)
        self.max_steps, self.max_obs_length = int(max_steps), int(max_obs_length)
        self.thresholds = (int(parsing_failure_th), int(repeating_action_failure_th))
        self.sleep_after, self.eval_settle = float(sleep_after_execution), float(eval_settle)
        self.server = None
        if self.standin:
            from .standin import StandinSites
            self.server = StandinSites(self.texts["accounts"])
            self.site_urls = dict(self.server.urls)
        else:
            self.site_urls = sites.from_environment()
        super().__init__(split, root, **kwargs)
        self.urls = sites.UrlMap(self.site_urls, self.texts["url_mappings"])
        self.helpers = Helpers(self.site_urls, self.texts["accounts"])
        if confine is None:  # pages reach only the sites' hosts unless HARNESS_WEBARENA_CONFINE=0
            confine = os.environ.get("HARNESS_WEBARENA_CONFINE", "1") != "0"
        self.host = BrowserHost.get(sites.hosts(self.site_urls) if confine else ())
        self.logins = sites.Logins(self.host, self.site_urls, self.texts["accounts"])
        self.session: Session | None = None
        self.rendered: Rendered | None = None

    # --- data ----------------------------------------------------------------------------------------------------
    def _load(self, split: str) -> list[dict[str, Any]]:
        if self.standin:
            if split != "standin":
                raise UsageError(f"webarena_standin has only the split 'standin', not {split!r}")
            from .standin import TASKS
            raw = TASKS.read_text(encoding="utf-8")
        else:
            if split != "test":
                raise UsageError(f"webarena has only the test split (812 tasks), not {split!r}")
            path = self.data_dir / "webarena" / "test.raw.json"
            if not path.exists():
                raise UsageError(f"missing WebArena task configs {path}: set HARNESS_DATA or run `harness data pull`")
            raw = path.read_text(encoding="utf-8")
        return json.loads(sites.fill_placeholders(raw, self.site_urls))

    def episode_facts(self, index: int) -> dict[str, Any]:
        r = self.records[index]
        return {"sites": "+".join(r["sites"]), "eval_types": "+".join(r["eval"]["eval_types"]),
                "task_id": r["task_id"], "intent_template_id": r.get("intent_template_id")}

    # --- prompt --------------------------------------------------------------------------------------------------
    def _prompt(self) -> list[dict[str, str]]:
        p = self.texts["prompt"]
        observation = truncate(self.rendered.text, self.max_obs_length)
        current = p["template"].format(objective=self.record["intent"], url=self.urls.to_public(self.session.url),
                                       observation=observation, previous_action=self.history[-1])
        messages = [{"role": "user", "content": p["intro"].strip()},
                    {"role": "assistant", "content": self.texts["ack"]}]
        for x, y in p["examples"]:
            messages += [{"role": "user", "content": x.strip()}, {"role": "assistant", "content": y.strip()}]
        messages.append({"role": "user", "content": current.strip()})
        return messages

    def _observe(self) -> None:
        self.rendered = render(self.session.snapshot(), self.session.viewport)

    # --- episode -------------------------------------------------------------------------------------------------
    def _reset(self, record: dict[str, Any]) -> list[dict[str, str]]:
        self.record = record
        if self.server is not None:
            self.server.reset()
        storage = self.logins.state(sites.login_sites(record.get("storage_state")))
        self.session = Session(self.host, VIEWPORT)
        start = record.get("start_url")
        self.session.open(start.split(" |AND| ") if start else [], storage, record.get("geolocation"))
        self._pause()
        self.actions: list[Action] = []
        self.history: list[str] = ["None"]
        self.fail_errors: list[str] = []
        self._observe()
        return self._prompt()

    def _pause(self) -> None:
        self.session.settle(self.sleep_after)

    def _step(self, reply: str) -> StepResult:
        splitter = self.texts["prompt"]["meta_data"]["action_splitter"]
        try:
            action = parse(self.urls.to_local(extract(reply, splitter)))
            action.raw = reply
        except ActionParsingError:
            action = none_action(reply)
        self.actions.append(action)
        texts = {k: v["text"] for k, v in self.rendered.nodes.items()}
        self.history.append(describe(action, texts, self.texts["feedback"], splitter))
        if action.kind == "stop":
            return self._finish(action.answer, S.COMPLETED)
        try:
            self._execute(action)
        except Exception as exc:  # upstream: the action fails, the episode goes on
            self.fail_errors.append(f"{type(exc).__name__}: {exc}"[:300])
        self._pause()
        self._observe()
        stop = self._early_stop()
        if stop is not None:
            reason, status = stop
            return self._finish(f"Early stop: {reason}", status, early_stop=reason)
        messages = self._prompt()
        return StepResult(observation=messages[-1]["content"], messages=messages)

    def _execute(self, a: Action) -> None:
        s, vp = self.session, self.session.viewport
        if a.kind in ("click", "hover", "type"):
            x, y = self.rendered.element_center(a.element_id, vp)
            if a.kind == "hover":
                s.hover_at(x * vp["width"], y * vp["height"])
            else:
                s.click_at(x * vp["width"], y * vp["height"])
            if a.kind == "type":
                s.type_text(a.text)
        elif a.kind == "scroll":
            s.scroll("up" if "up" in a.direction else "down")
        elif a.kind == "press":
            s.press(a.key_comb)
        elif a.kind == "goto":
            s.goto(a.url)
        elif a.kind == "go_back":
            s.go_back()
        elif a.kind == "go_forward":
            s.go_forward()
        elif a.kind == "new_tab":
            s.new_tab()
        elif a.kind == "tab_focus":
            s.tab_focus(a.page_number)
        elif a.kind == "close_tab":
            s.close_tab()

    def _early_stop(self) -> tuple[str, str] | None:
        acts = self.actions
        if len(acts) >= self.max_steps:
            return f"Reach max steps {self.max_steps}", S.TASK_LIMIT_REACHED
        k = self.thresholds[0]
        if len(acts) >= k and all(a.kind == "none" for a in acts[-k:]):
            return f"Failed to parse actions for {k} times", S.AGENT_VALIDATION_FAILED
        k = self.thresholds[1]
        last = acts[-1]
        if last.kind != "type":
            if len(acts) >= k and all(equivalent(a, last) for a in acts[-k:]):
                return f"Same action for {k} times", S.AGENT_INVALID_ACTION
        elif sum(equivalent(a, last) for a in acts) >= k:
            return f"Same typing action for {k} times", S.AGENT_INVALID_ACTION
        return None

    def _finish(self, answer: str, status: str, early_stop: str | None = None) -> StepResult:
        outcome = evaluate(self.record, answer, self.session, self.helpers, self.eval_settle)
        metrics: dict[str, Any] = {
            "task_id": self.record["task_id"], "answer": answer, "early_stop": early_stop,
            "final_url": self.session.url, "actions": len(self.actions),
            "unparsed": sum(a.kind == "none" for a in self.actions), "failed_actions": self.fail_errors,
            "checks": outcome.checks, "score_before_judge": outcome.score}
        if outcome.judge_questions:
            judge = self.texts["judge"]
            metrics["judge_requests"] = [
                {"reference": q["reference"], "pred": q["pred"],
                 "messages": [{"role": "system", "content": judge["system"]},
                              {"role": "user", "content": judge["user"].format(pred=q["pred"],
                                                                               reference=q["reference"])}]}
                for q in outcome.judge_questions] if outcome.score > 0 else []
            metrics["judge_skipped"] = outcome.score == 0  # the product is 0 whatever the judge says
        return StepResult(done=True, reward=outcome.score, status=status, metrics=metrics)

    def _close_episode(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    def close(self) -> None:
        super().close()
        if self.server is not None:
            self.server.close()
            self.server = None

    # --- oracle --------------------------------------------------------------------------------------------------
    def oracle_actions(self, index: int) -> Iterator[str]:
        """The task's gold sequence (``reference_action_sequence``); element references ``{role 'name'}`` become the
        id the element has on the page the model is looking at, so the gold replies are generated step by step."""
        seq = self.records[index].get("reference_action_sequence") or {}
        if seq.get("action_set_tag") != "id_accessibility_tree":
            raise NotImplementedError(f"task {index} has no id-based gold action sequence")
        phrase = self.texts["prompt"]["meta_data"]["answer_phrase"]
        splitter = self.texts["prompt"]["meta_data"]["action_splitter"]
        for template in seq["action_sequence"]:
            action = ORACLE_REF.sub(lambda m: self._element_id(m.group(1), m.group(2)), template)
            yield f"Let's think step-by-step. I follow the reference plan. {phrase} {splitter}{action}{splitter}"

    def _element_id(self, role: str, quoted: str) -> str:
        name = quoted[1:-1]
        wanted = f"] {role} {name!r}"
        for line in self.rendered.tree.split("\n"):
            found = re.match(r"\t*\[(\d+)\]", line)
            if found and (line.strip()[len(found.group(1)) + 1:] + " ").startswith(wanted + " "):
                return found.group(1)
        raise RuntimeError(f"oracle: no element {role} {name!r} on the page {self.session.url}")
