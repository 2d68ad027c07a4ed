"""The official openai package against the gateway: chat, streaming with usage, tools, embeddings."""

import math

from conftest import CHAT_MODEL, CHAT_UPSTREAM, EMBEDDING_MODEL, EMBEDDING_UPSTREAM

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def test_chat_completion_answers_with_the_upstream_model_and_usage(openai_client):
    completion = openai_client.chat.completions.create(
        model=CHAT_MODEL, messages=[{"role": "user", "content": "hello from the python sdk"}]
    )

    assert completion.model == CHAT_UPSTREAM
    assert completion.choices[0].message.content == "Mock answer: hello from the python sdk"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.completion_tokens > 0
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens


def test_chat_stream_carries_the_text_in_deltas_and_the_usage_in_the_last_chunk(openai_client):
    stream = openai_client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "stream this back to me, please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Mock answer: stream this back to me, please"
    assert len(chunks) > 3, "the answer arrives in several chunks"
    assert {c.model for c in chunks} == {CHAT_UPSTREAM}
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.prompt_tokens > 0
    assert last.usage.completion_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])


def test_tool_call_names_the_offered_tool(openai_client):
    completion = openai_client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "what is the weather in Paris?"}],
        tools=[WEATHER_TOOL],
    )

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls[0].type == "function"
    assert choice.message.tool_calls[0].function.name == "get_weather"
    assert choice.message.tool_calls[0].function.arguments == "{}"
    assert completion.model == CHAT_UPSTREAM


def test_streamed_tool_call_is_accumulated_by_the_sdk(openai_client):
    with openai_client.chat.completions.stream(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "what is the weather in Oslo?"}],
        tools=[WEATHER_TOOL],
    ) as stream:
        done = [e for e in stream if e.type == "tool_calls.function.arguments.done"]
        final = stream.get_final_completion()

    assert [e.name for e in done] == ["get_weather"]
    call = final.choices[0].message.tool_calls[0]
    assert call.id == "call_mock_1"
    assert call.function.name == "get_weather"
    assert call.function.arguments == "{}"
    assert final.choices[0].finish_reason == "tool_calls"
    assert final.model == CHAT_UPSTREAM


def test_embeddings_decode_to_unit_vectors_the_same_for_the_same_text(openai_client):
    # The SDK asks for base64 and decodes the float32 vectors itself.
    result = openai_client.embeddings.create(model=EMBEDDING_MODEL, input=["alpha", "beta", "alpha"])

    assert result.model == EMBEDDING_UPSTREAM
    vectors = [d.embedding for d in result.data]
    assert [d.index for d in result.data] == [0, 1, 2]
    assert all(len(v) == 8 for v in vectors)
    assert all(math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, rel_tol=1e-5) for v in vectors)
    assert vectors[0] == vectors[2]
    assert vectors[0] != vectors[1]
    assert result.usage.prompt_tokens > 0


def test_embeddings_as_floats(openai_client):
    result = openai_client.embeddings.create(model=EMBEDDING_MODEL, input="alpha", encoding_format="float")
    decoded = openai_client.embeddings.create(model=EMBEDDING_MODEL, input="alpha")

    floats, decoded_floats = result.data[0].embedding, decoded.data[0].embedding
    assert len(floats) == 8
    # JSON carries the shortest decimal of each float32; base64 carries its exact bits.
    assert all(math.isclose(a, b, rel_tol=1e-6) for a, b in zip(floats, decoded_floats))
