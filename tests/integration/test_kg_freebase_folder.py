"""KG on a downloaded Freebase database folder (HARNESS_FREEBASE_DIR, the layout of the Freebase-Setup instructions):
`harness setup` and `harness eval` start Virtuoso on it and check one known query before any episode.

No Freebase is downloaded here: the test makes a Virtuoso database folder of its own (the project's test graph, in
Freebase's schema, plus the one fact the known query asks for) and points the harness at it, exactly as a user points
it at the unzipped virtuoso_db folder.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, need_data
from tests.fixtures.kg import TEST_GRAPH

pytestmark = [pytest.mark.integration]
OBAMA = ('<http://rdf.freebase.com/ns/m.02mjmr> <http://rdf.freebase.com/ns/type.object.name> "Barack Obama"@en .\n'
         '<http://rdf.freebase.com/ns/m.02mjmr> <http://rdf.freebase.com/ns/type.object.name> "Barack Obama"@fr .\n')


def _database(folder: Path, turtle: str, runtime: Path) -> Path:
    """A Virtuoso database file holding ``turtle`` (loaded, checkpointed, server shut down), copied into ``folder``."""
    from harness.services.virtuoso import Virtuoso, _isql
    os.environ["HARNESS_RUNTIME_DIR"] = str(runtime)
    src = folder.parent / "load.ttl"
    src.write_text(turtle)
    service = Virtuoso(turtle=[src], graph="http://freebase.com", use_env_url=False)
    info = service.start()
    try:
        _isql(info, "checkpoint;")
        try:
            _isql(info, "shutdown;", timeout=60)
        except RuntimeError:
            pass  # the connection ends with the server
        service.process.proc.wait(timeout=120)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(info["dir"]) / "virtuoso.db", folder / "virtuoso.db")
    finally:
        service.stop()
    return folder


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    if not shutil.which("virtuoso-t"):
        pytest.skip("virtuoso-opensource is not installed (run `harness setup --tasks kg`)")
    data = need_data("agentbench")
    base = tmp_path_factory.mktemp("freebase")
    saved = os.environ.get("HARNESS_RUNTIME_DIR")
    try:
        db = _database(base / "virtuoso_db", (TEST_GRAPH / "graph.ttl").read_text() + OBAMA, base / "run-build")
    finally:
        if saved is None:
            os.environ.pop("HARNESS_RUNTIME_DIR", None)
        else:
            os.environ["HARNESS_RUNTIME_DIR"] = saved
    # a data folder whose dev split is the test graph's questions (their answers are in the database above)
    tree = base / "data"
    (tree / "agentbench" / "knowledgegraph").mkdir(parents=True)
    (tree / "agentbench" / "prompts").mkdir()
    (tree / "agentbench" / "prompts" / "knowledgegraph.json").symlink_to(data / "prompts" / "knowledgegraph.json")
    (tree / "agentbench" / "knowledgegraph" / "ontology").symlink_to(data / "knowledgegraph" / "ontology")
    shutil.copyfile(TEST_GRAPH / "questions.json", tree / "agentbench" / "knowledgegraph" / "dev.json")
    return {"db": db, "data": tree, "base": base}


def harness(world, *args: str, **env_extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_SERVICE_")}
    env.pop("HARNESS_SPARQL_URL", None)
    env.update(HARNESS_DATA=str(world["data"]), HARNESS_FREEBASE_DIR=str(world["db"]),
               HARNESS_RUNTIME_DIR=str(world["base"] / "run"))
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def test_eval_starts_virtuoso_on_the_folder_and_scores_on_it(world, tmp_path):
    out = tmp_path / "results"
    r = harness(world, "eval", "--model", "oracle", "--tasks", "kg", "--split", "dev", "--limit", "6", "--output",
                str(out), "--no-progress")
    assert r.returncode == 0, r.stderr[-3000:]
    summary = json.loads((out / "oracle" / "kg" / "summary.json").read_text())
    assert (summary["n"], summary["score"], summary["n_errors"]) == (6, 100.0, 0), summary
    # the folder is the user's: used in place, kept; the server and the harness's config folder are gone
    assert (world["db"] / "virtuoso.db").exists()
    run = world["base"] / "run"
    assert not list(run.glob("freebase-virtuoso*.json")) and not list(run.glob("harness-freebase-*"))
    # the folder is part of what identifies the configuration (another database may answer otherwise)
    config = next(iter(json.loads((out / "oracle" / "kg" / "configs.json").read_text()).values()))["config"]
    assert config["task"]["endpoints"]["HARNESS_FREEBASE_DIR"] == str(world["db"])


def test_setup_checks_the_folder_with_the_known_query(world):
    r = harness(world, "setup", "--tasks", "kg")
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"Virtuoso on {world['db']}" in r.stdout and "Freebase answers at http://127.0.0.1:" in r.stdout


def test_a_folder_without_a_database_stops_the_run_in_one_line(world, tmp_path):
    empty = tmp_path / "virtuoso_db"
    empty.mkdir()
    r = harness(world, "eval", "--model", "oracle", "--tasks", "kg", "--split", "dev", "--limit", "1", "--output",
                str(tmp_path / "out"), HARNESS_FREEBASE_DIR=str(empty))
    assert r.returncode == 2
    line = r.stderr.strip().splitlines()[-1]
    assert "no virtuoso.db" in line and str(empty) in line and "Freebase-Setup" in line
    assert not (tmp_path / "out").exists()


def test_an_endpoint_without_freebase_fails_the_known_query(world, tmp_path, monkeypatch):
    """A SPARQL server that answers but holds no Freebase (here an empty Virtuoso) is refused before any episode."""
    from harness.services.virtuoso import Virtuoso
    monkeypatch.setenv("HARNESS_RUNTIME_DIR", str(tmp_path / "run"))
    other = Virtuoso(use_env_url=False)
    info = other.start()
    try:
        r = harness(world, "eval", "--model", "oracle", "--tasks", "kg", "--split", "dev", "--limit", "1",
                    "--output", str(tmp_path / "out"), HARNESS_SPARQL_URL=info["url"])
    finally:
        other.stop()
    assert r.returncode == 2
    line = r.stderr.strip().splitlines()[-1]
    assert "does not hold Freebase" in line and "m.02mjmr" in line, r.stderr
