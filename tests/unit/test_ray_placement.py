"""Placement arithmetic of Ray runs (harness/cluster/placement.py) and the --ray flag; no cluster needed."""
from __future__ import annotations

from dataclasses import replace

from harness import get_task
from harness.cli import build_parser
from harness.cluster.placement import Capacity, actor_options, fits, missing
from harness.cluster.session import forwarded_environment, local_resources


def test_actor_options_map_ray_resources_and_custom_ones():
    assert actor_options({}) == {"num_cpus": 0.0}
    assert actor_options({"docker": 1, "CPU": 1, "memory": 2e9}) == {
        "num_cpus": 1.0, "memory": 2e9, "resources": {"docker": 1.0}}


def test_fits_and_missing():
    assert fits({"docker": 16, "CPU": 2}, {"docker": 1, "CPU": 1}) == 2
    assert fits({"CPU": 2}, {}) is None
    assert missing([{"mysql": 8}, {"docker": 4}], {"docker": 1, "jvm": 1}) == ["jvm"]


def test_tasks_sharing_a_resource_split_it_and_room_follows_the_ledger():
    os_spec, he = get_task("os"), get_task("humaneval")
    assert os_spec.resources == {"docker": 1} and he.resources == {"docker": 1}
    cap = Capacity([os_spec, he, get_task("gsm8k")])
    cap.update_nodes([{"CPU": 1, "docker": 4}, {"CPU": 1, "docker": 2}, {"CPU": 1}])
    assert cap.limit(os_spec) == 3 and cap.limit(get_task("gsm8k")) is None
    for _ in range(6):
        assert cap.has_room(os_spec)
        cap.take(os_spec.resources)
    assert not cap.has_room(os_spec) and cap.has_room(get_task("gsm8k"))
    cap.give_back(os_spec.resources)
    assert cap.has_room(he)


def test_local_instance_advertises_room_for_every_selected_env(monkeypatch):
    db, sci = get_task("db"), get_task("sciworld")
    assert local_resources([db, sci]) == {"mysql": db.concurrency, "jvm": sci.concurrency}
    monkeypatch.setenv("HARNESS_SERVICE_MYSQL", "{}")
    monkeypatch.setenv("HARNESS_DATA", "/data")
    monkeypatch.setenv("HARNESS_MYSQL_URL", "mysql://u:p@h:1")
    env = forwarded_environment([db])
    assert env["HARNESS_DATA"] == "/data" and env["HARNESS_MYSQL_URL"] == "mysql://u:p@h:1"
    assert "HARNESS_SERVICE_MYSQL" not in env


def test_ray_flag_takes_an_optional_address():
    p = build_parser()
    base = ["eval", "--model", "oracle", "--tasks", "gsm8k"]
    assert p.parse_args(base).ray is None
    assert p.parse_args([*base, "--ray"]).ray == "local"
    assert p.parse_args(["eval", "--ray", "--model", "oracle", "--tasks", "gsm8k"]).ray == "local"
    assert p.parse_args([*base, "--ray", "ray://head:10001"]).ray == "ray://head:10001"


def test_resources_stay_out_of_the_configuration():
    spec = get_task("db")
    assert replace(spec, resources={}).name == spec.name  # a plain field: placement never changes an outcome
    from harness.runner import RunConfig, configuration

    class B:
        def describe(self):
            return {"backend": "x"}

    a = configuration(spec, "std", RunConfig(model="oracle", tasks=[spec]), B(), None, object)
    b = configuration(replace(spec, resources={"mysql": 3}), "std", RunConfig(model="oracle", tasks=[spec],
                                                                              ray="auto"), B(), None, object)
    assert a == b
