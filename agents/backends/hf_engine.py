"""The model-thread side of ``hf:``: padded batches over ``generate()`` that reuse the KV cache of what prompts share.

Every prompt is split where its last message begins (:meth:`Prompter.history_length`): the conversation before it
is what the next turn of the same episode, or the next question of a few-shot task, repeats. That part's KV cache is
kept (:class:`PrefixStore`, LRU within a memory budget; a longer prefix extends the longest one already kept), so
a prompt's tokens are computed once, however many turns or questions follow. A batch lays each row out as
``[its cached prefix][padding][its new tokens]``, with the prefixes' caches stacked into one ``DynamicCache``; the
attention mask hides the padding and positions follow the mask, so every row is computed as if alone.

``sdpa_gqa`` is transformers' SDPA attention with grouped key/value heads handed to the kernel as they are:
transformers repeats the key/value heads whenever an attention mask is present (every padded batch), which on CPU
copies the whole KV cache three times per layer and step for SmolLM2 and most current models.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

ATTENTION = "sdpa_gqa"


def register_attention() -> str:
    """Register ``sdpa_gqa`` with transformers' attention interfaces (idempotent); returns its name."""
    import torch
    from transformers import AttentionInterface
    from transformers.integrations.sdpa_attention import sdpa_attention_forward
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    def sdpa_gqa(module, query, key, value, attention_mask, dropout=0.0, scaling=None, is_causal=None, **kwargs):
        groups = getattr(module, "num_key_value_groups", 1)
        if groups == 1 or query.device.type != "cpu" or kwargs.get("position_bias") is not None \
                or kwargs.get("cache") is not None:
            return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout,
                                          scaling=scaling, is_causal=is_causal, **kwargs)
        causal = is_causal if is_causal is not None else getattr(module, "is_causal", True)
        causal = bool(query.shape[2] > 1 and attention_mask is None and causal)
        if causal and key.shape[2] > query.shape[2]:  # only an empty static cache gets here (as in transformers)
            key, value = key[:, :, : query.shape[2]], value[:, :, : query.shape[2]]
        out = torch.nn.functional.scaled_dot_product_attention(
            query, key, value, attn_mask=attention_mask, dropout_p=dropout, scale=scaling, is_causal=causal,
            enable_gqa=True)
        return out.transpose(1, 2).contiguous(), None

    if ATTENTION not in AttentionInterface._global_mapping:
        AttentionInterface.register(ATTENTION, sdpa_gqa)
        AttentionMaskInterface.register(ATTENTION, sdpa_mask)
    return ATTENTION


class PrefixStore:
    """KV caches of token prefixes, least recently used first out, within ``budget`` bytes (model thread only)."""

    def __init__(self, model, budget: int) -> None:
        self.model = model
        self.budget = budget
        self.entries: OrderedDict[tuple[int, ...], list[tuple[Any, Any]]] = OrderedDict()
        self.sizes: dict[tuple[int, ...], int] = {}
        self.hits = 0  # prefixes found whole
        self.extended = 0  # prefixes computed on top of a shorter kept one
        self.computed_tokens = 0  # prefix tokens run through the model

    def get(self, prefix: list[int]) -> list[tuple[Any, Any]]:
        """Per layer (key, value), each [1, kv_heads, len(prefix), head_dim]; computed (and kept) when absent."""
        key = tuple(prefix)
        layers = self.entries.get(key)
        if layers is not None:
            self.hits += 1
            self.entries.move_to_end(key)
            return layers
        base = max((k for k in self.entries if len(k) < len(key) and key[: len(k)] == k), key=len, default=())
        if base:
            self.extended += 1
        cache = layers_to_cache(self.model, [self.entries[base]] if base else [], len(base))
        forward(self.model, [list(key[len(base):])], cache, [[1] * len(key)], keep=1)
        self.computed_tokens += len(key) - len(base)
        layers = cache_layers(cache)
        if self.budget > 0:
            self.entries[key] = layers
            self.sizes[key] = sum(k.numel() * k.element_size() * 2 for k, _ in layers)
            while sum(self.sizes.values()) > self.budget and len(self.entries) > 1:
                old, _ = self.entries.popitem(last=False)
                del self.sizes[old]
            if sum(self.sizes.values()) > self.budget:
                self.entries.pop(key)
                del self.sizes[key]
        return layers


def cache_layers(cache) -> list[tuple[Any, Any]]:
    return [(layer.keys, layer.values) for layer in cache.layers]


def layers_to_cache(model, rows: list[list[tuple[Any, Any]]], width: int, room: int = 0):
    """One cache holding each row's prefix (right-padded with zeros to ``width`` tokens): a DynamicCache, or with
    ``room`` a StaticCache of ``width + room`` tokens, written in place as it grows (a DynamicCache copies every
    layer's keys and values at each generated token, which costs more than the attention itself at batch 8)."""
    import torch
    from transformers import DynamicCache, StaticCache

    if room:
        cache = StaticCache(config=model.config, max_cache_len=width + room)
    else:
        cache = DynamicCache(config=model.config)
    if not rows or width == 0:
        return cache
    for layer in range(len(rows[0])):
        ks, vs = [], []
        for row in rows:
            k, v = row[layer]
            pad = width - k.shape[2]
            if pad:
                k = torch.nn.functional.pad(k, (0, 0, 0, pad))
                v = torch.nn.functional.pad(v, (0, 0, 0, pad))
            ks.append(k)
            vs.append(v)
        cache.update(torch.cat(ks), torch.cat(vs), layer)
    return cache


def forward(model, rows: list[list[int]], cache, masks: list[list[int]], keep: int):
    """Run ``rows`` (same length) on top of ``cache``; ``masks`` cover the cache and the rows. Positions follow masks."""
    import torch

    device = model.device
    mask = torch.tensor(masks, device=device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)[:, -len(rows[0]):]
    return model(input_ids=torch.tensor(rows, device=device), attention_mask=mask, position_ids=positions,
                 past_key_values=cache, use_cache=True, logits_to_keep=keep)


@dataclass
class Row:
    ids: list[int]
    shared: int  # leading tokens of ids whose KV cache may be reused (0: none)


def batch_inputs(model, store: PrefixStore | None, rows: list[Row], pad_id: int, max_new: int):
    """(input_ids, attention_mask, cache) for ``generate``: ``[prefix_i][pad][new_i]`` per row; the cache holds the
    prefixes and has room for the new tokens and ``max_new`` generated ones."""
    import torch

    prefixes = [r.ids[: r.shared] if store is not None else [] for r in rows]
    width = max(len(p) for p in prefixes)
    news = [r.ids[len(p):] for r, p in zip(rows, prefixes)]
    span = max(len(n) for n in news)
    got = []
    if width:
        got = [store.get(p) if p else None for p in prefixes]
        sample = next(g for g in got if g is not None)
        empty = [(k[:, :, :0], v[:, :, :0]) for k, v in sample]
        got = [g if g is not None else empty for g in got]
    cache = layers_to_cache(model, got, width, span + max_new)
    ids, masks = [], []
    for p, n in zip(prefixes, news):
        gap = width - len(p) + span - len(n)
        ids.append(p + [pad_id] * gap + n)
        masks.append([1] * len(p) + [0] * gap + [1] * len(n))
    device = model.device
    return torch.tensor(ids, device=device), torch.tensor(masks, device=device), cache

