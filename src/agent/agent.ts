import type { ContextRenderer } from "../context/types.js";
import { xmlYaml } from "../context/xml-yaml.js";
import { InvalidAgentError } from "../errors/index.js";
import { type AnyIntent, builtinIntents, type HumanOptions, type Responders } from "../intent/intent.js";
import { stepJsonSchema, toolSpecs } from "../intent/schema-text.js";
import type { Message, OutputMode, OutputSpec } from "../model/types.js";
import type { Event, EventMeta } from "../thread/event.js";
import type { Thread } from "../thread/thread.js";
import { defaultPrompt, outputFormatText } from "./prompt.js";

/** What a hook may add to the thread: events without id/time (twelve fills them in). */
export interface NewEvent {
  type: string;
  data?: unknown;
  meta?: EventMeta;
}

export interface PromptInput {
  agent: Agent;
  thread: Thread;
  /** The rendered context: one text block (xmlYaml, json) or chat messages (chatMessages). */
  context: string | Message[];
  /** Instructions on how to answer, generated from the intents for the output mode. */
  outputFormat: string;
}

/** The prompt is yours (factor 2): a plain function from the rendered context to messages. */
export type PromptFn = (input: PromptInput) => Message[];

export interface ErrorPolicy {
  /** Consecutive errors (overall, or of one intent) that trigger `onThreshold`. Default 3. */
  threshold: number;
  /** `escalate`: pause for a human with a summary; `fail`: stop the thread. Default escalate. */
  onThreshold: "escalate" | "fail";
  /** How a handler error is worded for the model. Default: `error.message`, no stack. */
  format: (error: unknown, intent: string) => string;
  /** Keep the stack trace in the error event's meta (never shown to the model). Default false. */
  keepStack: boolean;
  /**
   * The longest error message the model sees: handler, hook, model-call and
   * parse errors (`data.message` of the `error` event), and each message an
   * escalation or failure lists. A longer one keeps its start and its end
   * around a marker saying how many characters were cut (`capMessage`); the
   * event's meta keeps the original length (`messageChars`) and a longer,
   * still bounded copy (`message`, at most 8 times this). Default 4000
   * (whole parser messages, which quote the intent's schema, fit); `0` =
   * never cut.
   */
  maxMessageChars: number;
}

export const DEFAULT_MAX_MESSAGE_CHARS = 4000;

/** How much of an over-long error message the event's meta keeps, in multiples of `maxMessageChars`. */
export const META_MESSAGE_FACTOR = 8;

/**
 * `text` cut to at most `max` characters plus a marker: its first two
 * thirds and its last third, around ` … [truncated N characters] … `
 * (a surrogate pair is never split). `max <= 0` = never cut.
 */
export function capMessage(text: string, max: number): string {
  if (max <= 0 || text.length <= max) return text;
  let head = Math.ceil((max * 2) / 3);
  let tail = text.length - (max - head);
  const code = (i: number) => text.charCodeAt(i);
  if (head > 0 && code(head - 1) >= 0xd800 && code(head - 1) <= 0xdbff) head--;
  if (tail < text.length && code(tail) >= 0xdc00 && code(tail) <= 0xdfff) tail++;
  return `${text.slice(0, head)} … [truncated ${tail - head} characters] … ${text.slice(tail)}`;
}

export interface Hooks {
  /** Before the first model call: put likely-needed data into the thread (essay appendix, factor 13). */
  prefetch?: (thread: Thread) => NewEvent[] | Promise<NewEvent[]>;
  /** Before each model call: summarize, compact, rate-limit, trace. Returned events are appended. */
  beforeStep?: (thread: Thread) => undefined | NewEvent[] | Promise<undefined | NewEvent[]>;
  /** After each step with the events it added: judge, trace, notify. Returned events are appended. */
  afterStep?: (thread: Thread, added: readonly Event[]) => undefined | NewEvent[] | Promise<undefined | NewEvent[]>;
}

export interface Agent {
  name: string;
  instructions: string;
  intents: readonly AnyIntent[];
  prompt: PromptFn;
  context: ContextRenderer;
  output: OutputMode;
  maxSteps: number;
  errors: ErrorPolicy;
  hooks: Hooks;
  /** Who may answer this agent's requests unless an intent says otherwise; default anyone. */
  responders?: Responders;
  /** Options of the built-in `request_human_input` (and the escalation question). */
  humanInput: HumanOptions;
  /** Derived once from the intents: what the model is told and given, in the agent's output mode. */
  readonly outputSpec: OutputSpec;
  readonly outputFormat: string;
  /** The same for another mode (a model or a run may override the agent's); computed once per mode. */
  readonly outputFor: (mode: OutputMode) => { spec: OutputSpec; format: string };
}

export interface AgentConfig {
  name: string;
  /** The system persona used by the default prompt. */
  instructions?: string;
  intents: readonly AnyIntent[];
  /** Add `request_human_input` and `done_for_now` unless you define your own. Default true. */
  builtins?: boolean;
  prompt?: PromptFn;
  context?: ContextRenderer;
  output?: OutputMode;
  /** Step budget per `run` call. Default 20. */
  maxSteps?: number;
  errors?: Partial<ErrorPolicy>;
  hooks?: Hooks;
  /** Who may answer this agent's requests (per intent: `defineIntent(…, {responders})`). Default anyone. */
  responders?: Responders;
  /** Responders, contact and timers for the built-in `request_human_input` and the escalation question. */
  humanInput?: HumanOptions;
}

export function defineAgent(config: AgentConfig): Agent {
  if (!config || typeof config.name !== "string" || config.name === "") {
    throw new InvalidAgentError("agent needs a non-empty name");
  }
  if (!Array.isArray(config.intents)) throw new InvalidAgentError(`agent "${config.name}": intents must be an array`);
  const intents = [...config.intents];
  if (config.builtins !== false) {
    for (const b of builtinIntents) if (!intents.some((i) => i.name === b.name)) intents.push(b);
  }
  const seen = new Set<string>();
  for (const i of intents) {
    if (!i || typeof i.name !== "string" || !i.schema) {
      throw new InvalidAgentError(`agent "${config.name}": every intent must come from defineIntent()`);
    }
    if (seen.has(i.name)) throw new InvalidAgentError(`agent "${config.name}": intent "${i.name}" is defined twice`);
    seen.add(i.name);
    // Anything that may execute (run, approve, or a policy chosen per step) needs a handler up front,
    // not after a human has approved it.
    const executes = i.policy === "run" || i.policy === "approve" || typeof i.policy === "function";
    if (executes && !i.handler) {
      const policy = typeof i.policy === "function" ? "chosen per step" : `"${i.policy}"`;
      throw new InvalidAgentError(`agent "${config.name}": intent "${i.name}" has policy ${policy} but no handler`);
    }
  }
  if (intents.length === 0) throw new InvalidAgentError(`agent "${config.name}" has no intents`);
  const maxSteps = config.maxSteps ?? 20;
  if (!Number.isInteger(maxSteps) || maxSteps < 1) {
    throw new InvalidAgentError(`agent "${config.name}": maxSteps must be a positive integer`);
  }
  const maxMessageChars = config.errors?.maxMessageChars ?? DEFAULT_MAX_MESSAGE_CHARS;
  if (!Number.isInteger(maxMessageChars) || maxMessageChars < 0) {
    throw new InvalidAgentError(`agent "${config.name}": errors.maxMessageChars must be a non-negative integer`);
  }
  const output = config.output ?? "prompt";
  const tools = toolSpecs(intents);
  const jsonSchema = stepJsonSchema(intents);
  const perMode = new Map<OutputMode, { spec: OutputSpec; format: string }>();
  const outputFor = (mode: OutputMode) => {
    let entry = perMode.get(mode);
    if (!entry) {
      entry = { spec: { mode, tools, jsonSchema }, format: outputFormatText(intents, mode) };
      perMode.set(mode, entry);
    }
    return entry;
  };
  return {
    name: config.name,
    instructions: config.instructions ?? "You are a helpful assistant. Work step by step towards the user's goal.",
    intents,
    prompt: config.prompt ?? defaultPrompt,
    context: config.context ?? xmlYaml(),
    output,
    maxSteps,
    errors: {
      threshold: config.errors?.threshold ?? 3,
      onThreshold: config.errors?.onThreshold ?? "escalate",
      format: config.errors?.format ?? ((error) => (error instanceof Error ? error.message : String(error))),
      keepStack: config.errors?.keepStack ?? false,
      maxMessageChars,
    },
    hooks: config.hooks ?? {},
    ...(config.responders && { responders: config.responders }),
    humanInput: config.humanInput ?? {},
    outputSpec: outputFor(output).spec,
    outputFormat: outputFor(output).format,
    outputFor,
  };
}

/** The exact messages the model would get for this thread: inspect or snapshot-test your prompt. */
export function renderPrompt(agent: Agent, thread: Thread, mode: OutputMode = agent.output): Message[] {
  return agent.prompt({ agent, thread, context: agent.context(thread), outputFormat: agent.outputFor(mode).format });
}

export function findIntent(agent: Agent, name: string): AnyIntent | undefined {
  return agent.intents.find((i) => i.name === name);
}
