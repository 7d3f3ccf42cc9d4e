"""Engine replicas as Ray actors (agents/backends/replicas.py) on the test cluster (ray_support.py).

No GPU and no vLLM build here: the replicas wrap ``HFBackend`` with a tiny random-weight Llama built in a temporary
folder; ``vllm:PATH?replicas=N`` goes through the same layer, and that path (vLLM on GPUs) was never executed here.
"""
from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("transformers")

from agents.backends.hf import HFBackend
from agents.backends.replicas import ReplicatedBackend, vllm_backend
from harness import EpisodeKey, Request, make_backend
from harness.train.tiny import build_tiny_model as make_tiny_llama

pytestmark = pytest.mark.integration

EPISODES = [EpisodeKey("gsm8k", "test", i) for i in range(4)]


def _request(key: EpisodeKey, turn: int) -> Request:
    return Request(messages=[{"role": "user", "content": f"episode {key.index} turn {turn}: the quick brown fox"}],
                   max_new_tokens=6, temperature=0.0, episode=key, turn=turn)


async def _turns(backend, turns: range) -> dict[tuple[int, int], str]:
    out = {}
    for turn in turns:  # the episodes' turns in parallel, as the runner issues them
        done = await asyncio.gather(*(backend.complete(_request(k, turn)) for k in EPISODES))
        out.update({(k.index, turn): c.text for k, c in zip(EPISODES, done)})
    return out


def test_replicas_keep_each_episode_on_one_replica_and_answer_as_one_engine(cluster, tmp_path):
    import ray

    tiny = str(make_tiny_llama(tmp_path / "tiny"))
    local = HFBackend(tiny, dtype="float32")
    replicated = ReplicatedBackend(HFBackend, tiny, replicas=2, dtype="float32")
    assert replicated.describe() == local.describe()  # the configuration hash does not see the replicas

    async def go():
        ray.init(address=cluster.address, log_to_driver=False)
        try:
            starting = asyncio.ensure_future(replicated.start())  # the replicas load while the local model answers
            await local.start()  # (HFBackend must be started before concurrent first requests)
            expected = await _turns(local, range(4))
            await local.close()
            await starting
            await replicated.probe()
            got = await _turns(replicated, range(3))
            counts = await asyncio.gather(*(a.served.remote() for a in replicated.actors))
            by_replica = [sum(1 for k in EPISODES if replicated.assigned[k] == i) for i in range(2)]
            # a replica dies: its episodes move to the other one and go on with the same answers
            gone = replicated.assigned[EPISODES[0]]
            ray.kill(replicated.actors[gone], no_restart=True)
            got.update(await _turns(replicated, range(3, 4)))
            moved = {replicated.assigned[k] for k in EPISODES}
            await replicated.close()
            return expected, got, counts, by_replica, gone, moved
        finally:
            ray.shutdown()

    expected, got, counts, by_replica, gone, moved = asyncio.run(go())
    assert got == expected
    assert by_replica == [2, 2]  # spread over both replicas
    assert counts == [3 * n for n in by_replica]  # every turn of an episode went to its episode's replica
    assert moved == {1 - gone}


def test_vllm_spec_with_replicas_wraps_the_vllm_backend_without_starting_it(tmp_path):
    from agents.backends.vllm import VLLMBackend
    folder = tmp_path / "x"  # the backend checks that its model folder looks like one; nothing is loaded
    folder.mkdir()
    (folder / "config.json").write_text("{}")

    b = make_backend(f"vllm:{folder}?replicas=3&tp=2&context_length=2048")
    assert isinstance(b, ReplicatedBackend) and b.n == 3 and b.gpus == 2 and b.backend_cls is VLLMBackend
    assert b.describe() == VLLMBackend(str(folder), tp="2", context_length="2048").describe()
    assert type(vllm_backend(str(folder))) is VLLMBackend
    with pytest.raises(Exception, match="positive number"):
        make_backend(f"vllm:{folder}?replicas=0")
