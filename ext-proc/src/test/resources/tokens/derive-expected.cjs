// Writes reference-prompts.json, the reference table of TokenReferenceTableTest.
//
// Not part of the build. Run it only to change the table:
//   npm install tiktoken@1.0.22 openai-chat-tokens@0.2.8
//   HMARR_TESTS=/path/to/openai-chat-tokens/tests/token-counts.test.ts node derive-expected.cjs > reference-prompts.json
//
// Where each expected value comes from (the row's "kind"):
//   published-api        prompt_tokens the OpenAI API reported, as published by the source named in the row;
//                        copied, never computed here (this script only checks its own rules reproduce them).
//   published-tokenizer  token counts published in tiktoken's tests or OpenAI's cookbook, for a single text.
//   derived              computed here: each text counted by `tiktoken` (npm; the WASM build of OpenAI's own
//                        Rust tokenizer, an implementation independent of jtokkit) and combined with the
//                        published rules (cookbook: 3 per message, +1 per name, +3 reply priming; hmarr: tool
//                        rendering, -4 with a system message, function message -2, function_call +3, named +4).
//   approximation        like derived, for prompts with parts that have no published rule (tool_calls, images,
//                        Responses API framing): the gateway's documented approximation, marked exact=false.
//   estimate             Claude: ceil(code points / 3.5) + Anthropic's documented tool-use system prompt tokens.
"use strict";
const fs = require("fs");
const { get_encoding } = require("tiktoken");
const { promptTokensEstimate } = require("openai-chat-tokens");

const ENC = { o200k_base: get_encoding("o200k_base"), cl100k_base: get_encoding("cl100k_base") };
const n = (enc, s) => (s ? ENC[enc].encode_ordinary(s).length : 0);

// ---- the published rules, re-implemented here for a second, independent implementation ----
function render(functions) {
  const lines = ["namespace functions {", ""];
  for (const f of functions) {
    if (f.description) lines.push(`// ${f.description}`);
    if (Object.keys((f.parameters || {}).properties || {}).length > 0) {
      lines.push(`type ${f.name} = (_: {`);
      lines.push(props(f.parameters, 0));
      lines.push("}) => any;");
    } else {
      lines.push(`type ${f.name} = () => any;`);
    }
    lines.push("");
  }
  lines.push("} // namespace functions");
  return lines.join("\n");
}
function props(obj, indent) {
  const lines = [];
  for (const [name, p] of Object.entries(obj.properties || {})) {
    if (p.description && indent < 2) lines.push(`// ${p.description}`);
    lines.push(`${name}${(obj.required || []).includes(name) ? ":" : "?:"} ${type(p, indent)},`);
  }
  return lines.map((l) => " ".repeat(indent) + l).join("\n");
}
function type(p, indent) {
  if (Array.isArray(p.anyOf)) return p.anyOf.map((v) => type(v, indent)).join(" | ");
  switch (p.type) {
    case "string": return p.enum ? p.enum.map((v) => `"${v}"`).join(" | ") : "string";
    case "number": case "integer": return p.enum ? p.enum.map((v) => `${v}`).join(" | ") : "number";
    case "boolean": return "boolean";
    case "null": return "null";
    case "object": return ["{", props(p, indent + 2), "}"].join("\n");
    case "array": return p.items ? `${type(p.items, indent)}[]` : "any[]";
    default: return "any";
  }
}
function chat(enc, body) {
  const defs = [...(body.functions || []), ...(body.tools || []).filter((t) => t.type === "function").map((t) => t.function)];
  let tokens = 0, firstSystem = null, seenSystem = false, anySystem = false;
  for (const m of body.messages) {
    tokens += 3 + n(enc, m.role);
    const system = m.role === "system";
    anySystem = anySystem || system;
    if (typeof m.content === "string") {
      if (system && !seenSystem) firstSystem = m.content; else tokens += n(enc, m.content);
    } else if (Array.isArray(m.content)) {
      for (const part of m.content) if (part.type === "text") tokens += n(enc, part.text);
    }
    if (system) seenSystem = true;
    if (m.name) tokens += n(enc, m.name) + 1;
    if (m.role === "function") tokens -= 2;
    if (m.role === "assistant" && m.function_call) tokens += n(enc, m.function_call.name) + n(enc, m.function_call.arguments) + 3;
    for (const call of m.tool_calls || []) tokens += n(enc, call.function.name) + n(enc, call.function.arguments) + 3;
  }
  if (defs.length > 0) {
    if (firstSystem !== null) tokens += n(enc, firstSystem + "\n");
    tokens += n(enc, render(defs)) + 9;
    if (anySystem) tokens -= 4;
  } else if (firstSystem !== null) {
    tokens += n(enc, firstSystem);
  }
  const choice = body.function_call !== undefined ? body.function_call : body.tool_choice;
  if (choice === "none") tokens += 1;
  else if (choice && typeof choice === "object") tokens += 4 + n(enc, choice.name || (choice.function || {}).name);
  if (body.response_format && body.response_format.type === "json_schema") tokens += n(enc, JSON.stringify(body.response_format.json_schema));
  return tokens + 3;
}
function responses(enc, body) {
  let tokens = 0, system = false;
  if (typeof body.instructions === "string") { system = true; tokens += 3 + n(enc, "system") + n(enc, body.instructions); }
  if (typeof body.input === "string") tokens += 3 + n(enc, "user") + n(enc, body.input);
  for (const item of Array.isArray(body.input) ? body.input : []) {
    const t = item.type || "message";
    if (t === "message") {
      tokens += 3 + n(enc, item.role || "user");
      if (typeof item.content === "string") tokens += n(enc, item.content);
      else for (const part of item.content || []) if (["input_text", "output_text", "text"].includes(part.type)) tokens += n(enc, part.text);
      system = system || item.role === "system" || item.role === "developer";
    } else if (t === "function_call") tokens += n(enc, item.name) + n(enc, item.arguments) + 3;
    else if (t === "function_call_output") tokens += 3 + n(enc, typeof item.output === "string" ? item.output : JSON.stringify(item.output));
  }
  const defs = (body.tools || []).filter((t) => t.type === "function");
  if (defs.length > 0) { tokens += n(enc, render(defs)) + 9; if (system) tokens -= 4; }
  return tokens + 3;
}
function inputs(enc, input) {
  if (typeof input === "string") return n(enc, input);
  let tokens = 0;
  for (const item of input) tokens += typeof item === "string" ? n(enc, item) : Array.isArray(item) ? item.length : 1;
  return tokens;
}
const cp = (s) => (s ? [...s].length : 0);
function anthropic(body, toolPrompt) {
  let chars = 0;
  const blocks = (c) => {
    if (typeof c === "string") { chars += cp(c); return; }
    for (const b of c || []) {
      if (b.type === "text") chars += cp(b.text);
      else if (b.type === "thinking") chars += cp(b.thinking);
      else if (b.type === "tool_use") chars += cp(b.name) + cp(JSON.stringify(b.input));
      else if (b.type === "tool_result") blocks(b.content);
    }
  };
  blocks(body.system);
  for (const m of body.messages) blocks(m.content);
  for (const t of body.tools || []) chars += cp(t.name) + cp(t.description) + (t.input_schema ? cp(JSON.stringify(t.input_schema)) : 0);
  const choice = (body.tool_choice || { type: "auto" }).type;
  const fixed = body.tools && body.tools.length ? (choice === "any" || choice === "tool" ? toolPrompt.any : toolPrompt.auto) : 0;
  return Math.ceil(chars / 3.5) + fixed;
}

// ---- rows ----
const rows = [];
const COOKBOOK = "openai/openai-cookbook examples/How_to_count_tokens_with_tiktoken.ipynb @c81359cd";
const row = (r) => rows.push(r);

// 1. Published API counts: OpenAI cookbook, section 6 (messages) and 7 (tools).
const cookbookMessages = [
  { role: "system", content: "You are a helpful, pattern-following assistant that translates corporate jargon into plain English." },
  { role: "system", name: "example_user", content: "New synergies will help drive top-line growth." },
  { role: "system", name: "example_assistant", content: "Things working well together will increase revenue." },
  { role: "system", name: "example_user", content: "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage." },
  { role: "system", name: "example_assistant", content: "Let's talk later when we're less busy about how to do better." },
  { role: "user", content: "This late pivot means we don't have time to boil the ocean for the client deliverable." },
];
for (const [model, expected] of [["gpt-3.5-turbo", 129], ["gpt-4-0613", 129], ["gpt-4", 129], ["gpt-4o", 124], ["gpt-4o-mini", 124]]) {
  row({ id: `cookbook-messages-${model}`, kind: "published-api", api: "OPENAI_CHAT_COMPLETIONS", model, exact: true, expected,
    source: `${COOKBOOK}, section 6: "${expected} prompt tokens counted by the OpenAI API" for ${model}`,
    body: { model, messages: cookbookMessages, temperature: 0, max_tokens: 1 } });
}
const weatherTools = [{ type: "function", function: { name: "get_current_weather", description: "Get the current weather in a given location",
  parameters: { type: "object", properties: {
    location: { type: "string", description: "The city and state, e.g. San Francisco, CA" },
    unit: { type: "string", description: "The unit of temperature to return", enum: ["celsius", "fahrenheit"] } },
  required: ["location"] } } }];
const weatherMessages = [
  { role: "system", content: "You are a helpful assistant that can answer to questions about the weather." },
  { role: "user", content: "What's the weather like in San Francisco?" },
];
for (const [model, expected] of [["gpt-3.5-turbo", 105], ["gpt-4", 105], ["gpt-4o", 101], ["gpt-4o-mini", 101]]) {
  row({ id: `cookbook-tools-${model}`, kind: "published-api", api: "OPENAI_CHAT_COMPLETIONS", model, exact: true, expected,
    source: `${COOKBOOK}, section 7: "${expected} prompt tokens counted by the OpenAI API" for ${model} with tools`,
    body: { model, messages: weatherMessages, tools: weatherTools, temperature: 0 } });
}

// 2. Published API counts: hmarr/openai-chat-tokens test table (gpt-3.5-turbo, cl100k_base, legacy functions).
// The TEST_CASES array literal of the test file, evaluated as JavaScript (it carries no type annotations).
const hmarrSource = fs.readFileSync(process.env.HMARR_TESTS, "utf8");
const hmarrStart = hmarrSource.indexOf("const TEST_CASES: Example[] = ") + "const TEST_CASES: Example[] = ".length;
const hmarr = eval("(" + hmarrSource.slice(hmarrStart, hmarrSource.indexOf("];\n\nconst validateAll") + 1) + ")");
hmarr.forEach((c, i) => {
  const body = { model: "gpt-3.5-turbo", messages: c.messages, max_tokens: 10 };
  if (c.functions) body.functions = c.functions;
  if (c.function_call) body.function_call = c.function_call;
  row({ id: `hmarr-${String(i + 1).padStart(2, "0")}`, kind: "published-api", api: "OPENAI_CHAT_COMPLETIONS", model: "gpt-3.5-turbo",
    exact: true, expected: c.tokens,
    source: "hmarr/openai-chat-tokens tests/token-counts.test.ts @b8e3b11, case " + (i + 1)
      + ": prompt_tokens of the OpenAI API for gpt-3.5-turbo (the table's 'test data matches openai' check)",
    body });
});

// 3. Published tokenizer counts (single texts; embeddings input = the text's tokens, no overhead).
const TIKTOKEN = "openai/tiktoken tests @212b893";
let tokenizerRow = 0;
for (const [text, expected, src] of [
  ["tiktoken is great!", 6, `${COOKBOOK}, section 3: encode() returns 6 tokens`],
  ["antidisestablishmentarianism", 6, `${COOKBOOK}, section 5: "cl100k_base: 6 tokens"`],
  ["2 + 2 = 4", 7, `${COOKBOOK}, section 5: "cl100k_base: 7 tokens"`],
  ["お誕生日おめでとう", 9, `${COOKBOOK}, section 5: "cl100k_base: 9 tokens"`],
  ["hello world", 2, `${TIKTOKEN} test_encoding.py test_simple: [15339, 1917]`],
  ["'rer", 2, `${TIKTOKEN} test_encoding.py test_simple_regex: [2351, 81]`],
  ["today\n \n", 2, `${TIKTOKEN} test_encoding.py test_simple_regex: [31213, 27907]`],
  [" \u00850", 4, `${TIKTOKEN} test_encoding.py test_basic_encode: [220, 126, 227, 15]`],
  ["👍", 3, `${TIKTOKEN} test_encoding.py test_encode_surrogate_pairs: [9468, 239, 235]`],
  ["我非常渴望与人工智能一起工作", 17, `${TIKTOKEN} test_offsets.py test_basic_offsets: 17 offsets`],
  ["நடிகர் சூர்யா", 19, `${TIKTOKEN} test_offsets.py test_basic_offsets: 19 offsets`],
]) {
  row({ id: `tokenizer-${String(++tokenizerRow).padStart(2, "0")}`, kind: "published-tokenizer", api: "OPENAI_EMBEDDINGS", model: "text-embedding-3-small",
    exact: true, expected, source: src, body: { model: "text-embedding-3-small", input: text } });
}

// 4. Derived: texts counted by the official tokenizer (WASM) + the published rules.
const derived = (id, api, model, enc, body, fn, exact = true, kind = "derived", note = "") => {
  row({ id, kind, api, model, exact, expected: fn(enc, body),
    source: (kind === "derived" ? "derived: tiktoken@1.0.22 (npm) " : "approximation: tiktoken@1.0.22 (npm) ") + enc
      + " counts of each text + " + (api === "OPENAI_RESPONSES" ? "the gateway's Responses framing (3 per item, +3)" : api === "OPENAI_CHAT_COMPLETIONS"
        ? "cookbook framing (3/message, +1/name, +3) and hmarr tool rules" : "no framing (inputs are counted as they are)") + note,
    body });
};
const code = "def fib(n: int) -> int:\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n    a, b = 0, 1\n\tfor _ in range(n):\n        a, b = b, a + b\n    return a\n\nprint({k: fib(k) for k in range(10)})";
derived("derived-names-german-gpt-4o", "OPENAI_CHAT_COMPLETIONS", "gpt-4o", "o200k_base", { model: "gpt-4o", messages: [
  { role: "system", content: "Du bist ein hilfreicher Assistent. Antworte kurz und höflich." },
  { role: "user", name: "jürgen_k", content: "Grüße aus Köln! Wie spät ist es in Zürich, und was heißt „Straße“ auf Englisch?" },
  { role: "assistant", name: "bot", content: "In Zürich ist es dieselbe Uhrzeit wie in Köln. „Straße“ heißt „street“." },
  { role: "user", name: "jürgen_k", content: "Danke schön!" }] }, chat);
derived("derived-cjk-gpt-4o-mini", "OPENAI_CHAT_COMPLETIONS", "gpt-4o-mini", "o200k_base", { model: "gpt-4o-mini", messages: [
  { role: "user", content: "東京の天気はどうですか？明日は雨が降りますか。" },
  { role: "assistant", content: "明日の東京は曇りのち雨の予報です。傘をお持ちください。" },
  { role: "user", content: "请用中文回答：人工智能会改变世界吗？" }] }, chat);
derived("derived-arabic-hindi-gpt-4.1", "OPENAI_CHAT_COMPLETIONS", "gpt-4.1", "o200k_base", { model: "gpt-4.1", messages: [
  { role: "system", content: "Reply in the language of the question." },
  { role: "user", content: "ما هي عاصمة المغرب؟" },
  { role: "user", content: "कृत्रिम बुद्धिमत्ता दुनिया को कैसे बदल रही है?" }] }, chat);
derived("derived-emoji-gpt-4o", "OPENAI_CHAT_COMPLETIONS", "gpt-4o", "o200k_base", { model: "gpt-4o", messages: [
  { role: "user", content: "Family: 👩‍👩‍👧‍👦, flags: 🇩🇪🇯🇵🇧🇷, skin tones: 👍🏽👋🏿, hearts: ❤️‍🔥💙, keycap: 1️⃣ — rate them 🤔" }] }, chat);
derived("derived-python-code-gpt-4o", "OPENAI_CHAT_COMPLETIONS", "gpt-4o", "o200k_base", { model: "gpt-4o", messages: [
  { role: "system", content: "You review Python code." },
  { role: "user", content: "Review this:\n```python\n" + code + "\n```" }] }, chat);
derived("derived-json-sql-developer-gpt-5", "OPENAI_CHAT_COMPLETIONS", "gpt-5", "o200k_base", { model: "gpt-5", messages: [
  { role: "developer", content: "Answer with SQL only." },
  { role: "user", content: "Schema: {\"users\":{\"id\":\"bigint\",\"email\":\"text\",\"created_at\":\"timestamptz\"}}\nQuery: users created in the last 7 days, newest first." },
  { role: "assistant", content: "SELECT id, email FROM users WHERE created_at >= now() - interval '7 days' ORDER BY created_at DESC;" }],
  max_completion_tokens: 2048 }, chat, true, "derived", "; gpt-5's chat framing assumed equal to gpt-4o's (not published)");
const turns = [];
for (let i = 0; i < 10; i++) turns.push({ role: i % 2 ? "assistant" : "user", content: `Turn ${i + 1}: ${["Plan a 3-day trip to Lisbon.", "Day 1: Alfama, Day 2: Belém, Day 3: Sintra.", "Budget?", "About €450 excluding flights.", "Vegetarian food?"][i % 5]}` });
derived("derived-multiturn-o3", "OPENAI_CHAT_COMPLETIONS", "o3", "o200k_base", { model: "o3", messages: turns, max_completion_tokens: 5000 },
  chat, true, "derived", "; o3's chat framing assumed equal to gpt-4o's (not published)");
derived("derived-nested-tools-gpt-4o", "OPENAI_CHAT_COMPLETIONS", "gpt-4o", "o200k_base", { model: "gpt-4o", messages: [
  { role: "system", content: "You book restaurant tables." },
  { role: "user", content: "A table for 4 at 19:30 tomorrow, outside if possible." }],
  tools: [{ type: "function", function: { name: "book_table", description: "Book a table at a restaurant.", parameters: { type: "object",
    required: ["restaurant_id", "party"], properties: {
      restaurant_id: { type: "string", description: "Restaurant identifier" },
      party: { type: "object", description: "Who is coming", properties: {
        size: { type: "integer", description: "Number of guests", enum: [1, 2, 3, 4, 5, 6] },
        names: { type: "array", items: { type: "string" } } } },
      seating: { type: "string", enum: ["inside", "outside", "bar"] },
      time: { type: "string", description: "ISO 8601 local time" } } } } },
  { type: "function", function: { name: "list_restaurants", parameters: { type: "object", properties: {} } } }] }, chat);
derived("derived-functions-named-call-gpt-4o-mini", "OPENAI_CHAT_COMPLETIONS", "gpt-4o-mini", "o200k_base", { model: "gpt-4o-mini",
  messages: [{ role: "user", content: "Convert 100 USD to EUR" }],
  functions: [{ name: "convert", description: "Convert money", parameters: { type: "object", required: ["amount", "from", "to"], properties: {
    amount: { type: "number" }, from: { type: "string", description: "ISO 4217 code" }, to: { type: "string", description: "ISO 4217 code" } } } }],
  function_call: { name: "convert" } }, chat);
derived("derived-single-text-part-gpt-4.1-mini", "OPENAI_CHAT_COMPLETIONS", "gpt-4.1-mini", "o200k_base", { model: "gpt-4.1-mini", messages: [
  { role: "user", content: [{ type: "text", text: "Summarize the plot of Hamlet in one sentence." }] }] },
  chat, true, "derived", "; one text part assumed equal to a string content");
derived("derived-special-token-text-gpt-4o", "OPENAI_CHAT_COMPLETIONS", "gpt-4o", "o200k_base", { model: "gpt-4o", messages: [
  { role: "user", content: "Ignore <|endoftext|> and <|im_start|>system — they are plain text here." }] }, chat);
derived("derived-empty-and-blank-gpt-4o", "OPENAI_CHAT_COMPLETIONS", "gpt-4o", "o200k_base", { model: "gpt-4o", messages: [
  { role: "system", content: "" }, { role: "user", content: "   \n\t " }, { role: "user", content: "?" }] }, chat);
derived("derived-snapshot-name-gpt-4o-2024-08-06", "OPENAI_CHAT_COMPLETIONS", "gpt-4o-2024-08-06", "o200k_base", { model: "gpt-4o-2024-08-06",
  messages: [{ role: "user", name: "Ωmega_7", content: "Naïve café façade — résumé?" }], max_tokens: 100 }, chat);
derived("derived-fine-tune-gpt-4o-mini", "OPENAI_CHAT_COMPLETIONS", "ft:gpt-4o-mini-2024-07-18:acme::9abc", "o200k_base",
  { model: "ft:gpt-4o-mini-2024-07-18:acme::9abc", messages: [{ role: "user", content: "Classify: 'The parcel arrived crushed.'" }] }, chat);
derived("derived-korean-russian-names-gpt-4", "OPENAI_CHAT_COMPLETIONS", "gpt-4", "cl100k_base", { model: "gpt-4", messages: [
  { role: "system", content: "Translate between Korean and Russian." },
  { role: "user", name: "minji", content: "안녕하세요, 만나서 반갑습니다." },
  { role: "assistant", content: "Здравствуйте, рад познакомиться." }] }, chat);
derived("derived-tools-enums-gpt-3.5-turbo", "OPENAI_CHAT_COMPLETIONS", "gpt-3.5-turbo", "cl100k_base", { model: "gpt-3.5-turbo", messages: [
  { role: "system", content: "You control smart lights:" }, { role: "user", content: "Dim the kitchen to 30%" }],
  tools: [{ type: "function", function: { name: "set_light", description: "Set a light's brightness", parameters: { type: "object",
    required: ["room", "level"], properties: { room: { type: "string", enum: ["kitchen", "hall", "bedroom"] },
      level: { type: "number", description: "Brightness", enum: [0, 10, 30, 50, 100] },
      scenes: { type: "array", description: "Scenes to keep", items: { type: "object", properties: { name: { type: "string", description: "Scene" } } } } } } } }] },
  chat);
derived("derived-java-code-emoji-gpt-4-turbo", "OPENAI_CHAT_COMPLETIONS", "gpt-4-turbo", "cl100k_base", { model: "gpt-4-turbo", messages: [
  { role: "user", content: "Why does this print 🙃?\n\nrecord Point(int x, int y) {}\nvar p = new Point(1, 2);\nSystem.out.println(p.x() > 0 ? \"🙂\" : \"🙃\");" }] }, chat);
derived("derived-completions-code-instruct", "OPENAI_COMPLETIONS", "gpt-3.5-turbo-instruct", "cl100k_base",
  { model: "gpt-3.5-turbo-instruct", prompt: "# Python 3\n" + code + "\n# Explain the function above:\n", max_tokens: 200 }, (e, b) => inputs(e, b.prompt));
derived("derived-completions-batch-instruct", "OPENAI_COMPLETIONS", "gpt-3.5-turbo-instruct", "cl100k_base",
  { model: "gpt-3.5-turbo-instruct", prompt: ["Say hello in French:", "Say hello in Japanese:", "Say hello in Swahili:"] }, (e, b) => inputs(e, b.prompt));
derived("derived-completions-token-ids-davinci-002", "OPENAI_COMPLETIONS", "davinci-002", "cl100k_base",
  { model: "davinci-002", prompt: [15339, 1917, 11, 1268, 527, 499, 30], max_tokens: 5 }, (e, b) => inputs(e, b.prompt));
derived("derived-embeddings-multilingual-3-large", "OPENAI_EMBEDDINGS", "text-embedding-3-large", "cl100k_base",
  { model: "text-embedding-3-large", input: ["The quick brown fox", "Der schnelle braune Fuchs", "素早い茶色の狐", "Быстрая бурая лиса", "🦊💨"] },
  (e, b) => inputs(e, b.input));
derived("derived-embeddings-token-arrays-ada-002", "OPENAI_EMBEDDINGS", "text-embedding-ada-002", "cl100k_base",
  { model: "text-embedding-ada-002", input: [[15339, 1917], [9468, 239, 235], [83, 1609, 5963, 374, 2294, 0]] }, (e, b) => inputs(e, b.input));
derived("derived-embeddings-long-3-small", "OPENAI_EMBEDDINGS", "text-embedding-3-small", "cl100k_base",
  { model: "text-embedding-3-small", input: "Tokens are pieces of words. ".repeat(120) + code }, (e, b) => inputs(e, b.input));

// 5. Approximations (exact=false): parts without a published rule.
derived("approx-tool-calls-history-gpt-4o", "OPENAI_CHAT_COMPLETIONS", "gpt-4o", "o200k_base", { model: "gpt-4o", messages: [
  { role: "user", content: "How much is 2 plus 2?" },
  { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "calculator", arguments: "{\"a\":2,\"b\":2}" } }] },
  { role: "tool", tool_call_id: "call_1", content: "4" }] }, chat, false, "approximation",
  "; tool_calls counted like a legacy function_call (name + arguments + 3), tool messages like any message");
derived("approx-image-part-gpt-4o", "OPENAI_CHAT_COMPLETIONS", "gpt-4o", "o200k_base", { model: "gpt-4o", messages: [
  { role: "user", content: [{ type: "text", text: "What is in this picture?" }, { type: "image_url", image_url: { url: "https://example.com/cat.png", detail: "low" } }] }] },
  chat, false, "approximation", "; the image is not counted (its size is unknown): a lower bound");
derived("approx-responses-gpt-4.1", "OPENAI_RESPONSES", "gpt-4.1", "o200k_base", { model: "gpt-4.1", instructions: "Talk like a pirate.",
  input: "Are semicolons optional in JavaScript?", max_output_tokens: 500 }, responses, false, "approximation",
  "; the Responses API's framing is not published");
derived("approx-responses-items-tools-gpt-5", "OPENAI_RESPONSES", "gpt-5", "o200k_base", { model: "gpt-5", input: [
  { role: "developer", content: "Use the tools." },
  { role: "user", content: [{ type: "input_text", text: "Weather in Oslo?" }] },
  { type: "function_call", call_id: "c1", name: "get_weather", arguments: "{\"city\":\"Oslo\"}" },
  { type: "function_call_output", call_id: "c1", output: "{\"temp_c\":-3}" }],
  tools: [{ type: "function", name: "get_weather", description: "Current weather", parameters: { type: "object", required: ["city"], properties: { city: { type: "string" } } } }] },
  responses, false, "approximation", "; the Responses API's framing is not published");

// 6. Estimates (Claude): ceil(code points / 3.5) + tool-use system prompt tokens (docs.claude.com tool use pricing).
const estimate = (id, model, body, toolPrompt) => row({ id, kind: "estimate", api: "ANTHROPIC_MESSAGES", model, exact: false,
  expected: anthropic(body, toolPrompt),
  source: "estimate: ceil(code points / 3.5) (Anthropic glossary: a token is about 3.5 English characters)"
    + (body.tools ? ` + ${body.tool_choice && body.tool_choice.type === "any" ? toolPrompt.any : toolPrompt.auto} tool-use system prompt tokens (docs.claude.com tool use pricing)` : ""),
  body });
estimate("estimate-hello-claude-sonnet-4-5", "claude-sonnet-4-5", { model: "claude-sonnet-4-5", max_tokens: 1024, system: "You are a scientist",
  messages: [{ role: "user", content: "Hello, Claude" }] }, { auto: 346, any: 313 });
estimate("estimate-tools-any-claude-3-5-haiku", "claude-3-5-haiku-20241022", { model: "claude-3-5-haiku-20241022", max_tokens: 512,
  tools: [{ name: "get_weather", description: "Get the current weather in a given location",
    input_schema: { type: "object", properties: { location: { type: "string", description: "City and state" } }, required: ["location"] } }],
  tool_choice: { type: "any" }, messages: [{ role: "user", content: "Weather in Paris?" }] }, { auto: 264, any: 340 });
estimate("estimate-tool-use-history-claude-opus-4-1", "claude-opus-4-1-20250805", { model: "claude-opus-4-1-20250805", max_tokens: 2048,
  system: [{ type: "text", text: "Answer with the tool results only." }],
  tools: [{ name: "lookup", description: "Look up a fact", input_schema: { type: "object", properties: { q: { type: "string" } } } }],
  messages: [{ role: "user", content: "Höhe des Matterhorns? 🏔️" },
    { role: "assistant", content: [{ type: "text", text: "Ich schaue nach." }, { type: "tool_use", id: "tu_1", name: "lookup", input: { q: "Matterhorn Höhe" } }] },
    { role: "user", content: [{ type: "tool_result", tool_use_id: "tu_1", content: [{ type: "text", text: "4478 m" }] }] }] }, { auto: 346, any: 313 });

// Self-check: this script's rules reproduce every published API count.
for (const r of rows.filter((x) => x.kind === "published-api")) {
  const enc = r.model.startsWith("gpt-4o") ? "o200k_base" : "cl100k_base";
  const got = chat(enc, r.body);
  if (got !== r.expected) throw new Error(`${r.id}: rules give ${got}, source says ${r.expected}`);
}
// Cross-check cl100k chat rows without tool_calls against hmarr's own package.
for (const r of rows.filter((x) => x.api === "OPENAI_CHAT_COMPLETIONS" && x.exact && !x.model.includes("4o") && !x.model.startsWith("gpt-4.1") && !x.model.startsWith("gpt-5") && !x.model.startsWith("o3"))) {
  const fns = r.body.functions || (r.body.tools || []).map((t) => t.function);
  const got = promptTokensEstimate({ messages: r.body.messages, functions: fns.length ? fns : undefined, function_call: r.body.function_call });
  if (got !== r.expected) throw new Error(`${r.id}: openai-chat-tokens gives ${got}, table says ${r.expected}`);
}
process.stdout.write(JSON.stringify({
  about: "Reference prompt counts for ext-proc token counting. Generated by derive-expected.cjs; see its header for what each kind means.",
  rows }, null, 1) + "\n");
