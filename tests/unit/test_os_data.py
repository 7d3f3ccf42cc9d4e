"""OS task records: upstream's loader rules on a fixture, and the real std/dev splits when the data is present."""
from pathlib import Path

from envs.os_interaction.data import load_split
from envs.os_interaction.env import oracle
from tests.conftest import need_data

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "os" / "agentbench" / "os_interaction"


def test_fixture_order_and_script_objects():
    recs = load_split(FIXTURE, "std")
    # per file: match records first, then check records (upstream's order); files in folder order 1..7
    assert [r.sample_id for r in recs] == ["std-001-probe-00001", "std-001-probe-00002", "std-001-probe-00003",
                                          "std-001-probe-00000", "std-004-state-00000"]
    hello, regex, quirk, count, state = recs
    assert hello.match == {"answer": "hello", "strip": True} and hello.init == ()
    assert regex.start == ("bash", "WORD=banana; cd /tmp") and regex.match["regex"] == "^banana$"
    assert quirk.init == ()  # a list-valued `create` means no init, as upstream reads it
    assert count.init == (("bash", "mkdir -p /srv/box && touch /srv/box/a /srv/box/b /srv/box/c"),)
    assert count.check[0] is None and count.check[1][0] == "python" and "sys.argv" in count.check[1][1]
    assert count.example == ("bash", "find /srv/box -type f | wc -l")
    assert state.init == () and state.check == (("bash", "test -f /srv/done && grep -q yes /srv/done\n"),)


def test_oracle_replies():
    recs = load_split(FIXTURE, "std")
    assert next(oracle(recs[0])).endswith("Act: answer(hello)")
    gen = oracle(recs[3])
    first = next(gen)
    assert "```bash\nbash -c 'find /srv/box -type f | wc -l' </dev/null\n```" in first
    assert gen.send("The output of the OS:\n\n3\n").endswith("Act: answer(3)")


def test_real_splits_load():
    root = need_data("agentbench", "os_interaction")
    std, dev = load_split(root, "std"), load_split(root, "dev")
    assert len(std) == 144 and len(dev) == 26
    assert len({r.sample_id for r in std}) == 144
    assert sum(r.match is not None for r in std) == 9 and sum(r.match is not None for r in dev) == 5
    assert sum(r.check is not None and None in r.check for r in std) == 123
    assert all(r.example is not None for r in std if r.check is not None)
    assert all(r.description for r in std + dev)
