"""GGUF files as model input: dequantized once into a plain transformers folder, cached by the file's sha256.

transformers reads a GGUF file (``from_pretrained(dir, gguf_file=...)``, with the ``gguf`` package) but a model
loaded that way cannot be saved and generates slowly. So the weights are read once, copied into a plain model built
from the same configuration and saved with the tokenizer (and its chat template, taken from the GGUF) under
``$HARNESS_MODEL_CACHE`` (default: the user cache, ``~/.cache/harness/models``), in a folder named after the file's
sha256. Later runs load that folder like any other transformers model.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from pathlib import Path

from platformdirs import user_cache_dir

from harness import UsageError

DONE = "harness-gguf.json"  # written last: a folder without it is an interrupted conversion


def cache_root() -> Path:
    env = os.environ.get("HARNESS_MODEL_CACHE")
    return Path(env).expanduser() if env else Path(user_cache_dir("harness")) / "models"


def find_gguf(target: str | Path) -> Path | None:
    """The GGUF file a model target names (the file, or a folder holding exactly one and no config.json), else None."""
    path = Path(target).expanduser()
    if path.is_file():
        return path if path.suffix.lower() == ".gguf" else None
    if path.is_dir() and not (path / "config.json").exists():
        found = sorted(path.glob("*.gguf"))
        if len(found) > 1:
            raise UsageError(f"{path} holds {len(found)} .gguf files: name one of them, e.g. hf:{found[0]}")
        return found[0] if found else None
    return None


def sha256(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def converted_dir(digest: str) -> Path:
    return cache_root() / f"gguf-{digest[:32]}"


def ensure_converted(path: Path, digest: str | None = None) -> Path:
    """The cached transformers folder for this GGUF file, converting it first when absent (safe across processes)."""
    from filelock import FileLock

    digest = digest or sha256(path)
    out = converted_dir(digest)
    if (out / DONE).exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(out) + ".lock"):
        if (out / DONE).exists():
            return out
        tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        try:
            convert(path, tmp)
            (tmp / DONE).write_text(f'{{"source": "{path.name}", "sha256": "{digest}"}}\n', encoding="utf-8")
            os.replace(tmp, out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def convert(path: Path, out: Path) -> None:
    """Dequantize ``path`` into a plain float32 transformers folder ``out`` (model, tokenizer, chat template)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(path.parent), path.name
    with _one_reader():
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the weights below are plain tensors
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    result = plain.load_state_dict(loaded.state_dict(), strict=False)
    tied = getattr(plain, "_tied_weights_keys", None) or ()
    missing = [k for k in result.missing_keys if k not in tied]
    if missing or result.unexpected_keys:
        raise RuntimeError(f"GGUF {path}: weights do not fit the model built from its config "
                           f"(missing {missing[:3]}, unexpected {result.unexpected_keys[:3]})")
    plain.generation_config = loaded.generation_config
    plain.save_pretrained(out)
    tokenizer.save_pretrained(out)


@contextlib.contextmanager
def _one_reader():
    """transformers parses the GGUF header once for the tokenizer, once for the config and once for the weights; the
    parse is slow in Python (tens of seconds on a busy 2-core machine), so within a conversion one reader serves all."""
    import gguf

    original = gguf.GGUFReader
    readers: dict = {}

    def reader(path, *args, **kwargs):
        key = (str(path), args, tuple(sorted(kwargs.items())))
        if key not in readers:
            readers[key] = original(path, *args, **kwargs)
        return readers[key]

    gguf.GGUFReader = reader
    try:
        yield
    finally:
        gguf.GGUFReader = original
