"""GGUF targets and the prompt helpers shared by hf: and vllm: (no model needed)."""
import pytest

from agents import gguf
from agents.backends.prompting import OptionScores, Prompter, common_prefix
from harness import ContextLimitError, UsageError


def test_a_gguf_target_is_the_file_or_the_only_gguf_in_a_folder(tmp_path):
    f = tmp_path / "m.Q4_1.gguf"
    f.write_bytes(b"GGUF")
    assert gguf.find_gguf(f) == f and gguf.find_gguf(tmp_path) == f
    (tmp_path / "other.gguf").write_bytes(b"GGUF")
    with pytest.raises(UsageError, match="2 .gguf files"):
        gguf.find_gguf(tmp_path)
    (tmp_path / "config.json").write_text("{}")
    assert gguf.find_gguf(tmp_path) is None  # a transformers folder, whatever else it holds
    import hashlib
    assert gguf.sha256(f) == hashlib.sha256(b"GGUF").hexdigest()


def test_the_cache_folder_is_keyed_by_content_not_path(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_MODEL_CACHE", str(tmp_path / "cache"))
    assert gguf.converted_dir("ab" * 32) == tmp_path / "cache" / f"gguf-{'ab' * 16}"


class WordTokenizer:
    """One token per character, BOS 1 when special tokens are added."""

    def __call__(self, text, add_special_tokens=True):
        return {"input_ids": ([1] if add_special_tokens else []) + [ord(c) for c in text]}


def test_prompter_truncates_from_the_left_and_finds_the_shared_history():
    p = Prompter(WordTokenizer(), "plain", None, context_length=40, truncate=True)
    msgs = [{"role": "user", "content": "first"}, {"role": "assistant", "content": "reply"},
            {"role": "user", "content": "second question"}]
    ids, cut = p.ids(msgs, max_new_tokens=4)
    assert cut and len(ids) == 36
    full, cut = Prompter(WordTokenizer(), "plain", None, 400, True).ids(msgs, 4)
    shared = Prompter(WordTokenizer(), "plain", None, 400, True).history_length(msgs, full)
    assert not cut and "".join(map(chr, full[1:shared + 1])).startswith("user: first\nassistant: reply\nuser: ")
    with pytest.raises(ContextLimitError):
        Prompter(WordTokenizer(), "plain", None, 40, False).ids(msgs, 4)


def test_option_scores_are_a_list_with_token_counts_and_common_prefixes():
    s = OptionScores([-1, -2.5], prompt_tokens=12)
    assert s == [-1.0, -2.5] and max(range(2), key=lambda i: s[i]) == 0
    assert s.prompt_tokens == 12
    assert common_prefix([[5, 6, 7], [5, 6, 8], [5, 6]]) == [5, 6]
    assert common_prefix([[1], [2]]) == []


def test_a_single_growing_message_shares_its_text_with_the_next_turn():
    p = Prompter(WordTokenizer(), "plain", None, 400, True)
    first = [{"role": "user", "content": "Question: why?\nThought:"}]
    grown = [{"role": "user", "content": "Question: why?\nThought: because\nObservation: ok\nThought:"}]
    ids, _ = p.ids(first, 4)
    nxt, _ = p.ids(grown, 4)
    n = p.content_length(first, ids)
    # everything kept ends inside the first message's text, and the next prompt starts with it
    assert 0 < n < len(ids) and nxt[:n] == ids[:n]
    assert "".join(map(chr, ids[1:n + 1])) == "user: Question: why?\nThought"  # the text less its last 2 tokens
