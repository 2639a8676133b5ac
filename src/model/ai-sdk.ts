import { TwelveError } from "../errors/index.js";
import { toModelError } from "./errors.js";
import type { GenerateRequest, GenerateResult, Message, Model, ToolCall } from "./types.js";
import { elapsed, jsonModeSchema, parseArguments } from "./wire.js";

/**
 * Bridge to any Vercel AI SDK (v5) language model, for the long tail of
 * providers: `aiSdkModel(google("gemini-2.5-flash"))`. It speaks the
 * provider specification (LanguageModelV2 `doGenerate` / `doStream`)
 * directly, so twelve neither imports `ai` at runtime nor adds its own
 * retries on top of the SDK's. The structural types below mirror the
 * parts of the spec this bridge uses, so `ai` stays an optional peer.
 */
export interface AiSdkLanguageModel {
  readonly specificationVersion: "v2";
  readonly provider: string;
  readonly modelId: string;
  // biome-ignore lint/suspicious/noExplicitAny: call options are the spec's; kept loose to avoid a hard type dependency.
  doGenerate(options: any): PromiseLike<{
    content: ReadonlyArray<{ type: string; text?: string; toolCallId?: string; toolName?: string; input?: string }>;
    usage: { inputTokens: number | undefined; outputTokens: number | undefined };
    finishReason?: string;
    response?: unknown;
  }>;
  // biome-ignore lint/suspicious/noExplicitAny: see doGenerate.
  doStream(options: any): PromiseLike<{ stream: ReadableStream<any> }>;
}

export interface AiSdkModelOptions {
  id?: string;
  /** `tools` mode: force a tool call (default `required`). */
  toolChoice?: "required" | "auto";
  /** Passed through to the provider (the spec's `providerOptions`). */
  providerOptions?: Record<string, Record<string, unknown>>;
}

export function aiSdkModel(languageModel: AiSdkLanguageModel, options: AiSdkModelOptions = {}): Model {
  if (languageModel?.specificationVersion !== "v2") {
    throw new TwelveError(
      "model_config",
      `aiSdkModel needs an AI SDK v5 language model (specificationVersion "v2"), got ${JSON.stringify(languageModel?.specificationVersion)}`,
    );
  }
  const id = options.id ?? `ai-sdk:${languageModel.provider}:${languageModel.modelId}`;
  return {
    id,
    async generate(request) {
      const started = performance.now();
      const callOptions = buildCallOptions(request, options);
      try {
        const result = await generateOnce(languageModel, callOptions, request, started);
        if (request.output?.mode === "json" && result.text !== undefined) {
          result.text = jsonModeSchema(request.output.jsonSchema).unwrap(result.text);
        }
        return result;
      } catch (error) {
        throw toModelError(error, id, request.signal);
      }
    },
  };
}

async function generateOnce(
  languageModel: AiSdkLanguageModel,
  callOptions: Record<string, unknown>,
  request: GenerateRequest,
  started: number,
): Promise<GenerateResult> {
  if (request.onText || request.onToolArguments) return await streamed(languageModel, callOptions, request, started);
  const response = await languageModel.doGenerate(callOptions);
  const toolCalls: ToolCall[] = [];
  let text = "";
  let sawText = false;
  for (const part of response.content) {
    if (part.type === "text") {
      sawText = true;
      text += part.text ?? "";
    } else if (part.type === "tool-call") {
      toolCalls.push({
        id: part.toolCallId ?? "",
        name: part.toolName ?? "",
        arguments: parseArguments(part.input),
      });
    }
  }
  return finish({ text, sawText, toolCalls, usage: response.usage, raw: response, started });
}

function buildCallOptions(request: GenerateRequest, options: AiSdkModelOptions): Record<string, unknown> {
  const call: Record<string, unknown> = { prompt: toPrompt(request.messages) };
  if (request.signal) call.abortSignal = request.signal;
  if (request.temperature !== undefined) call.temperature = request.temperature;
  if (request.maxTokens !== undefined) call.maxOutputTokens = request.maxTokens;
  if (options.providerOptions) call.providerOptions = options.providerOptions;
  const output = request.output;
  if (output?.mode === "json") {
    call.responseFormat = { type: "json", schema: jsonModeSchema(output.jsonSchema).schema, name: "next_step" };
  } else if (output?.mode === "tools") {
    call.tools = output.tools.map((t) => ({
      type: "function",
      name: t.name,
      description: t.description,
      inputSchema: t.parameters,
    }));
    call.toolChoice = { type: options.toolChoice ?? "required" };
  }
  return call;
}

/** twelve messages → the spec's prompt (system, user text, assistant tool-call parts, tool-result parts). */
export function toPrompt(messages: readonly Message[]): unknown[] {
  const names = new Map<string, string>();
  return messages.map((message) => {
    switch (message.role) {
      case "system":
        return { role: "system", content: message.content };
      case "user":
        return { role: "user", content: [{ type: "text", text: message.content }] };
      case "assistant": {
        const content: unknown[] = message.content ? [{ type: "text", text: message.content }] : [];
        for (const call of message.toolCalls ?? []) {
          names.set(call.id, call.name);
          content.push({ type: "tool-call", toolCallId: call.id, toolName: call.name, input: call.arguments });
        }
        return { role: "assistant", content };
      }
      case "tool": {
        const callId = message.toolCallId ?? "";
        return {
          role: "tool",
          content: [
            {
              type: "tool-result",
              toolCallId: callId,
              toolName: message.name ?? names.get(callId) ?? "tool",
              output: { type: "text", value: message.content },
            },
          ],
        };
      }
      default:
        throw new TwelveError("invalid_input", `unknown message role "${(message as Message).role}"`);
    }
  });
}

async function streamed(
  model: AiSdkLanguageModel,
  callOptions: Record<string, unknown>,
  request: GenerateRequest,
  started: number,
): Promise<GenerateResult> {
  const { stream } = await model.doStream(callOptions);
  let text = "";
  let sawText = false;
  const toolCalls: ToolCall[] = [];
  let usage: { inputTokens: number | undefined; outputTokens: number | undefined } = {
    inputTokens: 0,
    outputTokens: 0,
  };
  // Tool input streams as tool-input-start (id, toolName), then tool-input-delta pieces, then the whole tool-call.
  const inputs = new Map<string, string>();
  const reader = stream.getReader();
  for (;;) {
    const { done, value: part } = await reader.read();
    if (done) break;
    if (part.type === "text-delta") {
      sawText = true;
      text += part.delta;
      request.onText?.(part.delta);
    } else if (part.type === "tool-input-start") {
      inputs.set(part.id, part.toolName);
    } else if (part.type === "tool-input-delta") {
      const name = inputs.get(part.id);
      if (name !== undefined && part.delta) request.onToolArguments?.(part.id, name, part.delta);
    } else if (part.type === "tool-call") {
      toolCalls.push({ id: part.toolCallId, name: part.toolName, arguments: parseArguments(part.input) });
    } else if (part.type === "finish") {
      usage = part.usage;
    } else if (part.type === "error") {
      throw part.error;
    }
  }
  return finish({ text, sawText, toolCalls, usage, raw: { streamed: true }, started });
}

function finish(parts: {
  text: string;
  sawText: boolean;
  toolCalls: ToolCall[];
  usage: { inputTokens: number | undefined; outputTokens: number | undefined };
  raw: unknown;
  started: number;
}): GenerateResult {
  const result: GenerateResult = {
    usage: { inputTokens: parts.usage.inputTokens ?? 0, outputTokens: parts.usage.outputTokens ?? 0 },
    raw: parts.raw,
    latencyMs: elapsed(parts.started),
  };
  if (parts.toolCalls.length > 0) result.toolCalls = parts.toolCalls;
  if (parts.sawText && (parts.text !== "" || parts.toolCalls.length === 0)) result.text = parts.text;
  if (!parts.sawText && parts.toolCalls.length === 0) result.text = "";
  return result;
}
