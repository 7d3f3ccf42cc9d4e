"""The prompt texts come out of AgentTuning's sources (read with ast) and frame each step as upstream does."""
from __future__ import annotations

import json

import pytest

from envs.webarena.prompts import FILE, extract, load_texts
from harness import UsageError
from tests.fixtures.webarena import agenttuning_root, webarena_data


def test_extracts_the_cot_prompt_and_the_protocol_sentences():
    texts = extract(agenttuning_root())
    prompt = texts["prompt"]
    assert prompt["intro"].startswith("You are an autonomous intelligent agent tasked with navigating a web browser")
    assert len(prompt["examples"]) == 2 and all(len(e) == 2 for e in prompt["examples"])
    assert prompt["examples"][0][1].endswith("```stop [$279.49]```")
    assert prompt["template"] == ("OBSERVATION:\n{observation}\nURL: {url}\nOBJECTIVE: {objective}\n"
                                  "PREVIOUS ACTION: {previous_action}")
    assert prompt["meta_data"]["action_splitter"] == "```"
    assert prompt["meta_data"]["answer_phrase"] == "In summary, the next action I will perform is"
    assert texts["ack"] == "Ok."
    assert texts["feedback"]["missing_element"].format(action="click", element_id="7") == (
        'Attempt to perfom "click" on element "[7]" but no matching element found. Please check the observation '
        "more carefully.")
    assert texts["feedback"]["unparsed"].format(prediction="hi", splitter="```").startswith(
        'The previous prediction you issued was "hi". However, the format was incorrect.')
    assert texts["judge"]["user"].format(pred="a", reference="b") == (
        'Given the statement "a", would it be correct to infer "b"? Yes or No')
    assert texts["accounts"]["reddit"]["username"] == "MarvelsGrantMan136"
    assert texts["url_mappings"]["SHOPPING"] == "http://onestopmarket.com"


def test_the_data_file_is_what_the_extractor_makes():
    path = webarena_data() / "webarena" / FILE
    assert json.loads(path.read_text(encoding="utf-8")) == extract(agenttuning_root())


def test_missing_texts_stop_with_one_line(tmp_path):
    with pytest.raises(UsageError, match="harness data pull --only webarena/agenttuning_prompt.json"):
        load_texts(tmp_path)


def test_observations_are_cut_to_1920_cl100k_tokens_offline():
    from envs.webarena.tokens import encoding, truncate
    enc = encoding()
    assert enc.encode("hello world") == [15339, 1917]  # cl100k_base's ids
    text = "[123] link 'Add to Cart' url: http://h/x\n" * 400
    cut = truncate(text, 1920)
    assert text.startswith(cut) and len(enc.encode(cut)) == 1920
    assert truncate("short", 1920) == "short"
