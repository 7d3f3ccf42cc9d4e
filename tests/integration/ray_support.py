"""One real multi-node Ray cluster on this machine for the Ray tests (``ray.cluster_utils.Cluster``: a raylet per node,
each with its own resources), shared by every test of the session because starting one takes a while.

Nodes: the head advertises ``mysql`` only; node B advertises ``mysql``, ``docker`` and ``slot``. Object stores are
the smallest Ray accepts, one CPU each, no dashboard: the machine is small and shared.
"""
from __future__ import annotations

import os

import pytest

OBJECT_STORE = 80 << 20


def node_id(node) -> str:
    return node.node_id


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")
    from ray.cluster_utils import Cluster

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # service crash records of these tests stay apart from other runs on this machine (reaches the actors too)
    runtime = tmp_path_factory.mktemp("ray-runtime")
    old = os.environ.get("HARNESS_RUNTIME_DIR")
    os.environ["HARNESS_RUNTIME_DIR"] = str(runtime)
    c = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "object_store_memory": OBJECT_STORE, "include_dashboard": False,
        "resources": {"mysql": 8}})
    c.node_b = c.add_node(num_cpus=1, object_store_memory=OBJECT_STORE,
                          resources={"mysql": 8, "docker": 4, "slot": 2})
    c.wait_for_nodes()
    c.runtime = runtime
    yield c
    c.shutdown()
    if old is None:
        os.environ.pop("HARNESS_RUNTIME_DIR", None)
    else:
        os.environ["HARNESS_RUNTIME_DIR"] = old
