"""``harness data pull`` rebuilds the card game's source tarball from the upstream files at the pinned AgentTuning
commit (served here by a loopback server laid out as raw.githubusercontent.com), byte for byte, and checks its sha256
against the shipped manifest."""
import hashlib
import tarfile

import pytest

from harness.datapull import load_manifest
from tests.conftest import need_data
from tests.helpers import harness_env, raw_file_server, run_harness

pytestmark = pytest.mark.integration

TARBALL = "dcg/agentbench_old_card_game_src.tar.gz"


def test_data_pull_packs_the_tarball_from_upstream_files(tmp_path):
    shared = need_data(*TARBALL.split("/"))
    manifest = load_manifest()
    entry = next(d for d in manifest["derived"] if d["path"] == TARBALL)
    source = manifest["sources"][entry["inputs"][0]["source"]]
    assert source == {"repo": "THUDM/AgentTuning", "commit": "e33a45d7eab2b63cac4d1956da1e6377fca9fcc7"}
    files = entry["inputs"][0]["files"]
    assert len(files) == 58 and not any(f.endswith((".so", ".pyd")) for f in files)
    serve = tmp_path / "raw" / source["repo"] / source["commit"]
    with tarfile.open(shared) as tf:  # the upstream files, as the raw file server would give them
        tf.extractall(serve, filter="data")
    with raw_file_server(tmp_path / "raw") as base:
        r = run_harness("data", "pull", "--dest", str(tmp_path / "data"), "--only", TARBALL,
                        env=harness_env(HARNESS_RAW_BASE=base), timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    built = (tmp_path / "data" / TARBALL).read_bytes()
    assert hashlib.sha256(built).hexdigest() == entry["sha256"] == hashlib.sha256(shared.read_bytes()).hexdigest()
