from agents.templates import PAPER_SYSTEM_PROMPT, llama2_prompt, render
from agents.truncation import count_segments, truncate_history


def test_segments_count_letter_runs_in_sevens_and_other_characters_singly():
    assert count_segments("") == 0
    assert count_segments("abc") == 1
    assert count_segments("abcdefg") == 1  # exactly 7 letters: one segment
    assert count_segments("abcdefgh") == 2  # 7 + 1
    assert count_segments("ab cd") == 2  # spaces separate, count nothing
    assert count_segments("a,b") == 3  # a | , | b
    assert count_segments("x\n\n12") == 3  # newlines free, digits count one each
    assert count_segments("héllo") == 1  # unicode letters are letters


def _conv(n_pairs, size=100):
    msgs = [{"role": "user", "content": "instruction " * 10}]
    for i in range(n_pairs):
        msgs.append({"role": "assistant", "content": f"reply{i} " + "word " * size})
        msgs.append({"role": "user", "content": f"obs{i} " + "word " * size})
    return msgs


def test_short_history_is_unchanged():
    msgs = _conv(3)
    assert truncate_history(msgs) == msgs


def test_long_history_keeps_first_and_newest_and_adds_notice():
    msgs = _conv(40)  # 81 messages, ~101 segments each
    out = truncate_history(msgs)
    assert out[0]["content"].startswith(msgs[0]["content"])
    n_omitted = len(msgs) - len(out)
    assert out[0]["content"].endswith(f"\n\n[NOTICE] {n_omitted} messages are omitted.")
    assert out[-1] == msgs[-1]
    # alternation survives: user, assistant, user, ...
    assert [m["role"] for m in out] == ["user" if i % 2 == 0 else "assistant" for i in range(len(out))]
    total = sum(count_segments(m["content"]) for m in [msgs[0]] + out[1:])
    assert total < 3500
    # one more message would have crossed the threshold
    assert total + count_segments(msgs[len(msgs) - len(out)]["content"]) >= 3500 or len(out) % 2 == 1


def test_non_alternating_history_passes_unchanged():
    msgs = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    assert truncate_history(msgs) is msgs


def test_llama2_format_matches_the_paper_template():
    msgs = [{"role": "user", "content": " hi \n"}, {"role": "assistant", "content": "yo"},
            {"role": "user", "content": "again"}]
    assert llama2_prompt(msgs, None) == "[INST] hi [/INST] yo </s><s>[INST] again [/INST]"
    text = llama2_prompt(msgs)
    assert text.startswith(f"[INST] <<SYS>>\n{PAPER_SYSTEM_PROMPT}\n<</SYS>>\n\nhi [/INST]")
    assert render(msgs, "plain").endswith("assistant:")


def test_auto_chat_format_keeps_the_paper_format_for_llama2_chat_and_agentlm_and_uses_other_templates():
    from agents.templates import default_system, resolve_chat_format

    chatml = "{% for message in messages %}<|im_start|>{{ message['role'] }}..."
    llama2_template = "{% if messages[0]['role'] == 'system' %}<<SYS>>\\n...[INST]..."
    assert resolve_chat_format("auto", ["/models/AgentLM-7b"], None) == "llama-2"
    assert resolve_chat_format("auto", ["Llama-2-13b-chat-hf"], chatml) == "llama-2"  # the name wins
    assert resolve_chat_format("auto", ["some-model"], llama2_template) == "llama-2"
    assert resolve_chat_format("auto", ["SmolLM2-135M-Instruct.Q4_1.gguf"], chatml) == "tokenizer"
    assert resolve_chat_format("auto", ["llama-2-7b"], None) == "llama-2"  # no template: the reproduction default
    assert resolve_chat_format("tokenizer", ["AgentLM-7b"], None) == "tokenizer"  # chat_format= forces
    assert resolve_chat_format("llama-2", ["x"], chatml) == "llama-2"
    assert default_system("llama-2") == PAPER_SYSTEM_PROMPT and default_system("tokenizer") is None


def test_raw_format_sends_the_contents_unchanged():
    msgs = [{"role": "user", "content": "The following are questions.\n\nQ?\nAnswer:"}]
    assert render(msgs, "raw") == "The following are questions.\n\nQ?\nAnswer:"
