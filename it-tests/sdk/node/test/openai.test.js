// The official openai npm package against the gateway: chat, streaming with usage, tools,
// embeddings and the error of an unknown model.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import {
  CHAT_MODEL, CHAT_UPSTREAM, EMBEDDING_MODEL, EMBEDDING_UPSTREAM, UNKNOWN_MODEL, openaiClient,
} from '../gateway.js';

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city.',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

test('a chat completion answers with the upstream model and usage', async () => {
  const completion = await openaiClient().chat.completions.create({
    model: CHAT_MODEL,
    messages: [{ role: 'user', content: 'hello from the node sdk' }],
  });

  assert.equal(completion.model, CHAT_UPSTREAM);
  assert.equal(completion.choices[0].message.content, 'Mock answer: hello from the node sdk');
  assert.equal(completion.choices[0].finish_reason, 'stop');
  assert.ok(completion.usage.prompt_tokens > 0);
  assert.ok(completion.usage.completion_tokens > 0);
});

test('a chat stream carries the text in deltas and the usage in the last chunk', async () => {
  const stream = await openaiClient().chat.completions.create({
    model: CHAT_MODEL,
    messages: [{ role: 'user', content: 'stream this back to me, please' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
  }

  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
  assert.equal(text, 'Mock answer: stream this back to me, please');
  assert.ok(chunks.length > 3, 'the answer arrives in several chunks');
  assert.deepEqual([...new Set(chunks.map((c) => c.model))], [CHAT_UPSTREAM]);
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  assert.ok(last.usage.prompt_tokens > 0);
  assert.ok(last.usage.completion_tokens > 0);
  assert.ok(chunks.slice(0, -1).every((c) => c.usage == null));
});

test('a tool call names the offered tool', async () => {
  const completion = await openaiClient().chat.completions.create({
    model: CHAT_MODEL,
    messages: [{ role: 'user', content: 'what is the weather in Paris?' }],
    tools: [weatherTool],
  });

  const choice = completion.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.tool_calls[0].function.name, 'get_weather');
  assert.equal(choice.message.tool_calls[0].function.arguments, '{}');
});

test('a streamed tool call is accumulated by the sdk', async () => {
  const stream = openaiClient().chat.completions.stream({
    model: CHAT_MODEL,
    messages: [{ role: 'user', content: 'what is the weather in Oslo?' }],
    tools: [weatherTool],
  });
  const final = await stream.finalChatCompletion();

  const call = final.choices[0].message.tool_calls[0];
  assert.equal(call.id, 'call_mock_1');
  assert.equal(call.function.name, 'get_weather');
  assert.equal(call.function.arguments, '{}');
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
  assert.equal(final.model, CHAT_UPSTREAM);
});

test('embeddings decode to unit vectors, the same for the same text', async () => {
  // The SDK asks for base64 and decodes the float32 vectors itself.
  const result = await openaiClient().embeddings.create({ model: EMBEDDING_MODEL, input: ['alpha', 'beta', 'alpha'] });

  assert.equal(result.model, EMBEDDING_UPSTREAM);
  const vectors = result.data.map((d) => d.embedding);
  assert.equal(vectors.length, 3);
  for (const v of vectors) {
    assert.equal(v.length, 8);
    assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5, `not a unit vector: ${v}`);
  }
  assert.deepEqual(vectors[0], vectors[2]);
  assert.notDeepEqual(vectors[0], vectors[1]);
  assert.ok(result.usage.prompt_tokens > 0);
});

test('an unknown model raises NotFoundError with the API error code', async () => {
  await assert.rejects(
    openaiClient().chat.completions.create({ model: UNKNOWN_MODEL, messages: [{ role: 'user', content: 'hi' }] }),
    (error) => {
      assert.ok(error instanceof OpenAI.NotFoundError, `expected NotFoundError, got ${error}`);
      assert.equal(error.status, 404);
      assert.equal(error.code, 'model_not_found');
      return true;
    },
  );
});
