"""Pack AgentBench.old's card-game source tree into ``dcg/agentbench_old_card_game_src.tar.gz`` (``harness data pull``).

``python -m envs.dcg.pack_source ROOT OUT``: ROOT holds the upstream files fetched at the pinned AgentTuning commit
(``AgentBench.old/src/tasks/card_game/...``, the binaries upstream committed left out). The archive is built to be
byte-identical to the one in the shared data folder (its sha256 is pinned in the data manifest): members in sorted
order with their parent folders down from ``card_game``, GNU tar format, owner 0:0 without names, mode 644 (755 for
folders), mtime 2023-10-01 00:00 UTC, compressed by GNU gzip -6 without a name or time stamp.
"""
from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path

TOP = "AgentBench.old/src/tasks/card_game"
MTIME = 1696118400  # 2023-10-01T00:00:00Z


def tar_bytes(root: Path) -> bytes:
    files = sorted(p.relative_to(root).as_posix() for p in (root / TOP).rglob("*") if p.is_file())
    dirs = {TOP}
    for rel in files:
        parent = rel.rsplit("/", 1)[0]
        while parent != TOP and parent.startswith(TOP + "/"):
            dirs.add(parent)
            parent = parent.rsplit("/", 1)[0]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for name in sorted(dirs | set(files)):
            info = tarfile.TarInfo(name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = MTIME, 0, 0, "", ""
            if name in dirs:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(info)
            else:
                data = (root / name).read_bytes()
                info.mode, info.size = 0o644, len(data)
                tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def main(root: str, out: str) -> None:
    raw = tar_bytes(Path(root))
    gz = subprocess.run(["gzip", "-n", "-6", "-c"], input=raw, capture_output=True, check=True).stdout
    Path(out).write_bytes(gz)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
