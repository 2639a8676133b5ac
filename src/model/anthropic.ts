import Anthropic from "@anthropic-ai/sdk";
import type {
  Message as AnthropicMessage,
  ContentBlockParam,
  MessageCreateParamsBase,
  MessageParam,
  RawMessageStreamEvent,
} from "@anthropic-ai/sdk/resources/messages/messages";
import { TwelveError } from "../errors/index.js";
import { ModelError, toModelError } from "./errors.js";
import type { GenerateRequest, GenerateResult, Message, Model, ToolCall } from "./types.js";
import { elapsed, jsonModeSchema, parseArguments } from "./wire.js";

export interface AnthropicModelOptions {
  /** e.g. `claude-sonnet-4-5`. */
  model: string;
  apiKey?: string;
  baseURL?: string;
  client?: Anthropic;
  id?: string;
  /** Anthropic requires a cap on output tokens. Default 4096. */
  maxTokens?: number;
  /** `tools` mode: `any` (the default: every step is an intent) or `auto`. */
  toolChoice?: "any" | "auto";
  headers?: Record<string, string>;
}

/**
 * Anthropic Messages through the official SDK: system prompt separated,
 * tool_use for `tools` mode, tool_result blocks for tool messages,
 * `output_config.format` (JSON schema) for `json` mode. SDK retries off:
 * withResilience owns them.
 */
export function anthropicModel(options: AnthropicModelOptions): Model {
  const apiKey = options.apiKey ?? process.env.ANTHROPIC_API_KEY;
  if (!options.client && !apiKey) {
    throw new TwelveError("model_config", "anthropicModel needs an API key: pass apiKey or set ANTHROPIC_API_KEY");
  }
  const client =
    options.client ??
    new Anthropic({
      apiKey: apiKey ?? null,
      baseURL: options.baseURL ?? process.env.ANTHROPIC_BASE_URL ?? null,
      maxRetries: 0,
      timeout: 10 * 60_000,
      defaultHeaders: options.headers,
    });
  const id = options.id ?? `anthropic:${options.model}`;
  return {
    id,
    async generate(request) {
      const started = performance.now();
      const body = buildAnthropicRequest(options, request);
      try {
        let result: GenerateResult;
        if (request.onText || request.onToolArguments) {
          const stream = client.messages.stream(body, { signal: request.signal, maxRetries: 0 });
          if (request.onText) stream.on("text", (delta) => request.onText?.(delta));
          if (request.onToolArguments) streamToolArguments(stream, request.onToolArguments);
          result = fromMessage(await stream.finalMessage(), id, started, true);
        } else {
          const message = (await client.messages.create(
            { ...body, stream: false },
            { signal: request.signal, maxRetries: 0 },
          )) as AnthropicMessage;
          result = fromMessage(message, id, started, false);
        }
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

/**
 * A tool_use block streams as `content_block_start` (its id and name) then
 * `input_json_delta` events carrying `partial_json` pieces, keyed by the
 * block's index.
 */
function streamToolArguments(
  stream: { on(event: "streamEvent", listener: (event: RawMessageStreamEvent) => void): unknown },
  onToolArguments: NonNullable<GenerateRequest["onToolArguments"]>,
): void {
  const blocks = new Map<number, { id: string; name: string }>();
  stream.on("streamEvent", (event) => {
    if (event.type === "content_block_start" && event.content_block.type === "tool_use") {
      blocks.set(event.index, { id: event.content_block.id, name: event.content_block.name });
    } else if (event.type === "content_block_delta" && event.delta.type === "input_json_delta") {
      const block = blocks.get(event.index);
      if (block && event.delta.partial_json) onToolArguments(block.id, block.name, event.delta.partial_json);
    }
  });
}

export function buildAnthropicRequest(
  options: AnthropicModelOptions,
  request: GenerateRequest,
): MessageCreateParamsBase {
  const system = request.messages
    .filter((m) => m.role === "system")
    .map((m) => m.content)
    .join("\n\n");
  const body: MessageCreateParamsBase = {
    model: options.model,
    max_tokens: request.maxTokens ?? options.maxTokens ?? 4096,
    messages: toAnthropicMessages(request.messages),
  };
  if (system) body.system = system;
  // No temperature: the current Messages API no longer takes sampling parameters.
  const output = request.output;
  if (output?.mode === "tools") {
    if (output.tools.length === 0) throw new TwelveError("invalid_input", "tools mode needs at least one intent");
    body.tools = output.tools.map((tool) => ({
      name: tool.name,
      description: tool.description,
      input_schema: { type: "object" as const, ...tool.parameters },
    }));
    body.tool_choice = { type: options.toolChoice ?? "any" };
  } else if (output?.mode === "json") {
    body.output_config = { format: { type: "json_schema", schema: jsonModeSchema(output.jsonSchema).schema } };
  }
  return body;
}

/**
 * twelve messages → Anthropic turns. System messages go to `system`;
 * tool results become `tool_result` blocks in a user turn; consecutive
 * turns of the same role are merged, since the API wants them alternating.
 */
export function toAnthropicMessages(messages: readonly Message[]): MessageParam[] {
  const turns: { role: "user" | "assistant"; blocks: ContentBlockParam[] }[] = [];
  const push = (role: "user" | "assistant", blocks: ContentBlockParam[]) => {
    const last = turns[turns.length - 1];
    if (last && last.role === role) last.blocks.push(...blocks);
    else turns.push({ role, blocks });
  };
  for (const message of messages) {
    switch (message.role) {
      case "system":
        break;
      case "user":
        push("user", [{ type: "text", text: message.content }]);
        break;
      case "assistant": {
        const blocks: ContentBlockParam[] = message.content ? [{ type: "text", text: message.content }] : [];
        for (const call of message.toolCalls ?? []) {
          blocks.push({ type: "tool_use", id: call.id, name: call.name, input: toInput(call.arguments) });
        }
        if (blocks.length > 0) push("assistant", blocks);
        break;
      }
      case "tool":
        if (!message.toolCallId) {
          throw new TwelveError("invalid_input", "a tool message needs toolCallId (the id of the tool_use it answers)");
        }
        push("user", [{ type: "tool_result", tool_use_id: message.toolCallId, content: message.content }]);
        break;
    }
  }
  return turns.map((turn) => {
    const only = turn.blocks[0];
    const content = turn.blocks.length === 1 && only?.type === "text" ? only.text : turn.blocks;
    return { role: turn.role, content };
  });
}

function toInput(args: unknown): Record<string, unknown> {
  if (typeof args === "string") {
    const parsed = parseArguments(args);
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : { value: args };
  }
  return (args ?? {}) as Record<string, unknown>;
}

function fromMessage(message: AnthropicMessage, id: string, started: number, streamed: boolean): GenerateResult {
  if (!message || !Array.isArray(message.content)) {
    throw new ModelError("server", `${id}: the response has no content array`, { model: id });
  }
  let text = "";
  let sawText = false;
  const toolCalls: ToolCall[] = [];
  for (const block of message.content) {
    if (block.type === "text") {
      sawText = true;
      text += block.text;
    } else if (block.type === "tool_use") {
      toolCalls.push({ id: block.id, name: block.name, arguments: block.input });
    }
  }
  const result: GenerateResult = {
    usage: { inputTokens: message.usage?.input_tokens ?? 0, outputTokens: message.usage?.output_tokens ?? 0 },
    raw: streamed ? { streamed: true, message } : message,
    latencyMs: elapsed(started),
  };
  if (toolCalls.length > 0) result.toolCalls = toolCalls;
  if (sawText && (text !== "" || toolCalls.length === 0)) result.text = text;
  if (result.text === undefined && toolCalls.length === 0) {
    throw new ModelError(
      "bad_request",
      `${id}: the model returned neither text nor tool_use (stop_reason ${message.stop_reason})`,
      {
        model: id,
      },
    );
  }
  return result;
}
