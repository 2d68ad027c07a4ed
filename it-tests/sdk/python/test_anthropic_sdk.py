"""The official anthropic package against the gateway: messages, streaming, tool use."""

from conftest import CLAUDE_MODEL, CLAUDE_UPSTREAM

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def test_message_answers_with_the_upstream_model_and_usage(anthropic_client):
    message = anthropic_client.messages.create(
        model=CLAUDE_MODEL, max_tokens=64, messages=[{"role": "user", "content": "hello from the python sdk"}]
    )

    assert message.model == CLAUDE_UPSTREAM
    assert message.role == "assistant"
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == "Mock answer: hello from the python sdk"
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0
    assert message.usage.output_tokens > 0


def test_message_stream_text_and_final_message(anthropic_client):
    with anthropic_client.messages.stream(
        model=CLAUDE_MODEL,
        max_tokens=64,
        system="You are terse.",
        messages=[{"role": "user", "content": "stream this back to me, please"}],
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()

    assert len(pieces) > 3, "the answer arrives in several deltas"
    assert "".join(pieces) == "Mock answer: stream this back to me, please"
    assert final.content[0].text == "Mock answer: stream this back to me, please"
    assert final.model == CLAUDE_UPSTREAM
    assert final.stop_reason == "end_turn"
    assert final.usage.input_tokens > 0
    assert final.usage.output_tokens > 1, "the output tokens of message_delta replace message_start's"


def test_tool_use_names_the_offered_tool(anthropic_client):
    message = anthropic_client.messages.create(
        model=CLAUDE_MODEL,
        max_tokens=64,
        tools=[WEATHER_TOOL],
        messages=[{"role": "user", "content": "what is the weather in Paris?"}],
    )

    assert message.stop_reason == "tool_use"
    block = message.content[0]
    assert block.type == "tool_use"
    assert block.name == "get_weather"
    assert block.input == {}
    assert message.model == CLAUDE_UPSTREAM


def test_streamed_tool_use_is_accumulated_by_the_sdk(anthropic_client):
    with anthropic_client.messages.stream(
        model=CLAUDE_MODEL,
        max_tokens=64,
        tools=[WEATHER_TOOL],
        messages=[{"role": "user", "content": "what is the weather in Oslo?"}],
    ) as stream:
        final = stream.get_final_message()

    assert final.stop_reason == "tool_use"
    assert final.content[0].type == "tool_use"
    assert final.content[0].name == "get_weather"
    assert final.content[0].input == {}


def test_a_tool_result_gets_a_text_answer(anthropic_client):
    message = anthropic_client.messages.create(
        model=CLAUDE_MODEL,
        max_tokens=64,
        tools=[WEATHER_TOOL],
        messages=[
            {"role": "user", "content": "what is the weather in Paris?"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}]},
        ],
    )

    assert message.stop_reason == "end_turn"
    assert message.content[0].type == "text"
