import OpenAI from "openai";
import type {
  ChatCompletion,
  ChatCompletionCreateParamsBase,
  ChatCompletionMessageParam,
} from "openai/resources/chat/completions/completions";
import { TwelveError } from "../errors/index.js";
import { ModelError, toModelError } from "./errors.js";
import type { GenerateRequest, GenerateResult, Message, Model, ToolCall } from "./types.js";
import { elapsed, jsonModeSchema, parseArguments, stringifyArguments } from "./wire.js";

export interface OpenAIModelOptions {
  /** Model name as the server knows it, e.g. `gpt-4.1-mini` or `qwen3:4b`. */
  model: string;
  apiKey?: string;
  /** Any OpenAI-compatible endpoint: Azure, vLLM, Ollama, LM Studio, llama.cpp server, OpenRouter… */
  baseURL?: string;
  /** Use this client instead of building one (custom fetch, Azure client, proxies). */
  client?: OpenAI;
  /** Shown in meta and errors. Default `openai:<model>` (or `openai-compatible:<baseURL>#<model>`). */
  id?: string;
  /** `tools` mode: force a tool call (`required`, the default: every step is an intent) or let the model choose (`auto`). */
  toolChoice?: "required" | "auto";
  /** `json` mode: ask the server to enforce the schema strictly (OpenAI strict mode needs every property required). Default false. */
  strictJsonSchema?: boolean;
  /**
   * Which field carries `maxTokens`. OpenAI's own API wants
   * `max_completion_tokens` (reasoning models reject `max_tokens`); most
   * compatible servers know only `max_tokens`. Default: by baseURL.
   */
  maxTokensField?: "max_tokens" | "max_completion_tokens";
  /** Extra body fields passed through as-is (e.g. `{ reasoning_effort: "low" }`). */
  extraBody?: Record<string, unknown>;
  headers?: Record<string, string>;
}

/**
 * OpenAI Chat Completions through the official SDK. Retries are off here
 * (`maxRetries: 0`): withResilience owns retry policy so there is exactly
 * one, honouring Retry-After.
 */
export function openaiModel(options: OpenAIModelOptions): Model {
  const client =
    options.client ??
    new OpenAI({
      apiKey: options.apiKey ?? process.env.OPENAI_API_KEY ?? "not-needed",
      baseURL: options.baseURL ?? process.env.OPENAI_BASE_URL,
      maxRetries: 0,
      timeout: 10 * 60_000,
      defaultHeaders: options.headers,
    });
  const id = options.id ?? `openai:${options.model}`;
  return {
    id,
    async generate(request) {
      const started = performance.now();
      const body = buildRequest(options, request);
      try {
        const result =
          request.onText || request.onToolArguments
            ? await streamed(client, body, request, started)
            : fromCompletion(
                (await client.chat.completions.create(
                  { ...body, stream: false },
                  { signal: request.signal, maxRetries: 0 },
                )) as ChatCompletion,
                id,
                started,
              );
        return unwrapJson(result, request);
      } catch (error) {
        throw toModelError(error, id, request.signal);
      }
    },
  };
}

type Body = ChatCompletionCreateParamsBase;

export function buildRequest(options: OpenAIModelOptions, request: GenerateRequest): Body {
  const body: Body = {
    ...(options.extraBody as object),
    model: options.model,
    messages: toOpenAIMessages(request.messages),
  };
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.maxTokens !== undefined) body[maxTokensField(options)] = request.maxTokens;
  const output = request.output;
  if (output?.mode === "json") {
    body.response_format = {
      type: "json_schema",
      json_schema: {
        name: "next_step",
        schema: jsonModeSchema(output.jsonSchema).schema,
        strict: options.strictJsonSchema ?? false,
      },
    };
  } else if (output?.mode === "tools") {
    if (output.tools.length === 0) throw new TwelveError("invalid_input", "tools mode needs at least one intent");
    body.tools = output.tools.map((tool) => ({
      type: "function" as const,
      function: { name: tool.name, description: tool.description, parameters: tool.parameters },
    }));
    body.tool_choice = options.toolChoice ?? "required";
  }
  return body;
}

function maxTokensField(options: OpenAIModelOptions): "max_tokens" | "max_completion_tokens" {
  if (options.maxTokensField) return options.maxTokensField;
  const baseURL = options.baseURL ?? process.env.OPENAI_BASE_URL;
  return !baseURL || /^https:\/\/api\.openai\.com\b/.test(baseURL) ? "max_completion_tokens" : "max_tokens";
}

/** json mode sent the step union wrapped in an object; hand back the step itself. */
function unwrapJson(result: GenerateResult, request: GenerateRequest): GenerateResult {
  if (request.output?.mode !== "json" || result.text === undefined) return result;
  return { ...result, text: jsonModeSchema(request.output.jsonSchema).unwrap(result.text) };
}

/** twelve messages → Chat Completions messages (assistant tool calls and tool results included). */
export function toOpenAIMessages(messages: readonly Message[]): ChatCompletionMessageParam[] {
  return messages.map((message): ChatCompletionMessageParam => {
    switch (message.role) {
      case "system":
        return { role: "system", content: message.content };
      case "user":
        return { role: "user", content: message.content, ...(message.name && { name: message.name }) };
      case "assistant":
        if (message.toolCalls?.length) {
          return {
            role: "assistant",
            content: message.content === "" ? null : message.content,
            tool_calls: message.toolCalls.map((call) => ({
              id: call.id,
              type: "function" as const,
              function: { name: call.name, arguments: stringifyArguments(call.arguments) },
            })),
          };
        }
        return { role: "assistant", content: message.content };
      case "tool":
        if (!message.toolCallId) {
          throw new TwelveError("invalid_input", "a tool message needs toolCallId (the id of the call it answers)");
        }
        return { role: "tool", tool_call_id: message.toolCallId, content: message.content };
      default:
        throw new TwelveError("invalid_input", `unknown message role "${(message as Message).role}"`);
    }
  });
}

function fromCompletion(completion: ChatCompletion, id: string, started: number): GenerateResult {
  const choice = completion.choices?.[0];
  if (!choice?.message) {
    throw new ModelError("server", `${id}: the response has no choices[0].message`, { model: id });
  }
  const message = choice.message;
  const toolCalls: ToolCall[] = [];
  for (const call of message.tool_calls ?? []) {
    if (call.type === "function") {
      toolCalls.push({ id: call.id, name: call.function.name, arguments: parseArguments(call.function.arguments) });
    }
  }
  const result: GenerateResult = {
    usage: {
      inputTokens: completion.usage?.prompt_tokens ?? 0,
      outputTokens: completion.usage?.completion_tokens ?? 0,
    },
    raw: completion,
    latencyMs: elapsed(started),
  };
  if (toolCalls.length > 0) result.toolCalls = toolCalls;
  if (typeof message.content === "string" && (message.content !== "" || toolCalls.length === 0)) {
    result.text = message.content;
  }
  if (result.text === undefined && toolCalls.length === 0) {
    const refusal = message.refusal ? `refused: ${message.refusal}` : `finish_reason ${choice.finish_reason}`;
    throw new ModelError("bad_request", `${id}: the model returned neither text nor tool calls (${refusal})`, {
      model: id,
    });
  }
  return result;
}

/** Streams text deltas to onText, argument fragments to onToolArguments, and assembles the tool calls. */
async function streamed(
  client: OpenAI,
  body: Body,
  request: GenerateRequest,
  started: number,
): Promise<GenerateResult> {
  const stream = await client.chat.completions.create(
    { ...body, stream: true, stream_options: { include_usage: true } },
    { signal: request.signal, maxRetries: 0 },
  );
  let text = "";
  let sawText = false;
  const calls = new Map<number, { id: string; name: string; args: string }>();
  const usage = { inputTokens: 0, outputTokens: 0 };
  let last: unknown;
  for await (const chunk of stream) {
    last = chunk;
    if (chunk.usage) {
      usage.inputTokens = chunk.usage.prompt_tokens ?? 0;
      usage.outputTokens = chunk.usage.completion_tokens ?? 0;
    }
    const delta = chunk.choices?.[0]?.delta;
    if (!delta) continue;
    if (typeof delta.content === "string" && delta.content !== "") {
      sawText = true;
      text += delta.content;
      request.onText?.(delta.content);
    }
    // Each tool call streams as fragments keyed by `index`: its id and name come first, then argument pieces.
    for (const part of delta.tool_calls ?? []) {
      const call = calls.get(part.index) ?? { id: "", name: "", args: "" };
      if (part.id) call.id = part.id;
      if (part.function?.name) call.name += part.function.name;
      if (part.function?.arguments) {
        call.args += part.function.arguments;
        request.onToolArguments?.(call.id || `#${part.index}`, call.name, part.function.arguments);
      }
      calls.set(part.index, call);
    }
  }
  const result: GenerateResult = { usage, raw: { streamed: true, lastChunk: last }, latencyMs: elapsed(started) };
  const toolCalls = [...calls.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, call]) => ({ id: call.id, name: call.name, arguments: parseArguments(call.args) }));
  if (toolCalls.length > 0) result.toolCalls = toolCalls;
  if (sawText || toolCalls.length === 0) result.text = text;
  return result;
}
