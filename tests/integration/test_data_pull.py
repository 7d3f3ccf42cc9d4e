"""harness data pull --mirror against a loopback HTTP server serving a copy of a few fixture files."""
import hashlib
import json
import subprocess
import sys

from tests.helpers import harness_env, raw_file_server, run_harness


def test_pull_from_http_mirror_checks_sha256(tmp_path):
    mirror = tmp_path / "mirror"
    files = {"agentbench/dbbench/tiny.jsonl": b'{"a": 1}\n', "general/gsm8k/tiny.jsonl": b'{"q": "1+1"}\n',
             "bad/tampered.txt": b"served content"}
    for rel, data in files.items():
        (mirror / rel).parent.mkdir(parents=True, exist_ok=True)
        (mirror / rel).write_bytes(data)
    manifest = {"sources": {}, "files": [
        {"path": rel, "sha256": hashlib.sha256(b"expected content" if rel.startswith("bad") else data).hexdigest(),
         "source": None, "upstream": None} for rel, data in files.items()]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with raw_file_server(mirror) as base:
        dest = tmp_path / "data"
        r = run_harness("data", "pull", "--mirror", base, "--dest", str(dest),
                        "--manifest", str(tmp_path / "manifest.json"))
        assert r.returncode == 1  # the tampered file fails
        assert "bad/tampered.txt" in r.stderr and "sha256 mismatch" in r.stderr
        assert (dest / "agentbench/dbbench/tiny.jsonl").read_bytes() == files["agentbench/dbbench/tiny.jsonl"]
        assert (dest / "general/gsm8k/tiny.jsonl").exists()
        assert not (dest / "bad/tampered.txt").exists()
        assert not list(dest.glob(".pull-*"))  # no partial download left behind
        r = run_harness("data", "pull", "--mirror", str(mirror), "--dest", str(dest), "--only", "agentbench",
                        "--manifest", str(tmp_path / "manifest.json"))
        assert r.returncode == 0 and "1 already present" in r.stderr


def test_shipped_manifest_matches_the_data_when_present():
    from harness.data import data_dir
    from harness.datapull import load_manifest, sha256_file
    import pytest

    root = data_dir()
    if not (root / "agentbench").exists():
        pytest.skip(f"task data {root} is absent (set HARNESS_DATA to the shared data folder)")
    man = load_manifest()
    checked = 0
    for entry in man["files"][::25]:
        path = root / entry["path"]
        if path.exists():
            assert sha256_file(path) == entry["sha256"], entry["path"]
            checked += 1
    assert checked > 10


def test_derived_file_is_built_from_upstream_sources_at_the_pinned_commit(tmp_path):
    """The HotpotQA prompt file is derived by its extractor from upstream files fetched over HTTP (here a loopback
    server serving upstream-shaped fixture sources under <repo>/<commit>/), then checked against its sha256."""
    from tests.helpers import FIXTURES

    upstream = FIXTURES / "hotpotqa" / "upstream"
    files = [p.relative_to(upstream).as_posix() for p in upstream.rglob("*.py")]
    serve = tmp_path / "raw" / "THUDM" / "AgentTuning" / "c0ffee"
    for rel in files:
        (serve / rel).parent.mkdir(parents=True, exist_ok=True)
        (serve / rel).write_bytes((upstream / rel).read_bytes())
    expected = tmp_path / "expected.json"
    r = subprocess.run([sys.executable, "-m", "envs.hotpotqa.extract_prompts", str(upstream), str(expected)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    manifest = {"sources": {"AT": {"repo": "THUDM/AgentTuning", "commit": "c0ffee"}},
                "derived": [{"path": "hotpotqa/prompt.json", "module": "envs.hotpotqa.extract_prompts",
                             "sha256": hashlib.sha256(expected.read_bytes()).hexdigest(),
                             "inputs": [{"source": "AT", "files": files}]}],
                "files": [{"path": "hotpotqa/prompt.json", "source": None, "upstream": None,
                           "sha256": hashlib.sha256(expected.read_bytes()).hexdigest()}]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with raw_file_server(tmp_path / "raw") as base:
        env = harness_env(HARNESS_RAW_BASE=base)
        r = run_harness("data", "pull", "--dest", str(tmp_path / "data"), "--manifest", str(tmp_path / "manifest.json"),
                        env=env)
        assert r.returncode == 0, r.stderr
        assert (tmp_path / "data" / "hotpotqa" / "prompt.json").read_bytes() == expected.read_bytes()
