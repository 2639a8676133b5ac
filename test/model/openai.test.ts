import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseStep, parseToolCalls } from "../../src/intent/parse/index.js";
import { ModelError } from "../../src/model/errors.js";
import { buildRequest, openaiModel } from "../../src/model/openai.js";
import { withResilience } from "../../src/model/resilience.js";
import type { Message } from "../../src/model/types.js";
import { calculatorIntents, calculatorOutput } from "./calculator.js";
import { FakeProvider, sseData } from "./fake-server.js";

// Response shapes as documented in the OpenAI API reference (Chat Completions).
function completion(message: Record<string, unknown>, finish = "stop") {
  return {
    id: "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
    object: "chat.completion",
    created: 1741570283,
    model: "gpt-4.1-mini-2025-04-14",
    choices: [
      {
        index: 0,
        message: { role: "assistant", refusal: null, annotations: [], ...message },
        logprobs: null,
        finish_reason: finish,
      },
    ],
    usage: {
      prompt_tokens: 82,
      completion_tokens: 17,
      total_tokens: 99,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    },
    service_tier: "default",
    system_fingerprint: "fp_b376dfbbd5",
  };
}

function chunk(delta: Record<string, unknown>, finish: string | null = null) {
  return {
    id: "chatcmpl-123",
    object: "chat.completion.chunk",
    created: 1694268190,
    model: "gpt-4.1-mini-2025-04-14",
    system_fingerprint: "fp_44709d6fcb",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  };
}

const usageChunk = {
  id: "chatcmpl-123",
  object: "chat.completion.chunk",
  created: 1694268190,
  model: "gpt-4.1-mini-2025-04-14",
  choices: [],
  usage: { prompt_tokens: 40, completion_tokens: 9, total_tokens: 49 },
};

const rateLimitBody = {
  error: {
    message:
      "Rate limit reached for gpt-4.1-mini in organization org-x on requests per min (RPM): Limit 3, Used 3, Requested 1.",
    type: "requests",
    param: null,
    code: "rate_limit_exceeded",
  },
};

const conversation: Message[] = [
  { role: "system", content: "You are a calculator." },
  { role: "user", content: "multiply 3 and 4, then add 2" },
  { role: "assistant", content: "", toolCalls: [{ id: "call_1", name: "multiply", arguments: { a: 3, b: 4 } }] },
  { role: "tool", content: "12", toolCallId: "call_1", name: "multiply" },
];

describe("openaiModel against a local Chat Completions server", () => {
  const server = new FakeProvider();
  let model: ReturnType<typeof openaiModel>;
  beforeAll(async () => {
    await server.start();
    model = openaiModel({ model: "gpt-4.1-mini", apiKey: "sk-test", baseURL: `${server.url}/v1` });
  });
  beforeEach(() => server.reset());
  afterAll(() => server.stop());

  it("tools mode: sends function tools and the full history, returns tool calls that parse into a step", async () => {
    server.reply({
      json: completion(
        {
          content: null,
          tool_calls: [{ id: "call_2", type: "function", function: { name: "add", arguments: '{"a":12,"b":2}' } }],
        },
        "tool_calls",
      ),
    });
    const result = await model.generate({ messages: conversation, output: calculatorOutput("tools") });
    expect(result.toolCalls).toEqual([{ id: "call_2", name: "add", arguments: { a: 12, b: 2 } }]);
    expect(result.text).toBeUndefined();
    expect(result.usage).toEqual({ inputTokens: 82, outputTokens: 17 });
    expect(parseToolCalls(result.toolCalls!, calculatorIntents).value).toEqual({ intent: "add", a: 12, b: 2 });

    const request = server.requests[0]!;
    expect(request.path).toBe("/v1/chat/completions");
    expect(request.headers.authorization).toBe("Bearer sk-test");
    const body = request.body as Record<string, unknown>;
    expect(body.model).toBe("gpt-4.1-mini");
    expect(body.tool_choice).toBe("required");
    expect(body.messages).toEqual([
      { role: "system", content: "You are a calculator." },
      { role: "user", content: "multiply 3 and 4, then add 2" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_1", type: "function", function: { name: "multiply", arguments: '{"a":3,"b":4}' } }],
      },
      { role: "tool", tool_call_id: "call_1", content: "12" },
    ]);
    const tools = body.tools as { type: string; function: { name: string; parameters: { required: string[] } } }[];
    expect(tools.map((t) => t.function.name)).toEqual(["add", "subtract", "multiply", "divide", "done_for_now"]);
    expect(tools[0]!.type).toBe("function");
    expect(tools[0]!.function.parameters.required).toEqual(["a", "b"]);
  });

  it("json mode: sends the step union (wrapped in an object, as OpenAI wants a root object) and unwraps the answer", async () => {
    server.reply({ json: completion({ content: '{"step":{"intent":"done_for_now","message":"14"}}' }) });
    const result = await model.generate({
      messages: conversation.slice(0, 2),
      output: calculatorOutput("json"),
      temperature: 0,
      maxTokens: 50,
    });
    expect(parseStep(result.text!, calculatorIntents).value).toEqual({ intent: "done_for_now", message: "14" });
    const body = server.requests[0]!.body as Record<string, unknown>;
    expect(body.response_format).toEqual({
      type: "json_schema",
      json_schema: {
        name: "next_step",
        schema: {
          type: "object",
          properties: { step: calculatorOutput("json").jsonSchema },
          required: ["step"],
          additionalProperties: false,
        },
        strict: false,
      },
    });
    expect(result.text).toBe('{"intent":"done_for_now","message":"14"}');
    expect(body.temperature).toBe(0);
    expect(body.max_tokens).toBe(50);
    expect(body.tools).toBeUndefined();
  });

  it("prompt mode: plain text in, plain text out, no response_format or tools", async () => {
    server.reply({ json: completion({ content: 'Sure: {"intent":"add","a":1,"b":2}' }) });
    const result = await model.generate({
      messages: [{ role: "user", content: "add 1 and 2" }],
      output: calculatorOutput("prompt"),
    });
    expect(result.text).toBe('Sure: {"intent":"add","a":1,"b":2}');
    expect(result.latencyMs).toBeGreaterThan(0);
    expect(result.raw).toMatchObject({ id: "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG" });
    const body = server.requests[0]!.body as Record<string, unknown>;
    expect(body.response_format).toBeUndefined();
    expect(body.tools).toBeUndefined();
  });

  it("streams text deltas (SSE chunks) to onText and reports usage from the final chunk", async () => {
    server.reply({
      sse: [
        sseData(chunk({ role: "assistant", content: "", refusal: null })),
        sseData(chunk({ content: '{"intent":' })),
        sseData(chunk({ content: '"done_for_now",' })),
        sseData(chunk({ content: '"message":"hi"}' })),
        sseData(chunk({}, "stop")),
        sseData(usageChunk),
        sseData("[DONE]"),
      ],
    });
    const deltas: string[] = [];
    const result = await model.generate({ messages: [{ role: "user", content: "hi" }], onText: (d) => deltas.push(d) });
    expect(deltas).toEqual(['{"intent":', '"done_for_now",', '"message":"hi"}']);
    expect(result.text).toBe('{"intent":"done_for_now","message":"hi"}');
    expect(result.usage).toEqual({ inputTokens: 40, outputTokens: 9 });
    expect(server.requests[0]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it("streams tool calls assembled from argument fragments", async () => {
    server.reply({
      sse: [
        sseData(
          chunk({
            role: "assistant",
            content: null,
            tool_calls: [{ index: 0, id: "call_9", type: "function", function: { name: "divide", arguments: "" } }],
          }),
        ),
        sseData(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a":' } }] })),
        sseData(chunk({ tool_calls: [{ index: 0, function: { arguments: '12,"b":4}' } }] })),
        sseData(chunk({}, "tool_calls")),
        sseData(usageChunk),
        sseData("[DONE]"),
      ],
    });
    const result = await model.generate({
      messages: conversation,
      output: calculatorOutput("tools"),
      onText: () => {},
    });
    expect(result.toolCalls).toEqual([{ id: "call_9", name: "divide", arguments: { a: 12, b: 4 } }]);
    expect(result.text).toBeUndefined();
  });

  it("streams tool-call argument fragments to onToolArguments (index-keyed chunks, two calls), without onText", async () => {
    server.reply({
      sse: [
        sseData(
          chunk({
            role: "assistant",
            content: null,
            tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "divide", arguments: "" } }],
          }),
        ),
        sseData(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a"' } }] })),
        sseData(chunk({ tool_calls: [{ index: 0, function: { arguments: ":12," } }] })),
        sseData(
          chunk({
            tool_calls: [{ index: 1, id: "call_b", type: "function", function: { name: "add", arguments: '{"a":1' } }],
          }),
        ),
        sseData(chunk({ tool_calls: [{ index: 0, function: { arguments: '"b":4}' } }] })),
        sseData(chunk({ tool_calls: [{ index: 1, function: { arguments: ',"b":2}' } }] })),
        sseData(chunk({}, "tool_calls")),
        sseData(usageChunk),
        sseData("[DONE]"),
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
      ["call_a", "divide", '{"a"'],
      ["call_a", "divide", ":12,"],
      ["call_b", "add", '{"a":1'],
      ["call_a", "divide", '"b":4}'],
      ["call_b", "add", ',"b":2}'],
    ]);
    expect(result.toolCalls).toEqual([
      { id: "call_a", name: "divide", arguments: { a: 12, b: 4 } },
      { id: "call_b", name: "add", arguments: { a: 1, b: 2 } },
    ]);
  });

  it("keeps unparseable tool arguments as the raw string for the parser to report", async () => {
    server.reply({
      json: completion(
        { content: null, tool_calls: [{ id: "c", type: "function", function: { name: "add", arguments: '{"a":1,' } }] },
        "tool_calls",
      ),
    });
    const result = await model.generate({ messages: conversation, output: calculatorOutput("tools") });
    expect(result.toolCalls![0]!.arguments).toBe('{"a":1,');
  });

  it("accepts tool arguments sent as an object (some compatible servers do)", async () => {
    server.reply({
      json: completion(
        {
          content: null,
          tool_calls: [{ id: "c", type: "function", function: { name: "add", arguments: { a: 1, b: 2 } } }],
        },
        "tool_calls",
      ),
    });
    const result = await model.generate({ messages: conversation, output: calculatorOutput("tools") });
    expect(result.toolCalls![0]!.arguments).toEqual({ a: 1, b: 2 });
  });

  it("OpenAI itself gets max_completion_tokens, other servers max_tokens", () => {
    const request = { messages: conversation, maxTokens: 99 };
    const saved = process.env.OPENAI_BASE_URL;
    delete process.env.OPENAI_BASE_URL;
    try {
      expect(buildRequest({ model: "gpt-5-mini" }, request)).toMatchObject({ max_completion_tokens: 99 });
      expect(buildRequest({ model: "gpt-5-mini", baseURL: "https://api.openai.com/v1" }, request)).toMatchObject({
        max_completion_tokens: 99,
      });
      expect(buildRequest({ model: "qwen3:4b", baseURL: "http://localhost:11434/v1" }, request)).toMatchObject({
        max_tokens: 99,
      });
      expect(
        buildRequest({ model: "x", baseURL: "http://vllm:8000/v1", maxTokensField: "max_completion_tokens" }, request),
      ).toMatchObject({
        max_completion_tokens: 99,
      });
    } finally {
      if (saved !== undefined) process.env.OPENAI_BASE_URL = saved;
    }
  });

  describe("errors", () => {
    it("429 with Retry-After → rate_limited carrying the delay; withResilience waits and retries", async () => {
      server.reply({ status: 429, headers: { "retry-after-ms": "40", "x-request-id": "req_1" }, json: rateLimitBody });
      const error = await model.generate({ messages: conversation }).catch((e) => e);
      expect(error).toBeInstanceOf(ModelError);
      expect(error).toMatchObject({ code: "rate_limited", status: 429, retryAfterMs: 40, retryable: true });
      expect(error.message).toContain("Rate limit reached");

      server.reset();
      server.reply(
        { status: 429, headers: { "retry-after": "0" }, json: rateLimitBody },
        {
          status: 500,
          json: {
            error: {
              message: "The server had an error while processing your request.",
              type: "server_error",
              param: null,
              code: null,
            },
          },
        },
        { json: completion({ content: "ok" }) },
      );
      const retries: { attempt: number; delayMs: number; code: string }[] = [];
      const resilient = withResilience(model, {
        baseDelayMs: 5,
        onRetry: ({ attempt, delayMs, error }) => retries.push({ attempt, delayMs, code: error.code }),
      });
      const result = await resilient.generate({ messages: conversation });
      expect(result.text).toBe("ok");
      expect(server.requests).toHaveLength(3);
      expect(retries.map((r) => [r.attempt, r.code])).toEqual([
        [1, "rate_limited"],
        [2, "server"],
      ]);
    });

    it("honours a Retry-After longer than the backoff", async () => {
      server.reply(
        { status: 429, headers: { "retry-after-ms": "120" }, json: rateLimitBody },
        { json: completion({ content: "ok" }) },
      );
      const delays: number[] = [];
      const resilient = withResilience(model, { baseDelayMs: 1, onRetry: ({ delayMs }) => delays.push(delayMs) });
      const started = Date.now();
      await resilient.generate({ messages: conversation });
      expect(delays).toEqual([120]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(115);
    });

    it("gives up after the retry budget with the last error", async () => {
      const body = { error: { message: "overloaded", type: "server_error", param: null, code: null } };
      server.reply({ status: 503, json: body }, { status: 502, json: body }, { status: 500, json: body });
      const resilient = withResilience(model, { retries: 2, baseDelayMs: 1 });
      await expect(resilient.generate({ messages: conversation })).rejects.toMatchObject({
        code: "server",
        status: 500,
      });
      expect(server.requests).toHaveLength(3);
    });

    it("401 → auth, not retried", async () => {
      server.reply({
        status: 401,
        json: {
          error: {
            message:
              "Incorrect API key provided: sk-test. You can find your API key at https://platform.openai.com/account/api-keys.",
            type: "invalid_request_error",
            param: null,
            code: "invalid_api_key",
          },
        },
      });
      const resilient = withResilience(model, { baseDelayMs: 1 });
      await expect(resilient.generate({ messages: conversation })).rejects.toMatchObject({
        code: "auth",
        status: 401,
        message: expect.stringContaining("Incorrect API key"),
      });
      expect(server.requests).toHaveLength(1);
    });

    it("400 → bad_request, not retried", async () => {
      server.reply({
        status: 400,
        json: {
          error: {
            message: "Invalid schema for response_format 'next_step'",
            type: "invalid_request_error",
            param: "response_format",
            code: null,
          },
        },
      });
      const resilient = withResilience(model, { baseDelayMs: 1 });
      await expect(
        resilient.generate({ messages: conversation, output: calculatorOutput("json") }),
      ).rejects.toMatchObject({ code: "bad_request", status: 400 });
      expect(server.requests).toHaveLength(1);
    });

    it("a malformed JSON body → server error naming the malformed response", async () => {
      server.reply({ body: '{"id":"chatcmpl-1","choices":[{"message":' });
      await expect(model.generate({ messages: conversation })).rejects.toMatchObject({ code: "server" });
      server.reply({ json: { id: "chatcmpl-1", object: "chat.completion", choices: [] } });
      await expect(model.generate({ messages: conversation })).rejects.toMatchObject({
        code: "server",
        message: expect.stringContaining("no choices[0].message"),
      });
    });

    it("a malformed SSE chunk mid-stream → server, after the deltas already delivered", async () => {
      server.reply({
        sse: [sseData(chunk({ role: "assistant", content: "par" })), "data: {not json\n\n", sseData("[DONE]")],
      });
      const deltas: string[] = [];
      await expect(model.generate({ messages: conversation, onText: (d) => deltas.push(d) })).rejects.toMatchObject({
        code: "server",
      });
      expect(deltas).toEqual(["par"]);
    });

    it("a server that never answers → timeout (withResilience per-attempt timeout)", async () => {
      server.reply({ hang: true }, { hang: true });
      const resilient = withResilience(model, { timeoutMs: 150, retries: 1, baseDelayMs: 1 });
      await expect(resilient.generate({ messages: conversation })).rejects.toMatchObject({ code: "timeout" });
      expect(server.requests).toHaveLength(2);
    });

    it("the caller's abort signal → aborted, not retried", async () => {
      server.reply({ hang: true });
      const controller = new AbortController();
      const resilient = withResilience(model, { baseDelayMs: 1 });
      const pending = resilient.generate({ messages: conversation, signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await expect(pending).rejects.toMatchObject({ code: "aborted" });
      expect(server.requests).toHaveLength(1);
    });

    it("a dropped connection and a closed port → network", async () => {
      server.reply({ destroy: true });
      await expect(model.generate({ messages: conversation })).rejects.toMatchObject({ code: "network" });
      const closed = new FakeProvider();
      await closed.start();
      await closed.stop();
      const nowhere = openaiModel({ model: "m", apiKey: "k", baseURL: `${closed.url}/v1` });
      await expect(nowhere.generate({ messages: conversation })).rejects.toMatchObject({ code: "network" });
    });
  });
});
