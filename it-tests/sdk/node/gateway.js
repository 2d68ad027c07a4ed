// The client of the official openai package pointed at the gateway; the base URL is the only thing
// changed. The model names are aliases that OfficialSdksEndToEndTest creates over the control
// plane's REST API; the gateway rewrites each to its upstream model, which the mock echoes.
import OpenAI from 'openai';

export const CHAT_MODEL = 'sdk-chat';
export const CHAT_UPSTREAM = 'gpt-4o-mini';
export const EMBEDDING_MODEL = 'sdk-embedding';
export const EMBEDDING_UPSTREAM = 'text-embedding-3-small';
export const UNKNOWN_MODEL = 'sdk-no-such-model';

export function openaiClient() {
  const base = process.env.LLMGW_BASE_URL;
  if (!base) {
    throw new Error('LLMGW_BASE_URL is not set (expected: the gateway listener, e.g. http://127.0.0.1:10000)');
  }
  return new OpenAI({ baseURL: base.replace(/\/$/, '') + '/v1', apiKey: 'sk-test' });
}
