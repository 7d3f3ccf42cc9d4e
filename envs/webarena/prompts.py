"""AgentTuning's WebArena prompt texts (benchmark data, never written into code) and how they are read.

``HARNESS_DATA/webarena/agenttuning_prompt.json`` holds, read from a THUDM/AgentTuning checkout with ``ast`` (nothing
upstream is imported or run)::

    python -m envs.webarena.prompts AGENTTUNING_ROOT OUT.json

- ``prompt``: ``eval_heldout/webarena/agent/prompts/raw/p_cot_id_actree_2s.py`` (intro, the two examples, the
  observation template, the answer phrase and the action splitter), as upstream's ``to_json`` writes it;
- ``ack``: the assistant turn after the intro in the Llama-2 framing (``agent/prompts/prompt_constructor.py``);
- ``feedback``: the two action-history sentences of ``browser_env/helper_functions.py`` (an element id that is not
  on the page; a reply that cannot be parsed), as templates with ``{action}``, ``{element_id}``, ``{prediction}``
  and ``{splitter}``;
- ``judge``: the fuzzy-match question of ``evaluation_harness/helper_functions.py`` (system text and the user
  template with ``{pred}`` and ``{reference}``);
- ``accounts`` and ``url_mappings``: ``browser_env/env_config.py`` (the sites' log-ins, and the public-looking URL
  each site variable is shown as in prompts).
"""
from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from typing import Any

from harness import UsageError

FILE = "agenttuning_prompt.json"
ROOT = "eval_heldout/webarena"
SOURCES = {
    "prompt": f"{ROOT}/agent/prompts/raw/p_cot_id_actree_2s.py",
    "constructor": f"{ROOT}/agent/prompts/prompt_constructor.py",
    "feedback": f"{ROOT}/browser_env/helper_functions.py",
    "judge": f"{ROOT}/evaluation_harness/helper_functions.py",
    "config": f"{ROOT}/browser_env/env_config.py",
}
#: the f-string fields of the upstream sentences, by their expression, and the names the templates use
FIELDS = {"action_name": "action", "action['element_id']": "element_id", "action['raw_prediction']": "prediction",
          "action_splitter": "splitter", "pred": "pred", "reference": "reference"}
FEEDBACK_STARTS = {"missing_element": "Attempt to perfom", "unparsed": "The previous prediction you issued"}
REQUIRED = ("prompt", "ack", "feedback", "judge", "accounts", "url_mappings")


def load_texts(data_dir: Path, override: str | Path | None = None) -> dict[str, Any]:
    path = Path(override) if override else Path(data_dir) / "webarena" / FILE
    if not path.exists():
        raise UsageError(f"missing WebArena prompt texts {path}: make them with `harness data pull --only "
                         f"webarena/{FILE}` or `python -m envs.webarena.prompts AGENTTUNING_CHECKOUT {path}`")
    texts = json.loads(path.read_text(encoding="utf-8"))
    missing = [k for k in REQUIRED if k not in texts]
    if missing:
        raise UsageError(f"WebArena prompt texts {path} lack {', '.join(missing)}: rebuild them")
    return texts


# --- building the data file -----------------------------------------------------------------------------------------
def _template(node: ast.JoinedStr) -> str:
    out = []
    for part in node.values:
        if isinstance(part, ast.Constant):
            out.append(str(part.value).replace("{", "{{").replace("}", "}}"))
        else:
            expr = ast.unparse(part.value).replace('"', "'")
            if expr not in FIELDS:
                raise SystemExit(f"unexpected f-string field {expr!r}")
            out.append("{" + FIELDS[expr] + "}")
    return "".join(out)


def _first_text(node: ast.JoinedStr) -> str:
    first = node.values[0] if node.values else None
    return first.value if isinstance(first, ast.Constant) else ""


def _assigned(tree: ast.Module, name: str) -> ast.AST:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return node.value
    raise SystemExit(f"no assignment to {name}")


def _function(tree: ast.Module, name: str) -> ast.FunctionDef:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    raise SystemExit(f"no function {name}")


def extract(root: Path) -> dict[str, Any]:
    def parse(key: str) -> ast.Module:
        return ast.parse((root / SOURCES[key]).read_text(encoding="utf-8"))

    prompt = ast.literal_eval(_assigned(parse("prompt"), "prompt"))
    prompt["examples"] = [list(e) for e in prompt["examples"]]

    construct = _function(parse("constructor"), "get_lm_api_input")
    acks = [c.args[1].value for c in ast.walk(construct) if isinstance(c, ast.Call)
            and getattr(c.func, "attr", "") == "append_message" and len(c.args) == 2
            and isinstance(c.args[1], ast.Constant) and isinstance(c.args[1].value, str)]
    if len(acks) != 1:
        raise SystemExit(f"expected one literal assistant turn in get_lm_api_input, found {acks}")

    describe = _function(parse("feedback"), "get_action_description")
    strings = [n for n in ast.walk(describe) if isinstance(n, ast.JoinedStr)]
    feedback = {key: _template(next(n for n in strings if _first_text(n).startswith(start)))
                for key, start in FEEDBACK_STARTS.items()}

    fuzzy = _function(parse("judge"), "llm_fuzzy_match")
    dicts = [ast.literal_eval(d) if all(isinstance(v, ast.Constant) for v in d.values) else
             {k.value: v for k, v in zip(d.keys, d.values)} for d in ast.walk(fuzzy) if isinstance(d, ast.Dict)]
    system = next(d["content"] for d in dicts if d.get("role") == "system")
    user = next(d["content"] for d in dicts if isinstance(d.get("content"), ast.JoinedStr))
    judge = {"system": system, "user": _template(user)}

    config = parse("config")
    accounts = ast.literal_eval(_assigned(config, "ACCOUNTS"))
    mapping = _assigned(config, "URL_MAPPINGS")
    url_mappings = {k.id: ast.literal_eval(v) for k, v in zip(mapping.keys, mapping.values)}

    return {"source": f"THUDM/AgentTuning {ROOT}: " + ", ".join(sorted(set(SOURCES.values()))) +
                      " (literals read with ast)",
            "prompt": prompt, "ack": acks[0], "feedback": feedback, "judge": judge,
            "accounts": accounts, "url_mappings": url_mappings}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m envs.webarena.prompts AGENTTUNING_ROOT OUT.json", file=sys.stderr)
        return 2
    out = Path(args[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(extract(Path(args[0])), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
