import { APICallError, simulateReadableStream } from "ai";
import { MockLanguageModelV2 } from "ai/test";
import { describe, expect, it } from "vitest";
import { parseToolCalls } from "../../src/intent/parse/index.js";
import { aiSdkModel } from "../../src/model/ai-sdk.js";
import type { Message } from "../../src/model/types.js";
import { calculatorIntents, calculatorOutput } from "./calculator.js";

const usage = { inputTokens: 11, outputTokens: 5, totalTokens: 16 };
const conversation: Message[] = [
  { role: "system", content: "You are a calculator." },
  { role: "user", content: "multiply 3 and 4" },
  { role: "assistant", content: "", toolCalls: [{ id: "t1", name: "multiply", arguments: { a: 3, b: 4 } }] },
  { role: "tool", content: "12", toolCallId: "t1" },
];

describe("aiSdkModel bridges AI SDK v5 language models", () => {
  it("tools mode: maps the prompt and tools to the spec and tool-call content back", async () => {
    const mock = new MockLanguageModelV2({
      provider: "mock",
      modelId: "m1",
      doGenerate: {
        content: [{ type: "tool-call", toolCallId: "t2", toolName: "done_for_now", input: '{"message":"12"}' }],
        finishReason: "tool-calls",
        usage,
        warnings: [],
      },
    });
    const model = aiSdkModel(mock);
    expect(model.id).toBe("ai-sdk:mock:m1");
    const result = await model.generate({
      messages: conversation,
      output: calculatorOutput("tools"),
      temperature: 0.2,
      maxTokens: 64,
    });
    expect(result.toolCalls).toEqual([{ id: "t2", name: "done_for_now", arguments: { message: "12" } }]);
    expect(result.usage).toEqual({ inputTokens: 11, outputTokens: 5 });
    expect(parseToolCalls(result.toolCalls!, calculatorIntents).value).toEqual({
      intent: "done_for_now",
      message: "12",
    });

    const call = mock.doGenerateCalls[0]!;
    expect(call.prompt).toEqual([
      { role: "system", content: "You are a calculator." },
      { role: "user", content: [{ type: "text", text: "multiply 3 and 4" }] },
      {
        role: "assistant",
        content: [{ type: "tool-call", toolCallId: "t1", toolName: "multiply", input: { a: 3, b: 4 } }],
      },
      {
        role: "tool",
        content: [
          { type: "tool-result", toolCallId: "t1", toolName: "multiply", output: { type: "text", value: "12" } },
        ],
      },
    ]);
    expect(call.toolChoice).toEqual({ type: "required" });
    expect(call.tools?.map((t) => t.name)).toEqual(["add", "subtract", "multiply", "divide", "done_for_now"]);
    expect(call.temperature).toBe(0.2);
    expect(call.maxOutputTokens).toBe(64);
  });

  it("json mode asks for a JSON response format with the step schema; text comes back", async () => {
    const mock = new MockLanguageModelV2({
      doGenerate: {
        content: [{ type: "text", text: '{"step":{"intent":"add","a":1,"b":2}}' }],
        finishReason: "stop",
        usage,
        warnings: [],
      },
    });
    const result = await aiSdkModel(mock).generate({
      messages: conversation.slice(0, 2),
      output: calculatorOutput("json"),
    });
    expect(result.text).toBe('{"intent":"add","a":1,"b":2}');
    expect(mock.doGenerateCalls[0]!.responseFormat).toMatchObject({
      type: "json",
      schema: { type: "object", properties: { step: calculatorOutput("json").jsonSchema }, required: ["step"] },
      name: "next_step",
    });
  });

  it("streams text deltas through doStream", async () => {
    const mock = new MockLanguageModelV2({
      doStream: {
        stream: simulateReadableStream({
          chunks: [
            { type: "stream-start", warnings: [] },
            { type: "text-start", id: "0" },
            { type: "text-delta", id: "0", delta: '{"intent":' },
            { type: "text-delta", id: "0", delta: '"done_for_now","message":"hi"}' },
            { type: "text-end", id: "0" },
            { type: "finish", finishReason: "stop", usage },
          ],
        }),
      },
    });
    const deltas: string[] = [];
    const result = await aiSdkModel(mock).generate({
      messages: conversation.slice(0, 2),
      onText: (d) => deltas.push(d),
    });
    expect(deltas).toEqual(['{"intent":', '"done_for_now","message":"hi"}']);
    expect(result.text).toBe('{"intent":"done_for_now","message":"hi"}');
    expect(result.usage).toEqual({ inputTokens: 11, outputTokens: 5 });
  });

  it("streams tool-input-delta pieces to onToolArguments (tools mode, without onText)", async () => {
    const mock = new MockLanguageModelV2({
      doStream: {
        stream: simulateReadableStream({
          chunks: [
            { type: "stream-start", warnings: [] },
            { type: "tool-input-start", id: "t3", toolName: "divide" },
            { type: "tool-input-delta", id: "t3", delta: '{"a":1' },
            { type: "tool-input-delta", id: "t3", delta: '2,"b":4}' },
            { type: "tool-input-end", id: "t3" },
            { type: "tool-call", toolCallId: "t3", toolName: "divide", input: '{"a":12,"b":4}' },
            { type: "finish", finishReason: "tool-calls", usage },
          ],
        }),
      },
    });
    const deltas: [string, string, string][] = [];
    const result = await aiSdkModel(mock).generate({
      messages: conversation.slice(0, 2),
      output: calculatorOutput("tools"),
      onToolArguments: (id, name, delta) => deltas.push([id, name, delta]),
    });
    expect(deltas).toEqual([
      ["t3", "divide", '{"a":1'],
      ["t3", "divide", '2,"b":4}'],
    ]);
    expect(result.toolCalls).toEqual([{ id: "t3", name: "divide", arguments: { a: 12, b: 4 } }]);
  });

  it("maps APICallError status and Retry-After to typed errors; rejects non-v2 models", async () => {
    const mock = new MockLanguageModelV2({
      doGenerate: async () => {
        throw new APICallError({
          message: "Too Many Requests",
          url: "https://example.test/v1/chat",
          requestBodyValues: {},
          statusCode: 429,
          responseHeaders: { "retry-after": "3" },
          isRetryable: true,
        });
      },
    });
    await expect(aiSdkModel(mock).generate({ messages: conversation })).rejects.toMatchObject({
      code: "rate_limited",
      status: 429,
      retryAfterMs: 3000,
    });
    expect(() => aiSdkModel({ specificationVersion: "v1" } as never)).toThrow(/specificationVersion "v2"/);
  });
});
