import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseStep, parseToolCalls } from "../../src/intent/parse/index.js";
import { anthropicModel } from "../../src/model/anthropic.js";
import { withResilience } from "../../src/model/resilience.js";
import type { Message } from "../../src/model/types.js";
import { calculatorIntents, calculatorOutput } from "./calculator.js";
import { FakeProvider, sseEvent } from "./fake-server.js";

// Response shapes as documented in the Anthropic Messages API reference.
function message(content: unknown[], stopReason = "end_turn") {
  return {
    id: "msg_01Aq9w938a90dw8q",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5-20250929",
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: 472, output_tokens: 91, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };
}

function apiError(type: string, text: string) {
  return { type: "error", error: { type, message: text }, request_id: "req_011CSHoEeqs5C35K2UUqR7Fy" };
}

const conversation: Message[] = [
  { role: "system", content: "You are a calculator." },
  { role: "user", content: "multiply 3 and 4, then add 2" },
  {
    role: "assistant",
    content: "Multiplying first.",
    toolCalls: [{ id: "toolu_01", name: "multiply", arguments: { a: 3, b: 4 } }],
  },
  { role: "tool", content: "12", toolCallId: "toolu_01", name: "multiply" },
  { role: "user", content: "go on" },
];

describe("anthropicModel against a local Messages server", () => {
  const server = new FakeProvider();
  let model: ReturnType<typeof anthropicModel>;
  beforeAll(async () => {
    await server.start();
    model = anthropicModel({ model: "claude-sonnet-4-6", apiKey: "sk-ant-test", baseURL: server.url });
  });
  beforeEach(() => server.reset());
  afterAll(() => server.stop());

  it("tools mode: system separated, tool_use/tool_result turns, tool_use answer parses into a step", async () => {
    server.reply({
      json: message(
        [
          { type: "text", text: "Now adding." },
          { type: "tool_use", id: "toolu_02", name: "add", input: { a: 12, b: 2 } },
        ],
        "tool_use",
      ),
    });
    const result = await model.generate({ messages: conversation, output: calculatorOutput("tools") });
    expect(result.toolCalls).toEqual([{ id: "toolu_02", name: "add", arguments: { a: 12, b: 2 } }]);
    expect(result.text).toBe("Now adding.");
    expect(result.usage).toEqual({ inputTokens: 472, outputTokens: 91 });
    expect(parseToolCalls(result.toolCalls!, calculatorIntents).value).toEqual({ intent: "add", a: 12, b: 2 });

    const request = server.requests[0]!;
    expect(request.path).toBe("/v1/messages");
    expect(request.headers.authorization ?? request.headers["x-api-key"]).toMatch(/sk-ant-test/);
    expect(request.headers["anthropic-version"]).toBeTruthy();
    const body = request.body as Record<string, unknown>;
    expect(body.system).toBe("You are a calculator.");
    expect(body.max_tokens).toBe(4096);
    expect(body.tool_choice).toEqual({ type: "any" });
    expect(body.messages).toEqual([
      { role: "user", content: "multiply 3 and 4, then add 2" },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Multiplying first." },
          { type: "tool_use", id: "toolu_01", name: "multiply", input: { a: 3, b: 4 } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_01", content: "12" },
          { type: "text", text: "go on" },
        ],
      },
    ]);
    const tools = body.tools as { name: string; input_schema: { type: string; required: string[] } }[];
    expect(tools.map((t) => t.name)).toEqual(["add", "subtract", "multiply", "divide", "done_for_now"]);
    expect(tools[0]!.input_schema).toMatchObject({ type: "object", required: ["a", "b"] });
  });

  it("json mode: output_config.format carries the step union schema", async () => {
    server.reply({ json: message([{ type: "text", text: '{"step": {"intent":"done_for_now","message":"14"}}' }]) });
    const result = await model.generate({
      messages: conversation.slice(0, 2),
      output: calculatorOutput("json"),
      maxTokens: 300,
    });
    expect(parseStep(result.text!, calculatorIntents).value).toEqual({ intent: "done_for_now", message: "14" });
    const body = server.requests[0]!.body as Record<string, unknown>;
    expect(body.output_config).toEqual({
      format: {
        type: "json_schema",
        schema: {
          type: "object",
          properties: { step: calculatorOutput("json").jsonSchema },
          required: ["step"],
          additionalProperties: false,
        },
      },
    });
    expect(result.text).toBe('{"intent":"done_for_now","message":"14"}');
    expect(body.max_tokens).toBe(300);
    expect(body.tools).toBeUndefined();
  });

  it("streams text deltas through the SDK's MessageStream", async () => {
    server.reply({
      sse: [
        sseEvent({
          type: "message_start",
          message: { ...message([], null as unknown as string), usage: { input_tokens: 25, output_tokens: 1 } },
        }),
        sseEvent({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
        sseEvent({ type: "ping" }),
        sseEvent({
          type: "content_block_delta",
          index: 0,
          delta: { type: "text_delta", text: '{"intent":"done_for_now",' },
        }),
        sseEvent({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: '"message":"hi"}' } }),
        sseEvent({ type: "content_block_stop", index: 0 }),
        sseEvent({
          type: "message_delta",
          delta: { stop_reason: "end_turn", stop_sequence: null },
          usage: { output_tokens: 15 },
        }),
        sseEvent({ type: "message_stop" }),
      ],
    });
    const deltas: string[] = [];
    const result = await model.generate({ messages: [{ role: "user", content: "hi" }], onText: (d) => deltas.push(d) });
    expect(deltas).toEqual(['{"intent":"done_for_now",', '"message":"hi"}']);
    expect(result.text).toBe('{"intent":"done_for_now","message":"hi"}');
    expect(result.usage).toEqual({ inputTokens: 25, outputTokens: 15 });
    expect(server.requests[0]!.body).toMatchObject({ stream: true });
  });

  it("streams tool_use input assembled from input_json_delta fragments", async () => {
    server.reply({
      sse: [
        sseEvent({
          type: "message_start",
          message: { ...message([], null as unknown as string), usage: { input_tokens: 30, output_tokens: 1 } },
        }),
        sseEvent({
          type: "content_block_start",
          index: 0,
          content_block: { type: "tool_use", id: "toolu_9", name: "divide", input: {} },
        }),
        sseEvent({
          type: "content_block_delta",
          index: 0,
          delta: { type: "input_json_delta", partial_json: '{"a": 12' },
        }),
        sseEvent({
          type: "content_block_delta",
          index: 0,
          delta: { type: "input_json_delta", partial_json: ', "b": 4}' },
        }),
        sseEvent({ type: "content_block_stop", index: 0 }),
        sseEvent({
          type: "message_delta",
          delta: { stop_reason: "tool_use", stop_sequence: null },
          usage: { output_tokens: 20 },
        }),
        sseEvent({ type: "message_stop" }),
      ],
    });
    const result = await model.generate({
      messages: conversation,
      output: calculatorOutput("tools"),
      onText: () => {},
    });
    expect(result.toolCalls).toEqual([{ id: "toolu_9", name: "divide", arguments: { a: 12, b: 4 } }]);
    expect(result.text).toBeUndefined();
  });

  it("streams input_json_delta pieces to onToolArguments with the tool_use block's id and name, without onText", async () => {
    server.reply({
      sse: [
        sseEvent({
          type: "message_start",
          message: { ...message([], null as unknown as string), usage: { input_tokens: 30, output_tokens: 1 } },
        }),
        sseEvent({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
        sseEvent({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Dividing." } }),
        sseEvent({ type: "content_block_stop", index: 0 }),
        sseEvent({
          type: "content_block_start",
          index: 1,
          content_block: { type: "tool_use", id: "toolu_7", name: "divide", input: {} },
        }),
        sseEvent({ type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: "" } }),
        sseEvent({
          type: "content_block_delta",
          index: 1,
          delta: { type: "input_json_delta", partial_json: '{"a": 1' },
        }),
        sseEvent({
          type: "content_block_delta",
          index: 1,
          delta: { type: "input_json_delta", partial_json: '2, "b": 4}' },
        }),
        sseEvent({ type: "content_block_stop", index: 1 }),
        sseEvent({
          type: "message_delta",
          delta: { stop_reason: "tool_use", stop_sequence: null },
          usage: { output_tokens: 20 },
        }),
        sseEvent({ type: "message_stop" }),
      ],
    });
    const deltas: [string, string, string][] = [];
    const result = await model.generate({
      messages: conversation,
      output: calculatorOutput("tools"),
      onToolArguments: (id, name, delta) => deltas.push([id, name, delta]),
    });
    expect(server.requests[0]!.body).toMatchObject({ stream: true });
    expect(deltas).toEqual([
      ["toolu_7", "divide", '{"a": 1'],
      ["toolu_7", "divide", '2, "b": 4}'],
    ]);
    expect(result.toolCalls).toEqual([{ id: "toolu_7", name: "divide", arguments: { a: 12, b: 4 } }]);
  });

  describe("errors", () => {
    it("429 rate_limit_error with retry-after → rate_limited; withResilience retries after it", async () => {
      server.reply({
        status: 429,
        headers: { "retry-after": "0" },
        json: apiError("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
      });
      await expect(model.generate({ messages: conversation })).rejects.toMatchObject({
        code: "rate_limited",
        status: 429,
        retryAfterMs: 0,
      });

      server.reply(
        { status: 429, headers: { "retry-after": "0" }, json: apiError("rate_limit_error", "slow down") },
        { status: 529, json: apiError("overloaded_error", "Overloaded") },
        { json: message([{ type: "text", text: "ok" }]) },
      );
      const codes: string[] = [];
      const resilient = withResilience(model, { baseDelayMs: 1, onRetry: ({ error }) => codes.push(error.code) });
      expect((await resilient.generate({ messages: conversation })).text).toBe("ok");
      expect(codes).toEqual(["rate_limited", "server"]);
    });

    it("401 authentication_error → auth; 400 invalid_request_error → bad_request", async () => {
      server.reply({ status: 401, json: apiError("authentication_error", "invalid x-api-key") });
      await expect(model.generate({ messages: conversation })).rejects.toMatchObject({
        code: "auth",
        message: expect.stringContaining("invalid x-api-key"),
      });
      server.reply({ status: 400, json: apiError("invalid_request_error", "messages: roles must alternate") });
      await expect(model.generate({ messages: conversation })).rejects.toMatchObject({
        code: "bad_request",
        status: 400,
      });
    });

    it("an error event mid-stream (overloaded_error) → server, retryable", async () => {
      server.reply({
        sse: [
          sseEvent({
            type: "message_start",
            message: { ...message([], null as unknown as string), usage: { input_tokens: 5, output_tokens: 1 } },
          }),
          sseEvent({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
          sseEvent({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hel" } }),
          sseEvent({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } }),
        ],
      });
      const error = await model.generate({ messages: conversation, onText: () => {} }).catch((e) => e);
      expect(error).toMatchObject({ code: "server", retryable: true, message: expect.stringContaining("Overloaded") });
    });

    it("no API key → model_config at construction, not a retried failure later", () => {
      const saved = process.env.ANTHROPIC_API_KEY;
      delete process.env.ANTHROPIC_API_KEY;
      try {
        expect(() => anthropicModel({ model: "claude-sonnet-4-6", baseURL: server.url })).toThrow(
          /set ANTHROPIC_API_KEY/,
        );
      } finally {
        if (saved !== undefined) process.env.ANTHROPIC_API_KEY = saved;
      }
    });

    it("a malformed body → server", async () => {
      server.reply({ body: "<html>502 Bad Gateway</html>" });
      await expect(model.generate({ messages: conversation })).rejects.toMatchObject({ code: "server" });
    });

    it("timeouts and aborts", async () => {
      server.reply({ hang: true });
      await expect(
        withResilience(model, { timeoutMs: 100, retries: 0 }).generate({ messages: conversation }),
      ).rejects.toMatchObject({
        code: "timeout",
      });
      server.reply({ hang: true });
      const controller = new AbortController();
      const pending = model.generate({ messages: conversation, signal: controller.signal, onText: () => {} });
      setTimeout(() => controller.abort(), 30);
      await expect(pending).rejects.toMatchObject({ code: "aborted" });
    });
  });
});
