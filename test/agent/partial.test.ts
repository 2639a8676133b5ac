import fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineAgent, defineIntent, type PartialStep, run, step } from "../../src/index.js";
import { anthropicModel } from "../../src/model/anthropic.js";
import { ModelError, withFallback, withResilience } from "../../src/model/index.js";
import { openaiModel } from "../../src/model/openai.js";
import type { GenerateRequest, OutputMode } from "../../src/model/types.js";
import { createRuntime } from "../../src/runtime/index.js";
import { memoryStore } from "../../src/store/index.js";
import { scriptedModel } from "../../src/testing.js";
import { FakeProvider, sseData, sseEvent } from "../model/fake-server.js";
import { newThread } from "./fixtures.js";

/**
 * `onPartial` through the real loop: a step's arguments as they stream, in
 * every output mode, from test models and from local stand-ins of the
 * OpenAI and Anthropic streaming wire formats.
 */
const note = defineIntent("note", z.object({ title: z.string(), body: z.string(), stars: z.number().optional() }), {
  description: "Write a note",
  handler: ({ title }) => `saved ${title}`,
});
const agent = (output: OutputMode) => defineAgent({ name: "test", intents: [note], output });

const final = { title: "Groceries", body: "milk and eggs", stars: 3 };

/** A scripted answer that streams exactly these text deltas, then returns their concatenation. */
const streaming =
  (...deltas: string[]) =>
  (request: GenerateRequest) => {
    for (const delta of deltas) request.onText?.(delta);
    return deltas.join("");
  };

async function oneStep(model: Parameters<typeof step>[2]["model"], output: OutputMode) {
  const { thread, runtime } = newThread("note my groceries");
  const partials: PartialStep[] = [];
  const after = await step(agent(output), thread, { model, runtime, onPartial: (p) => partials.push(p) });
  return { partials, after };
}

describe("onPartial in the agent loop", () => {
  it("prompt mode: reads the text stream, fenced after reasoning; open strings marked; ends complete", async () => {
    const model = scriptedModel([
      streaming(
        "I'll write it down.\n```json\n",
        '{"intent": "note", "title": "Groc',
        'eries", "body": "milk',
        ' and eggs", "stars": 3',
        "}\n```",
      ),
    ]);
    const { partials, after } = await oneStep(model, "prompt");
    expect(partials).toEqual([
      { intent: "note", value: { title: "Groc" }, incomplete: ["/title"], complete: false },
      { intent: "note", value: { title: "Groceries", body: "milk" }, incomplete: ["/body"], complete: false },
      // "stars": 3 may still grow into 30: not shown until something follows it.
      { intent: "note", value: { title: "Groceries", body: "milk and eggs" }, incomplete: [], complete: false },
      { intent: "note", value: final, incomplete: [], complete: true },
    ]);
    expect(after.events.find((e) => e.meta?.kind === "step")?.data).toEqual({ intent: "note", ...final });
  });

  it("prompt mode with a plain scripted answer: the scripted model streams it in pieces", async () => {
    const { partials } = await oneStep(scriptedModel([{ intent: "note", ...final }]), "prompt");
    expect(partials.length).toBeGreaterThan(1);
    expect(partials.at(-1)).toEqual({ intent: "note", value: final, incomplete: [], complete: true });
    // Each partial's finished fields are the final ones.
    for (const partial of partials) {
      for (const [key, value] of Object.entries(partial.value)) {
        const whole = final[key as keyof typeof final];
        if (partial.incomplete.includes(`/${key}`)) expect(String(whole).startsWith(String(value))).toBe(true);
        else expect(value).toEqual(whole);
      }
    }
  });

  it("tools mode: reads the tool-call argument deltas (scripted tool calls stream their arguments)", async () => {
    const model = scriptedModel([{ toolCalls: [{ id: "call_1", name: "note", arguments: final }] }]);
    const { partials, after } = await oneStep(model, "tools");
    expect(partials.length).toBeGreaterThan(1);
    expect(partials.every((p) => p.intent === "note")).toBe(true);
    expect(partials.at(-1)).toEqual({ intent: "note", value: final, incomplete: [], complete: true });
    expect(after.events.find((e) => e.meta?.kind === "step")?.data).toEqual({ intent: "note", ...final });
  });

  it("is called only when what is known changed, and an exception it throws does not fail the step", async () => {
    const model = scriptedModel([
      streaming('{"intent": "note", ', '"title": "A", ', "   ", '"body": "b"}'),
      { intent: "done_for_now", message: "ok" },
    ]);
    const { thread, runtime } = newThread();
    let calls = 0;
    const done = await run(agent("prompt"), thread, {
      model,
      runtime,
      onPartial: () => {
        calls++;
        throw new Error("display broke");
      },
    });
    expect(done.events.some((e) => e.type === "error")).toBe(false);
    expect(done.events.find((e) => e.type === "note_result")?.data).toBe("saved A");
    // note: {title:A} once (the spaces change nothing), then complete; done_for_now's partials after.
    expect(calls).toBeGreaterThanOrEqual(3);
  });

  it("a retry after deltas were streamed starts the partial over (withResilience resets the stream)", async () => {
    const model = withResilience(
      scriptedModel([
        (request) => {
          request.onText?.('{"intent": "note", "title": "Wro');
          throw new ModelError("server", "connection reset mid-stream", { model: "script" });
        },
        streaming('{"intent": "note", "title": "Right", ', '"body": "b"}'),
      ]),
      { retries: 1, baseDelayMs: 1 },
    );
    const { partials } = await oneStep(model, "prompt");
    expect(partials.map((p) => p.value.title)).toEqual(["Wro", "Right", "Right"]);
    expect(partials.at(-1)).toEqual({
      intent: "note",
      value: { title: "Right", body: "b" },
      incomplete: [],
      complete: true,
    });
  });

  it("withFallback resets the stream before the next model", async () => {
    const first = scriptedModel([
      (request: GenerateRequest) => {
        request.onText?.('{"intent": "note", "title": "Wro');
        throw new ModelError("server", "down", { model: "a" });
      },
    ]);
    const second = scriptedModel([streaming('{"intent": "note", "title": "Right", "body": "b"}')]);
    const { partials } = await oneStep(withFallback([first, second]), "prompt");
    expect(partials.at(-1)?.value).toEqual({ title: "Right", body: "b" });
  });

  it("the runtime passes onPartial through to the loop", async () => {
    const partials: PartialStep[] = [];
    const rt = createRuntime({
      store: memoryStore(),
      agents: agent("prompt"),
      model: scriptedModel([
        { intent: "note", ...final },
        { intent: "done_for_now", message: "ok" },
      ]),
      onPartial: (p) => partials.push(p),
    });
    const result = await rt.start(agent("prompt"), "note it");
    expect(result.state.status).toBe("done");
    expect(partials.some((p) => p.intent === "note" && p.complete)).toBe(true);
    expect(partials.some((p) => p.intent === "done_for_now" && p.complete)).toBe(true);
  });
});

describe("onPartial over any chunking (property)", () => {
  const notes = fc.record({
    title: fc.string({ maxLength: 30 }),
    body: fc.string({ unit: "grapheme", maxLength: 30 }),
    stars: fc.option(fc.integer({ min: -1000, max: 1000 }), { nil: undefined }),
  });
  /** `text` cut at the given points (sorted, deduplicated, inside the text). */
  const cut = (text: string, points: number[]) => {
    const at = [...new Set(points.map((p) => p % (text.length + 1)))].sort((a, b) => a - b);
    return [...at, text.length].map((end, i) => text.slice(i === 0 ? 0 : at[i - 1], end));
  };

  it("tools and prompt modes: finished fields never change, open strings grow, the last partial is the step", async () => {
    await fc.assert(
      fc.asyncProperty(notes, fc.array(fc.nat(), { maxLength: 12 }), fc.boolean(), async (args, points, tools) => {
        const clean = JSON.parse(JSON.stringify(args)) as Record<string, unknown>;
        const text = JSON.stringify(tools ? clean : { intent: "note", ...clean });
        const pieces = cut(text, points);
        const model = scriptedModel([
          (request: GenerateRequest) => {
            for (const piece of pieces) {
              if (tools) request.onToolArguments?.("call_1", "note", piece);
              else request.onText?.(piece);
            }
            return tools ? { toolCalls: [{ id: "call_1", name: "note", arguments: text }] } : text;
          },
        ]);
        const { partials, after } = await oneStep(model, tools ? "tools" : "prompt");
        const step = after.events.find((e) => e.meta?.kind === "step");
        const finished = new Map<string, unknown>();
        for (const partial of partials) {
          expect(partial.intent).toBe("note");
          for (const [key, value] of Object.entries(partial.value)) {
            if (partial.incomplete.includes(`/${key}`)) {
              expect(String(clean[key]).startsWith(String(value))).toBe(true);
            } else {
              expect(value).toEqual(clean[key]);
              if (finished.has(key)) expect(finished.get(key)).toEqual(value);
              finished.set(key, value);
            }
          }
          // A field once finished is in every later partial.
          for (const key of finished.keys()) expect(Object.hasOwn(partial.value, key)).toBe(true);
        }
        expect(step?.data).toEqual({ intent: "note", ...clean });
        expect(partials.at(-1)).toEqual({ intent: "note", value: clean, incomplete: [], complete: true });
      }),
      { numRuns: 80 },
    );
  });
});

describe("onPartial against local stand-ins of the providers' streaming wire formats", () => {
  const server = new FakeProvider();
  beforeAll(() => server.start());
  beforeEach(() => server.reset());
  afterAll(() => server.stop());

  const openaiChunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    created: 1694268190,
    model: "gpt-4.1-mini",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });

  it("OpenAI tools mode: choices[].delta.tool_calls[].function.arguments chunks", async () => {
    const pieces = ['{"title": "Gro', 'ceries", "bo', 'dy": "milk and eggs", "stars": 3}'];
    server.reply({
      sse: [
        sseData(
          openaiChunk({
            role: "assistant",
            content: null,
            tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "note", arguments: "" } }],
          }),
        ),
        ...pieces.map((arguments_) =>
          sseData(openaiChunk({ tool_calls: [{ index: 0, function: { arguments: arguments_ } }] })),
        ),
        sseData(openaiChunk({}, "tool_calls")),
        sseData("[DONE]"),
      ],
    });
    const model = openaiModel({ model: "gpt-4.1-mini", apiKey: "sk-test", baseURL: `${server.url}/v1` });
    const { partials, after } = await oneStep(model, "tools");
    expect(partials).toEqual([
      { intent: "note", value: { title: "Gro" }, incomplete: ["/title"], complete: false },
      { intent: "note", value: { title: "Groceries" }, incomplete: [], complete: false },
      { intent: "note", value: final, incomplete: [], complete: true },
    ]);
    expect(after.events.find((e) => e.meta?.kind === "step")?.data).toEqual({ intent: "note", ...final });
  });

  it("OpenAI json mode: the text stream of the {step: …} wrapper", async () => {
    const pieces = ['{"step": {"intent": "note", "title": "Groceries", "body": "mi', 'lk and eggs", "stars": 3}}'];
    server.reply({
      sse: [
        ...pieces.map((content) => sseData(openaiChunk({ content }))),
        sseData(openaiChunk({}, "stop")),
        sseData("[DONE]"),
      ],
    });
    const model = openaiModel({ model: "gpt-4.1-mini", apiKey: "sk-test", baseURL: `${server.url}/v1` });
    const { partials, after } = await oneStep(model, "json");
    expect(partials).toEqual([
      { intent: "note", value: { title: "Groceries", body: "mi" }, incomplete: ["/body"], complete: false },
      { intent: "note", value: final, incomplete: [], complete: true },
    ]);
    expect(after.events.find((e) => e.meta?.kind === "step")?.data).toEqual({ intent: "note", ...final });
  });

  it("Anthropic tools mode: content_block_start tool_use, then input_json_delta partial_json", async () => {
    const message = {
      id: "msg_01",
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-6",
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 30, output_tokens: 1 },
    };
    const delta = (partial_json: string) =>
      sseEvent({ type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json } });
    server.reply({
      sse: [
        sseEvent({ type: "message_start", message }),
        sseEvent({
          type: "content_block_start",
          index: 0,
          content_block: { type: "tool_use", id: "toolu_1", name: "note", input: {} },
        }),
        delta(""),
        delta('{"title": "Groceries", "body": "milk'),
        delta(' and eggs", "stars": 3}'),
        sseEvent({ type: "content_block_stop", index: 0 }),
        sseEvent({
          type: "message_delta",
          delta: { stop_reason: "tool_use", stop_sequence: null },
          usage: { output_tokens: 20 },
        }),
        sseEvent({ type: "message_stop" }),
      ],
    });
    const model = anthropicModel({ model: "claude-sonnet-4-6", apiKey: "sk-ant-test", baseURL: server.url });
    const { partials, after } = await oneStep(model, "tools");
    expect(partials).toEqual([
      { intent: "note", value: { title: "Groceries", body: "milk" }, incomplete: ["/body"], complete: false },
      { intent: "note", value: final, incomplete: [], complete: true },
    ]);
    expect(after.events.find((e) => e.meta?.kind === "step")?.data).toEqual({ intent: "note", ...final });
  });
});
