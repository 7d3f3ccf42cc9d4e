"""Write harness/data_manifest.json from a data folder: every file's sha256, and its upstream location where the
file is a verbatim copy (see the data folder's MANIFEST.md / MANIFEST-heldout.md). Run:
    python scripts/make_data_manifest.py $HARNESS_DATA [AGENTTUNING_GIT_DIR]
(the git dir of THUDM/AgentTuning lists the MiniWoB++ prompt files the derived texts are read from)
"""
import hashlib
import json
import re
import sys
from pathlib import Path

SOURCES = {
    "AB": {"repo": "THUDM/AgentBench", "commit": "41e6807349f741e06428fae3e9e4d334e7002362"},
    "EX": {"repo": "LeapLabTHU/ExpeL", "commit": "5d92a27c5b071362e77b9701ec0d1ed9e12dc51f"},
    "AT": {"repo": "THUDM/AgentTuning", "commit": "e33a45d7eab2b63cac4d1956da1e6377fca9fcc7"},
    "REACT": {"repo": "ysymyth/ReAct", "commit": "6bdb3a1fd38b8188fc7ba4102969fe483df8fdc9"},
    "RFX": {"repo": "noahshinn/reflexion", "commit": "218cf0ef1df84b05ce379dd4a8e47f17766733a0"},
    "HIPPO": {"repo": "OSU-NLP-Group/HippoRAG", "commit": "3d95d255a8db0c1699b853cfb4fbe5056708162d"},
    "REWOO": {"repo": "billxbf/ReWOO", "commit": "9cd0283043ff4be0c9d614fda2789d143ca6ffd1"},
    "GSM": {"repo": "openai/grade-school-math", "commit": "3101c7d5072418e28b9008a6636bde82a006892c"},
    "HE": {"repo": "openai/human-eval", "commit": "6d43fb980f9fee3c892a914eda09951f772ad10d"},
    "FC": {"repo": "lm-sys/FastChat", "commit": "0e6d3e4beaab66f4d3f93db72541a4abab8af28d"},
    "GYM": {"repo": "WooooDyy/AgentGym", "commit": "3ef9235d23e68e7c2920c5422ad957dc8ced5c6c"},
    "DEVI": {"repo": "Devi1k/AgentTuning", "commit": "abaf662d7efdaa303184e0a513a0cc4ec16430b0"},
}
# (local prefix, source, upstream prefix): the first match wins; files matching none are derived (mirror only)
RULES = [
    ("agentbench/os_interaction/NOTES.md", None, None),
    ("agentbench/os_interaction/", "AB", "data/os_interaction/"),
    ("agentbench/dbbench/", "AB", "data/dbbench/"),
    ("agentbench/knowledgegraph/ontology/", "AB", "src/server/tasks/knowledgegraph/ontology/"),
    ("agentbench/knowledgegraph/", "AB", "data/knowledgegraph/"),
    ("agentbench/alfworld/prompts/", "AB", "src/server/tasks/alfworld/prompts/"),
    ("agentbench/alfworld/", "AB", "data/alfworld/"),
    ("agentbench/mind2web/", "AB", "data/mind2web/prompt/"),
    ("alfworld/", "EX", "data/alfworld/"),
    ("hotpotqa/hotpot_dev_v1_simplified.json", "REACT", "data/hotpot_dev_v1_simplified.json"),
    ("hotpotqa/hotpot-qa-distractor-sample.joblib", "RFX", "hotpotqa_runs/data/hotpot-qa-distractor-sample.joblib"),
    ("hotpotqa/agenttuning_easy.joblib", "AT", "eval_heldout/hotpotQA/src/data/easy.joblib"),
    ("hotpotqa/agenttuning_medium.joblib", "AT", "eval_heldout/hotpotQA/src/data/medium.joblib"),
    ("hotpotqa/hipporag_hotpotqa_train.json", "HIPPO", "data/hotpotqa_train.json"),
    ("hotpotqa/hipporag_hotpotqa_train_corpus.json", "HIPPO", "data/hotpotqa_train_corpus.json"),
    ("rewoo/bigbench/", "REWOO", "data/bigbench/"),
    ("rewoo/SOTU/", "REWOO", "data/SOTU/"),
    ("rewoo/docs/", "REWOO", "data/docs/"),
    ("general/gsm8k/test.jsonl", "GSM", "grade_school_math/data/test.jsonl"),
    ("general/gsm8k/train.jsonl", "GSM", "grade_school_math/data/train.jsonl"),
    ("general/humaneval/HumanEval.jsonl.gz", "HE", "data/HumanEval.jsonl.gz"),
    ("general/mt_bench/judge_prompts.jsonl", "FC", "fastchat/llm_judge/data/judge_prompts.jsonl"),
    ("general/mt_bench/", "FC", "fastchat/llm_judge/data/mt_bench/"),
    ("training/agentinstruct_partial/val_set_200.json", "DEVI", "val_set_200.json"),
    ("webshop/items_ins_v2_1000.json", "GYM", "agentenv-webshop/webshop/data/items_ins_v2_1000.json"),
    ("webshop/", "GYM", "agentenv-webshop/webshop/baseline_models/data/"),
    ("miniwob/available_tasks.txt", "AT", "eval_heldout/miniwob++/available_tasks.txt"),
    ("miniwob/few-shot.json", "AT", "eval_heldout/miniwob++/prompt/few-shot.json"),
    ("sciworld/prompt", "AT", "eval_heldout/science-world/prompts/prompt"),
    ("dcg/card_game_std.yaml", "AT", "AgentBench.old/configs/tasks/card_game/std.yaml"),
    ("dcg/card_game_dev.yaml", "AT", "AgentBench.old/configs/tasks/card_game/dev.yaml"),
    ("dcg/card_game_ext.yaml", "AT", "AgentBench.old/configs/tasks/card_game/ext.yaml"),
    ("dcg/card.sh", "AT", "AgentBench.old/eval/single-task/card.sh"),
]
DERIVED_NAMES = ("agenttuning_", "MANIFEST", "SHA256SUMS", "README.md", "GOLD.md")
# Files the project derives itself from upstream sources (texts read with ast; see each module's docstring)
DERIVED = [
    {"path": "hotpotqa/agenttuning_react_prompt.json",
     "sha256": "6ada60415e8396cb752d49857dcdf3cc7f71d4c2047cbbb1906bdd3e420b67a1",
     "module": "envs.hotpotqa.extract_prompts",
     "inputs": [{"source": "AT", "files": [f"eval_heldout/hotpotQA/src/{f}.py"
                                           for f in ("pre_prompt", "fewshots", "agent_arch")]}]},
    {"path": "rewoo/agenttuning_rewoo_prompt.json",
     "sha256": "492a27c03af659e679f41a42791b42f2b564b14f6f635e725e4785403a2d7d29",
     "module": "envs.rewoo.extract_prompts",
     "inputs": [{"source": "AT", "files": [f"eval_heldout/rewoo/{f}" for f in (
         "prompts/planner.py", "prompts/solver.py", "prompts/fewshots.py", "utils/util.py", "nodes/Planner.py",
         "nodes/Worker.py")]},
         {"pypi": "langchain==0.0.187", "files": ["langchain/evaluation/qa/eval_prompt.py"]}]},
]
# extractors called as `python -m MODULE CHECKOUT DATA_DIR` (they write DATA_DIR/<path>); inputs filled in main()
DERIVED_DATA_DIR = [
    {"path": "sciworld/agenttuning_texts.json", "module": "envs.sciworld.prompts", "layout": "data_dir",
     "sha256": "555899782e6db086ac280331c3aa1e3652395eb324752340d933a18c00ec02ab",
     "inputs": [{"source": "AT", "files": ["eval_heldout/science-world/eval.py"]}]},
    {"path": "miniwob/agenttuning_texts.json", "module": "envs.miniwob.prompts", "layout": "data_dir",
     "sha256": "6b53dca9f77bf13094f4415459bdb148a0cffa742954bf76c98772b121a00906",
     "inputs": [{"source": "AT", "files": ["eval_heldout/miniwob++/llm_agent.py", "eval_heldout/miniwob++/prompt.py"],
                 "list_from": "eval_heldout/miniwob++/prompt/"}]},
]
# the card game's source tree, packed by the project's own packer (MODULE ROOT OUT) from the upstream files; the
# binaries upstream committed (compiled SDK modules, the CMake build folder, logic/bin/main, logic/src/main) are left out
DCG_TREE = "AgentBench.old/src/tasks/card_game/"
DCG_BINARY = r"(\.so|\.pyd)$|/sdk/build/|/logic/bin/main$|/logic/src/main$"
DERIVED_PACKED = [
    {"path": "dcg/agentbench_old_card_game_src.tar.gz", "module": "envs.dcg.pack_source",
     "sha256": "f5646259b127473aebbe92aea510655fdd5a89be3aca764612d436ab806bc5c0",
     "inputs": [{"source": "AT", "files": [], "list_from": DCG_TREE, "exclude": DCG_BINARY}]},
]
EXTERNAL = [
    {"name": "AgentInstruct (full, 1,866 trajectories with loss flags)",
     "url": "https://huggingface.co/datasets/THUDM/AgentInstruct", "put_under": "training/agentinstruct/"},
    {"name": "ShareGPT with GPT-3.5 / GPT-4 labels (e.g. OpenChat's sharegpt_gpt4)",
     "url": "https://huggingface.co/datasets/openchat/openchat_sharegpt4_dataset", "put_under": "training/sharegpt/"},
]


def _derived(agenttuning_git: Path | None) -> list[dict]:
    """DERIVED plus DERIVED_DATA_DIR, folder inputs listed from an AgentTuning git dir (or kept from the shipped
    manifest when none is given)."""
    import subprocess

    shipped = Path(__file__).resolve().parent.parent / "harness" / "data_manifest.json"
    old = {d["path"]: d for d in json.loads(shipped.read_text()).get("derived", [])} if shipped.exists() else {}
    out = [dict(d) for d in DERIVED]
    for entry in DERIVED_DATA_DIR + DERIVED_PACKED:
        entry = json.loads(json.dumps(entry))
        for inp in entry["inputs"]:
            folder = inp.pop("list_from", None)
            exclude = inp.pop("exclude", None)
            if folder is None:
                continue
            if agenttuning_git:
                listed = subprocess.run(["git", "--git-dir", str(agenttuning_git), "ls-tree", "-r", "--name-only",
                                         SOURCES["AT"]["commit"], folder], check=True, capture_output=True,
                                        text=True).stdout.split()
            else:
                listed = [f for i in old[entry["path"]]["inputs"] for f in i["files"] if f.startswith(folder)]
            inp["files"] += sorted(f for f in listed if not (exclude and re.search(exclude, f)))
        out.append(entry)
    return out


def main(root: Path, agenttuning_git: Path | None = None) -> None:
    derived = _derived(agenttuning_git)
    files = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        entry = {"path": rel, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "size": path.stat().st_size,
                 "source": None, "upstream": None}
        if not any(n in path.name for n in DERIVED_NAMES) or rel.startswith(("agentbench/os_interaction/scripts",)):
            for prefix, src, up in RULES:
                if rel.startswith(prefix):
                    if src:
                        entry["source"], entry["upstream"] = src, up + rel[len(prefix):]
                    break
        files.append(entry)
    known = {f["path"] for f in files}
    for d in derived:
        if d["path"] not in known:
            files.append({"path": d["path"], "sha256": d["sha256"], "size": None, "source": None, "upstream": None})
    out = Path(__file__).resolve().parent.parent / "harness" / "data_manifest.json"
    out.write_text(json.dumps({"sources": SOURCES, "external": EXTERNAL, "derived": derived, "files": files}, indent=0) + "\n")
    print(f"{out}: {len(files)} files, {sum(1 for f in files if f['source'])} with an upstream location")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None)
