import type { Event } from "../thread/event.js";

/**
 * The one small interface every model speaks. Adapters (OpenAI-compatible,
 * Anthropic, local, replay, scripted) turn it into their wire format.
 */
export type Role = "system" | "user" | "assistant" | "tool";

export interface ToolCall {
  id: string;
  name: string;
  /** Parsed arguments when the provider gave valid JSON, otherwise the raw string. */
  arguments: unknown;
}

export interface Message {
  role: Role;
  content: string;
  /** Assistant messages in native tool-calling form. */
  toolCalls?: ToolCall[];
  /** Tool messages: the call they answer. */
  toolCallId?: string;
  name?: string;
}

/** One intent as the model sees it in `json` / `tools` mode. */
export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments (without the `intent` field). */
  parameters: Record<string, unknown>;
}

export type OutputMode = "prompt" | "json" | "tools";

export interface OutputSpec {
  mode: OutputMode;
  tools: ToolSpec[];
  /** JSON Schema of the whole step union (`{intent, ...args}`), for `json` mode and grammars. */
  jsonSchema: Record<string, unknown>;
}

export interface GenerateRequest {
  messages: Message[];
  output?: OutputSpec;
  signal?: AbortSignal;
  temperature?: number;
  maxTokens?: number;
  /** Called with text deltas when the adapter can stream. */
  onText?: (delta: string) => void;
  /**
   * Called with each fragment of a native tool call's arguments (a piece of
   * its JSON text) as it streams, in `tools` mode. `callId` and `name` are
   * the call's; fragments of one call concatenate to its arguments. Adapters
   * that stream tool calls call it (openai, anthropic, ai-sdk; the scripted,
   * rules and replay test models too); wrappers pass it through unchanged.
   * Setting it makes a streaming adapter stream, as `onText` does.
   */
  onToolArguments?: (callId: string, name: string, delta: string) => void;
  /**
   * Called when a wrapper starts over after deltas may already have been
   * delivered (withResilience's retry, withFallback's next model): what was
   * streamed so far is void, the deltas that follow start a new answer.
   */
  onStreamReset?: () => void;
  /**
   * A read-only view of the thread the messages were rendered from, set by
   * the agent loop. Hosted adapters ignore it; wrappers pass it through
   * unchanged; record / replay neither store it nor match on it. Test models
   * (`rulesModel`) answer from it, so a restarted process answers the same.
   */
  thread?: ModelThreadView;
}

/** What a model may read of the thread: never written to, never sent to a provider. */
export interface ModelThreadView {
  readonly id: string;
  readonly agent: string;
  readonly events: readonly Event[];
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export interface GenerateResult {
  text?: string;
  toolCalls?: ToolCall[];
  usage?: Usage;
  /** The provider's raw response, kept in the step's meta for debugging. */
  raw?: unknown;
  latencyMs?: number;
  /** Which model answered, when a wrapper (e.g. withFallback) chose among several. */
  model?: string;
}

export interface Model {
  /** e.g. `openai:gpt-4.1-mini`, `script:steps.json`. Recorded in meta. */
  readonly id: string;
  /** The output mode this model works best in; overrides the agent's (a run's `output` option overrides both). */
  readonly outputMode?: OutputMode;
  generate(request: GenerateRequest): Promise<GenerateResult>;
}
