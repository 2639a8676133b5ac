import { TwelveError } from "../errors/index.js";
import { resolvePolicy } from "../intent/intent.js";
import { type ParsedStep, ParseError, parseStep, parseToolCalls } from "../intent/parse/index.js";
import type { GenerateResult, Model, OutputMode } from "../model/types.js";
import { type BuiltinEventData, errorEvent, resultType, startedType } from "../thread/builtin.js";
import { defaultRuntime, type Event, type EventMeta, makeEvent, type Runtime } from "../thread/event.js";
import { toJsonSafe } from "../thread/json-safe.js";
import { consecutiveErrors, type NextAction, threadState } from "../thread/status.js";
import { appendEvents, type Thread } from "../thread/thread.js";
import {
  type Agent,
  capMessage,
  DEFAULT_MAX_MESSAGE_CHARS,
  findIntent,
  META_MESSAGE_FACTOR,
  type NewEvent,
  renderPrompt,
} from "./agent.js";
import { type PartialStep, partialStream } from "./partial.js";

/**
 * Persists a batch of appended events (a store's append with the expected
 * version) and returns the stored thread. `durable` says whether the batch
 * must survive power loss before the loop goes on: true when a side effect
 * follows (the batch holding a `_started` marker, committed before the
 * handler runs) or when control returns to the caller right after (a pause
 * for an approval, a human or an async result; done; failed; the step
 * budget exhausted; a standalone `step()`); false only for a batch the loop
 * continues past with no side effect in between (a handler's result, an
 * error it retries after). A process crash must never lose either kind; see
 * docs/stores.md ("Durability").
 */
export type CommitHook = (thread: Thread, added: Event[], durable: boolean) => Promise<Thread>;

/** Set by `run()` on the options it passes to `step()`: the loop continues past a still-running thread. */
export const IN_LOOP: unique symbol = Symbol("twelve.inLoop");

export interface StepOptions {
  model: Model;
  runtime?: Runtime;
  /**
   * Persists appended events before anything with side effects happens
   * (a store's append with the expected version). Returns the stored thread.
   * The third argument says whether this batch must be durable against power
   * loss before the loop proceeds (see CommitHook).
   */
  commit?: CommitHook;
  /** Output mode for this run, overriding the model's preference and the agent's. */
  output?: OutputMode;
  /** Text deltas of each model answer as they stream in (adapters that can stream call it). */
  onText?: (delta: string) => void;
  /**
   * The step as the model streams it: the intent once named, the arguments
   * that have arrived, the JSON pointers of strings still being written.
   * From the text stream in prompt and json modes, from native tool-call
   * argument deltas in tools mode (adapters that stream them: docs/models.md).
   * Called only when that changed; an exception it throws is ignored.
   */
  onPartial?: (partial: PartialStep) => void;
  /** Called for every appended event, in order (live display, tracing). */
  onEvent?: (event: Event, thread: Thread) => void;
  signal?: AbortSignal;
  /** Internal: set by run(), never by callers. */
  [IN_LOOP]?: boolean;
}

/**
 * Whether a batch must be durable before the loop proceeds. Non-durable only
 * inside run()'s loop, for a batch without a `_started` marker after which
 * the thread is still running (the loop goes on to the model or the next
 * step). Everything else — and anything the loop cannot classify — is durable.
 */
export function commitIsDurable(next: Thread, added: readonly Event[], inLoop: boolean): boolean {
  if (!inLoop) return true;
  if (added.some((e) => e.meta?.kind === "started")) return true;
  return threadState(next).status !== "running";
}

/** Appends events through the commit hook; every state change goes through here. */
async function append(thread: Thread, added: Event[], options: StepOptions): Promise<Thread> {
  if (added.length === 0) return thread;
  const next = appendEvents(thread, added);
  const stored = options.commit
    ? await options.commit(next, added, commitIsDurable(next, added, options[IN_LOOP] === true))
    : next;
  if (options.onEvent) for (const e of added) options.onEvent(e, stored);
  return stored;
}

function toEvents(runtime: Runtime, events: NewEvent[] | undefined, extraMeta?: EventMeta): Event[] {
  return (events ?? []).map((e) => makeEvent(runtime, e.type, e.data ?? null, { ...e.meta, ...extraMeta }));
}

/**
 * One reducer step (factor 12): on a runnable thread, either execute the
 * step that is due (approved, or recovered after a crash), or render →
 * call the model → parse → append the step → apply its policy. Any other
 * thread is returned unchanged. All state is in the returned thread.
 */
export async function step(agent: Agent, thread: Thread, options: StepOptions): Promise<Thread> {
  const runtime = options.runtime ?? defaultRuntime;
  const state = threadState(thread);
  if (state.status !== "running" || !state.next) return thread;
  if (state.next.kind === "execute") return execute(agent, thread, state.next, options, runtime);

  let current = thread;
  // A hook that throws is an error like any other (factor 9): recorded, counted, never an exception out of the loop.
  const hook = async (name: string, call: () => unknown, extraMeta?: EventMeta): Promise<boolean> => {
    try {
      const events = (await call()) as NewEvent[] | undefined;
      current = await append(current, toEvents(runtime, events ?? undefined, extraMeta), options);
      return true;
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const meta: EventMeta = { phase: "hook" };
      const message = shown(agent, `the ${name} hook failed: ${agent.errors.format(error, name)}`, meta);
      const event = makeEvent(runtime, "error", { kind: "hook", hook: name, message }, meta);
      current = await afterError(agent, await append(current, [event], options), options, runtime);
      return false;
    }
  };
  const { prefetch, beforeStep, afterStep } = agent.hooks;
  if (prefetch && needsPrefetch(current) && !(await hook("prefetch", () => prefetch(current), { prefetch: true }))) {
    return current;
  }
  if (beforeStep && !(await hook("beforeStep", () => beforeStep(current)))) return current;
  const before = current.events.length;
  current = await callModel(agent, current, options, runtime);
  if (afterStep) {
    const added = current.events.slice(before);
    await hook("afterStep", () => afterStep(current, added));
  }
  return current;
}

function needsPrefetch(thread: Thread): boolean {
  return !thread.events.some((e) => e.meta?.kind === "step" || e.meta?.prefetch || e.type === "error");
}

async function callModel(agent: Agent, thread: Thread, options: StepOptions, runtime: Runtime): Promise<Thread> {
  const mode = options.output ?? options.model.outputMode ?? agent.output;
  const messages = renderPrompt(agent, thread, mode);
  const modelMeta: EventMeta = { model: options.model.id, mode };
  let result: GenerateResult;
  try {
    result = await options.model.generate({
      messages,
      output: agent.outputFor(mode).spec,
      signal: options.signal,
      ...partialStream(agent.intents, options.onPartial, options.onText),
      thread,
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    const code = error instanceof TwelveError ? error.code : "model_error";
    const meta: EventMeta = { ...modelMeta, phase: "model" };
    const text = `the model call failed (${code}): ${error instanceof Error ? error.message : String(error)}`;
    const event = makeEvent(runtime, "error", { kind: "model", message: shown(agent, text, meta) }, meta);
    return afterError(agent, await append(thread, [event], options), options, runtime);
  }
  if (result.usage) modelMeta.usage = result.usage;
  if (result.latencyMs !== undefined) modelMeta.latencyMs = result.latencyMs;
  const raw = result.toolCalls?.length ? result.toolCalls : (result.text ?? "");
  modelMeta.answer = result.toolCalls?.length ? "tool_calls" : "text";

  let parsed: ParsedStep;
  try {
    parsed = result.toolCalls?.length
      ? parseToolCalls(result.toolCalls, agent.intents)
      : parseStep(result.text ?? "", agent.intents);
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    const meta: EventMeta = { ...modelMeta, phase: "model", raw };
    const data: BuiltinEventData<"error"> = { kind: error.reason, message: shown(agent, error.message, meta) };
    if (error.intent) data.intent = capMessage(error.intent, maxChars(agent));
    if (error.issues.length > 0) meta.issues = error.issues;
    if (error.tried.length > 0) meta.tried = error.tried;
    const event = makeEvent(runtime, "error", data, meta);
    return afterError(agent, await append(thread, [event], options), options, runtime);
  }

  const intent = findIntent(agent, parsed.value.intent);
  if (!intent) throw new TwelveError("unknown_intent", `parser returned unknown intent ${parsed.value.intent}`);
  const { intent: _name, ...args } = parsed.value;
  const policy = resolvePolicy(intent, args, thread);
  const stepMeta: EventMeta = { ...modelMeta, kind: "step", intent: intent.name, policy };
  // Keep the raw answer only when it says more than the step itself (reasoning, repairs, odd shapes).
  if (parsed.repairs.length > 0 || typeof raw !== "string" || raw.trim() !== JSON.stringify(parsed.value)) {
    stepMeta.raw = raw;
  }
  if (parsed.repairs.length > 0) stepMeta.repairs = parsed.repairs;
  const stepEvent = makeEvent(runtime, intent.name, parsed.value, stepMeta);
  if (policy !== "run") return append(thread, [stepEvent], options);

  // Exactly-once: the step and its `_started` marker are durable before the handler runs.
  const started = startedEvent(runtime, stepEvent.id, intent.name, args, intent.idempotent);
  const withStart = await append(thread, [stepEvent, started], options);
  return runHandler(agent, withStart, stepEvent.id, intent.name, args, options, runtime);
}

function startedEvent(
  runtime: Runtime,
  stepId: string,
  intent: string,
  args: Record<string, unknown>,
  idempotent: boolean,
) {
  const meta: EventMeta = { kind: "started", stepId, intent };
  if (idempotent) meta.idempotent = true;
  return makeEvent(runtime, startedType(intent), { arguments: args }, meta);
}

/** Runs a step that is due without asking the model: approved, or recovered after a crash. */
async function execute(
  agent: Agent,
  thread: Thread,
  next: Extract<NextAction, { kind: "execute" }>,
  options: StepOptions,
  runtime: Runtime,
): Promise<Thread> {
  const intent = findIntent(agent, next.intent);
  if (!intent) {
    const meta: EventMeta = { stepId: next.stepId };
    const message = shown(agent, `this agent has no intent "${next.intent}"`, meta);
    const name = capMessage(next.intent, maxChars(agent));
    const event = makeEvent(runtime, "error", { kind: "unknown_intent", intent: name, message }, meta);
    return afterError(agent, await append(thread, [event], options), options, runtime);
  }
  let current = thread;
  if (!next.recovery) {
    const started = startedEvent(runtime, next.stepId, intent.name, next.arguments, intent.idempotent);
    current = await append(current, [started], options);
  }
  return runHandler(agent, current, next.stepId, intent.name, next.arguments, options, runtime);
}

async function runHandler(
  agent: Agent,
  thread: Thread,
  stepId: string,
  intentName: string,
  args: Record<string, unknown>,
  options: StepOptions,
  runtime: Runtime,
): Promise<Thread> {
  const intent = findIntent(agent, intentName);
  let output: unknown;
  try {
    if (!intent?.handler) throw new TwelveError("invalid_agent", `intent "${intentName}" has no handler to run`);
    output = await intent.handler(args, { thread, stepId, signal: options.signal });
  } catch (error) {
    // Aborted (lease lost, caller cancelled): whether it ran is unknown; the `_started` marker says so.
    if (options.signal?.aborted) throw error;
    const meta: EventMeta = { stepId };
    if (agent.errors.keepStack && error instanceof Error && error.stack) {
      // The stack repeats the message: bounded like the copy of the message.
      meta.stack = capMessage(error.stack, maxChars(agent) * META_MESSAGE_FACTOR);
    }
    const message = shown(agent, String(agent.errors.format(error, intentName)), meta);
    const event = makeEvent(runtime, "error", { kind: "handler", intent: intentName, message }, meta);
    return afterError(agent, await append(thread, [event], options), options, runtime);
  }
  // The side effect happened: whatever came back is recorded as JSON (a BigInt, a Date, a cycle),
  // never turned into an error the model would retry.
  let value: unknown;
  try {
    value = toJsonSafe(output);
  } catch (error) {
    value = { unserializable: true, note: `the handler succeeded; its result could not be read: ${String(error)}` };
  }
  const result = makeEvent(runtime, resultType(intentName), value, { kind: "result", stepId, intent: intentName });
  return append(thread, [result], options);
}

/** Factor 9: past the threshold of consecutive errors, escalate to a human or stop — never spin. */
async function afterError(agent: Agent, thread: Thread, options: StepOptions, runtime: Runtime): Promise<Thread> {
  const counts = consecutiveErrors(thread);
  const worst = Object.entries(counts.byIntent).sort((a, b) => b[1] - a[1])[0];
  const limit = agent.errors.threshold;
  const overTotal = counts.overall >= limit;
  const overIntent = worst !== undefined && worst[1] >= limit;
  if (!overTotal && !overIntent) return thread;
  const errors = thread.events
    .filter((e) => e.type === errorEvent.type)
    .slice(-Math.max(counts.overall, worst?.[1] ?? 0))
    .map((e) => capMessage(errorEvent.read(e)?.message ?? "error", maxChars(agent)));
  const what =
    overIntent && worst
      ? `"${capMessage(worst[0], maxChars(agent))}" failed ${worst[1]} times in a row`
      : `${counts.overall} errors in a row`;
  if (agent.errors.onThreshold === "fail") {
    const failed = makeEvent(runtime, "failed", { reason: "too_many_errors", message: `stopped: ${what}`, errors });
    return append(thread, [failed], options);
  }
  const escalation = makeEvent(runtime, "escalation", {
    reason: "too_many_errors",
    question: `I am stuck: ${what}. How should I proceed?`,
    errors,
  });
  return append(thread, [escalation], options);
}

function maxChars(agent: Agent): number {
  return agent.errors.maxMessageChars ?? DEFAULT_MAX_MESSAGE_CHARS;
}

/**
 * Factor 9: what the model reads of an error is bounded (`errors.maxMessageChars`).
 * When `text` is cut, `meta` keeps its length and a longer, still bounded copy.
 */
function shown(agent: Agent, text: string, meta: EventMeta): string {
  const max = maxChars(agent);
  const message = capMessage(text, max);
  if (message !== text) {
    meta.messageChars = text.length;
    meta.message = capMessage(text, max * META_MESSAGE_FACTOR);
  }
  return message;
}
