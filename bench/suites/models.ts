/**
 * Model adapter benchmark (`npx tsx bench/suites/models.ts`).
 *
 * 1. Adapter overhead per call against a local HTTP server speaking each
 *    provider's wire format. Baseline: a raw `fetch` of the same request to
 *    the same endpoint. Variants run interleaved (round robin) so machine
 *    noise hits all of them alike. Target: < 1 ms beyond the round trip.
 * 2. Replay (cassette) lookup cost per call.
 * 3. The embedded path (node-llama-cpp) on the generated tiny GGUF:
 *    tokens/s through localModel (chat template + JSON grammar) vs a raw
 *    node-llama-cpp completion on the same model as the floor.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { z } from "zod";
import { defineIntent, doneForNow } from "../../src/intent/intent.js";
import { stepJsonSchema, toolSpecs } from "../../src/intent/schema-text.js";
import { anthropicModel } from "../../src/model/anthropic.js";
import { recordModel, replayModel } from "../../src/model/cassette.js";
import { localModel } from "../../src/model/local/index.js";
import { openaiModel } from "../../src/model/openai.js";
import { withResilience } from "../../src/model/resilience.js";
import { scriptedModel } from "../../src/model/scripted.js";
import type { GenerateRequest, Message, OutputSpec } from "../../src/model/types.js";
import { buildTinyModel } from "../../test/support/gguf/tiny-model.js";

const CALLS = Number(process.env.BENCH_MODEL_CALLS ?? 1500);
const WARMUP = 200;

const operands = z.object({ a: z.number(), b: z.number() });
const intents = [
  defineIntent("add", operands, { description: "Add two numbers" }),
  defineIntent("subtract", operands, { description: "Subtract b from a" }),
  defineIntent("multiply", operands, { description: "Multiply two numbers" }),
  defineIntent("divide", operands, { description: "Divide a by b" }),
  doneForNow,
];
const output = (mode: OutputSpec["mode"]): OutputSpec => ({
  mode,
  tools: toolSpecs(intents),
  jsonSchema: stepJsonSchema(intents),
});
const messages: Message[] = [
  { role: "system", content: "You are a calculator agent. Pick the next step." },
  { role: "user", content: "<user_message>\nmultiply 3 and 4, then add 2\n</user_message>" },
  { role: "assistant", content: "", toolCalls: [{ id: "call_1", name: "multiply", arguments: { a: 3, b: 4 } }] },
  { role: "tool", content: "12", toolCallId: "call_1", name: "multiply" },
];

const openaiBody = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1741570283,
  model: "gpt-4.1-mini-2025-04-14",
  choices: [
    {
      index: 0,
      message: {
        role: "assistant",
        content: null,
        refusal: null,
        annotations: [],
        tool_calls: [{ id: "call_2", type: "function", function: { name: "add", arguments: '{"a":12,"b":2}' } }],
      },
      logprobs: null,
      finish_reason: "tool_calls",
    },
  ],
  usage: { prompt_tokens: 82, completion_tokens: 17, total_tokens: 99 },
});
const anthropicBody = JSON.stringify({
  id: "msg_bench",
  type: "message",
  role: "assistant",
  model: "claude-sonnet-4-6",
  content: [{ type: "tool_use", id: "toolu_2", name: "add", input: { a: 12, b: 2 } }],
  stop_reason: "tool_use",
  stop_sequence: null,
  usage: { input_tokens: 472, output_tokens: 91 },
});

const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    const body = req.url?.includes("/messages") ? anthropicBody : openaiBody;
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
});
await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

type Variant = { name: string; run: () => Promise<unknown> };
const stats = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { median: at(0.5), p95: at(0.95), mean: samples.reduce((a, b) => a + b, 0) / samples.length };
};

async function interleaved(variants: Variant[]): Promise<Map<string, number[]>> {
  const samples = new Map(variants.map((v) => [v.name, [] as number[]]));
  for (let i = 0; i < WARMUP + CALLS; i++) {
    for (const variant of variants) {
      const started = performance.now();
      await variant.run();
      if (i >= WARMUP) samples.get(variant.name)!.push(performance.now() - started);
    }
  }
  return samples;
}

const openaiWire = JSON.stringify({
  model: "gpt-4.1-mini",
  messages: [
    { role: "system", content: messages[0]!.content },
    { role: "user", content: messages[1]!.content },
    {
      role: "assistant",
      content: null,
      tool_calls: [{ id: "call_1", type: "function", function: { name: "multiply", arguments: '{"a":3,"b":4}' } }],
    },
    { role: "tool", tool_call_id: "call_1", content: "12" },
  ],
  tools: toolSpecs(intents).map((t) => ({ type: "function", function: t })),
  tool_choice: "required",
});
const anthropicWire = JSON.stringify({
  model: "claude-sonnet-4-6",
  max_tokens: 4096,
  system: messages[0]!.content,
  messages: [
    { role: "user", content: messages[1]!.content },
    { role: "assistant", content: [{ type: "tool_use", id: "call_1", name: "multiply", input: { a: 3, b: 4 } }] },
    { role: "user", content: [{ type: "tool_result", tool_use_id: "call_1", content: "12" }] },
  ],
  tools: toolSpecs(intents).map((t) => ({ name: t.name, description: t.description, input_schema: t.parameters })),
  tool_choice: { type: "any" },
});

const request: GenerateRequest = { messages, output: output("tools") };
const oa = openaiModel({ model: "gpt-4.1-mini", apiKey: "sk-bench", baseURL: `${base}/v1` });
const oaClient = new OpenAI({ apiKey: "sk-bench", baseURL: `${base}/v1`, maxRetries: 0 });
const an = anthropicModel({ model: "claude-sonnet-4-6", apiKey: "sk-ant-bench", baseURL: base });
const anClient = new Anthropic({ apiKey: "sk-ant-bench", baseURL: base, maxRetries: 0 });
const resilientOa = withResilience(oa);

const rawFetch = (path: string, body: string, headers: Record<string, string>) => async () => {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  return res.json();
};

console.log(
  `Adapter overhead per call (${CALLS} calls each after ${WARMUP} warm-up, interleaved; local node:http server on 127.0.0.1)\n`,
);
const http = await interleaved([
  {
    name: "openai: raw fetch (baseline)",
    run: rawFetch("/v1/chat/completions", openaiWire, { authorization: "Bearer sk-bench" }),
  },
  { name: "openai: official SDK, direct", run: () => oaClient.chat.completions.create(JSON.parse(openaiWire)) },
  { name: "openai: twelve openaiModel", run: () => oa.generate(request) },
  { name: "openai: twelve withResilience(openaiModel)", run: () => resilientOa.generate(request) },
  {
    name: "anthropic: raw fetch (baseline)",
    run: rawFetch("/v1/messages", anthropicWire, { "x-api-key": "sk-ant-bench", "anthropic-version": "2023-06-01" }),
  },
  { name: "anthropic: official SDK, direct", run: () => anClient.messages.create(JSON.parse(anthropicWire)) },
  { name: "anthropic: twelve anthropicModel", run: () => an.generate(request) },
]);
const baselineFor = (name: string) => stats(http.get(`${name.split(":")[0]}: raw fetch (baseline)`)!).median;
console.log("| variant | median ms | p95 ms | median − raw fetch (ms) |");
console.log("|---|---:|---:|---:|");
for (const [name, samples] of http) {
  const s = stats(samples);
  const delta = s.median - baselineFor(name);
  console.log(
    `| ${name} | ${s.median.toFixed(3)} | ${s.p95.toFixed(3)} | ${name.includes("baseline") ? "—" : `${delta >= 0 ? "+" : ""}${delta.toFixed(3)}`} |`,
  );
}
const median = (name: string) => stats(http.get(name)!).median;
for (const provider of ["openai", "anthropic"]) {
  const adapter = median(`${provider}: twelve ${provider}Model`);
  const overFetch = adapter - median(`${provider}: raw fetch (baseline)`);
  const overSdk = adapter - median(`${provider}: official SDK, direct`);
  console.log(
    `\n${provider}: twelve adds ${overFetch.toFixed(3)} ms over a raw fetch (target < 1 ms: ${overFetch < 1 ? "met" : "MISSED"}), ${overSdk >= 0 ? "+" : ""}${overSdk.toFixed(3)} ms over calling the official SDK directly`,
  );
}
server.closeAllConnections();
server.close();

// Replay: hashing the request and serving from the cassette.
const dir = await mkdtemp(join(tmpdir(), "twelve-bench-models-"));
const cassette = join(dir, "cassette.json");
await recordModel(scriptedModel([{ intent: "add", a: 12, b: 2 }]), cassette).generate(request);
const replay = await replayModel(cassette);
const replaySamples: number[] = [];
for (let i = 0; i < WARMUP + CALLS; i++) {
  const started = performance.now();
  await replay.generate(request);
  if (i >= WARMUP) replaySamples.push(performance.now() - started);
}
const rs = stats(replaySamples);
console.log(
  `\nReplay from a cassette (4 messages + 5 tool schemas hashed per call): median ${(rs.median * 1000).toFixed(1)} µs, p95 ${(rs.p95 * 1000).toFixed(1)} µs\n`,
);

// Embedded path on the tiny generated model.
const gguf = join(dir, "tiny.gguf");
await writeFile(gguf, buildTinyModel({ seed: 12 }));
const RUNS = Number(process.env.BENCH_LOCAL_RUNS ?? 8);
const MAX_TOKENS = 64;
const { getLlama, LlamaCompletion } = await import("node-llama-cpp");
const loadStarted = performance.now();
// BENCH_LOCAL_MODEL: measure a real model instead (a .gguf path or an hf: URI, downloaded once).
const localSpec = process.env.BENCH_LOCAL_MODEL ?? gguf;
const threads = Number(process.env.BENCH_LOCAL_THREADS ?? 1);
const local = localModel({ model: localSpec, gpu: false, threads, contextSize: 2048 });
const modelPath = await local.load();
const loadMs = performance.now() - loadStarted;
const rows: { name: string; tokens: number; ms: number }[] = [];
for (const [name, spec] of [
  ["twelve localModel, json mode (ChatML template + JSON-schema grammar)", output("json")],
  ["twelve localModel, no output schema (no grammar)", undefined],
] as const) {
  let tokens = 0;
  let ms = 0;
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const result = await local.generate({
      messages: [{ role: "user", content: `add ${i} and ${i + 1}` }],
      ...(spec && { output: spec }),
      maxTokens: MAX_TOKENS,
    });
    ms += performance.now() - started;
    tokens += result.usage?.outputTokens ?? 0;
  }
  rows.push({ name, tokens, ms });
}
await local.dispose();

const llama = await getLlama({ gpu: false, progressLogs: false });
const raw = await llama.loadModel({ modelPath });
const context = await raw.createContext({ contextSize: 2048, threads });
const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
{
  let tokens = 0;
  let ms = 0;
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await completion.generateCompletion(`add ${i} and ${i + 1}`, {
      maxTokens: MAX_TOKENS,
      onToken: (t) => {
        tokens += t.length;
      },
    });
    ms += performance.now() - started;
  }
  rows.push({ name: "baseline: raw node-llama-cpp LlamaCompletion (no template, no grammar)", tokens, ms });
}
await context.dispose();
await raw.dispose();

const what =
  process.env.BENCH_LOCAL_MODEL ?? `the generated tiny GGUF (${(buildTinyModel().length / 1024).toFixed(0)} KB)`;
console.log(
  `Embedded model (node-llama-cpp, CPU, ${threads} thread(s)) on ${what}; load ${loadMs.toFixed(0)} ms; ${RUNS} calls each, max ${MAX_TOKENS} tokens\n`,
);
console.log("| path | output tokens | total ms | tokens/s (incl. prompt eval) | ms per call |");
console.log("|---|---:|---:|---:|---:|");
for (const row of rows) {
  console.log(
    `| ${row.name} | ${row.tokens} | ${row.ms.toFixed(0)} | ${((row.tokens / row.ms) * 1000).toFixed(1)} | ${(row.ms / RUNS).toFixed(1)} |`,
  );
}
await rm(dir, { recursive: true, force: true });
