import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { z } from "zod";
import { type Agent, type AgentConfig, defineAgent } from "../../src/agent/agent.js";
import { TwelveError } from "../../src/errors/index.js";
import { defineIntent, type Responders } from "../../src/intent/intent.js";
import type { GenerateRequest, Message, Model } from "../../src/model/types.js";
import { memoryStore } from "../../src/store/memory.js";
import { openStore } from "../../src/store/open.js";
import type { ThreadStore } from "../../src/store/types.js";
import { defaultClock, type Event, makeEvent } from "../../src/thread/event.js";
import { createThread, type Thread } from "../../src/thread/thread.js";

/**
 * Shared fixtures of the runtime tests: an "ops" agent whose handlers count
 * every real run in memory, a deterministic planner model reading the
 * events from the (owned, JSON) prompt, and the two stores every answer
 * test runs on.
 */

export interface Effect {
  intent: string;
  stepId: string;
  threadId: string;
  args: Record<string, unknown>;
}

/** The prompt is ours (factor 2): the model gets the events as JSON, so the planner can read them. */
export const jsonPrompt = ({ thread }: { thread: Thread }): Message[] => [
  { role: "system", content: "You are ops. Answer with one JSON step." },
  { role: "user", content: JSON.stringify(thread.events) },
];

export interface OpsOptions {
  name?: string;
  deployResponders?: Responders;
  responders?: Responders;
  humanResponders?: Responders;
  /** Awaited by the deploy handler before its effect (to hold a deploy in flight). */
  beforeDeploy?: () => unknown;
  /** What the `snapshot` handler returns (default: a circular object with a BigInt and a Date). */
  snapshot?: () => unknown;
}

/** An agent with a non-idempotent deploy behind approval, an async lookup, and a run-policy snapshot. */
export function opsAgent(effects: Effect[], options: OpsOptions = {}): Agent {
  const record = (intent: string) => (args: Record<string, unknown>, ctx: { thread: Thread; stepId: string }) => {
    effects.push({ intent, stepId: ctx.stepId, threadId: ctx.thread.id, args });
  };
  const config: AgentConfig = {
    name: options.name ?? "ops",
    intents: [
      defineIntent(
        "deploy",
        z.object({ tag: z.string().regex(/^v\d+\.\d+\.\d+$/), environment: z.enum(["staging", "production"]) }),
        {
          description: "deploy a tag (irreversible)",
          policy: "approve",
          idempotent: false,
          ...(options.deployResponders && { responders: options.deployResponders }),
          handler: async (args, ctx) => {
            await options.beforeDeploy?.();
            record("deploy")(args, ctx);
            return { deployed: args.tag, environment: args.environment };
          },
        },
      ),
      defineIntent("lookup", z.object({ id: z.string() }), {
        description: "look something up; the answer arrives later",
        policy: "async",
      }),
      defineIntent("snapshot", z.object({}), {
        description: "take a snapshot",
        handler: (args, ctx) => {
          record("snapshot")(args, ctx);
          if (options.snapshot) return options.snapshot();
          const out: Record<string, unknown> = { big: 10n ** 20n, when: new Date("2025-02-03T04:05:06.000Z") };
          out.self = out;
          return out;
        },
      }),
    ],
    prompt: jsonPrompt,
    maxSteps: 10,
    errors: { threshold: 3 },
  };
  if (options.responders) config.responders = options.responders;
  if (options.humanResponders) config.humanInput = { responders: options.humanResponders };
  return defineAgent(config);
}

/**
 * Plans from the first user message:
 * - `deploy:<tag>:<env>` → deploy, then done (or done after a rejection);
 * - `ask:<format>[:a,b]` → request_human_input, then done;
 * - `lookup:<id>` → lookup (async), then done;
 * - `snap` → snapshot, then done;
 * - `garbage` → unparseable answers (three errors escalate);
 * - anything else → done.
 */
export function plannerModel(): Model & { calls: GenerateRequest[] } {
  const calls: GenerateRequest[] = [];
  return {
    id: "fixture:ops-planner",
    calls,
    async generate(request: GenerateRequest) {
      calls.push(request);
      const events = JSON.parse(request.messages.at(-1)?.content ?? "[]") as Event[];
      const step = plan(events);
      return { text: typeof step === "string" ? step : JSON.stringify(step) };
    },
  };
}

function plan(events: Event[]): Record<string, unknown> | string {
  const text = String(events[0]?.data ?? "");
  const has = (type: string) => events.some((e) => e.type === type);
  const done = (message: string) => ({ intent: "done_for_now", message });
  if (events.filter((e) => e.type === "user_message").length > 1) return done("got your follow-up");
  if (text.startsWith("deploy:")) {
    const [, tag, environment] = text.split(":");
    const approval = events.findLast((e) => e.type === "approval");
    if (approval && (approval.data as { approved?: boolean }).approved === false) {
      return done(`cancelled: ${(approval.data as { feedback?: string }).feedback}`);
    }
    if (has("deploy_result")) return done("deployed");
    return { intent: "deploy", tag, environment: environment ?? "production" };
  }
  if (text.startsWith("ask:")) {
    if (has("human_response")) return done("thanks");
    const [, format, choices] = text.split(":");
    const options: Record<string, unknown> = { format };
    if (choices) options.choices = choices.split(",");
    return { intent: "request_human_input", question: `which one (${format})?`, options };
  }
  if (text.startsWith("lookup:")) {
    if (has("lookup_result")) return done("looked up");
    return { intent: "lookup", id: text.slice("lookup:".length) };
  }
  if (text === "snap") return has("snapshot_result") ? done("snapped") : { intent: "snapshot" };
  if (text === "garbage") return has("human_response") ? done("unstuck") : "this is not a step";
  return done("nothing to do");
}

/**
 * A thread left behind by a process killed right after the `_started`
 * marker of an approved deploy: step (approve) → approval → started, no
 * result. The meta shapes are exactly those step.ts writes.
 */
export function uncertainThread(
  agent: string,
  args: Record<string, unknown> = { tag: "v1.0.0", environment: "production" },
  options: { id?: string; text?: string; edited?: Record<string, unknown> } = {},
): Thread {
  const clock = defaultClock;
  const user = makeEvent(clock, "user_message", options.text ?? `deploy:${args.tag}:${args.environment}`);
  const step = makeEvent(
    clock,
    "deploy",
    { intent: "deploy", ...args },
    { kind: "step", intent: "deploy", policy: "approve" },
  );
  const approved = options.edited ? { approved: true, arguments: options.edited } : { approved: true };
  const approval = makeEvent(clock, "approval", approved, { stepId: step.id });
  const ran = options.edited ?? args;
  const started = makeEvent(
    clock,
    "deploy_started",
    { arguments: ran },
    { kind: "started", stepId: step.id, intent: "deploy" },
  );
  return createThread(agent, [user, step, approval, started], options.id !== undefined ? { id: options.id } : {});
}

export interface StoreCase {
  name: string;
  open: () => Promise<{ store: ThreadStore; dispose: () => Promise<void> }>;
}

/** The stores the answer tests run on: memory, and a real SQLite file opened as the CLI opens it. */
export const storeCases: StoreCase[] = [
  {
    name: "memory",
    open: async () => {
      const store = memoryStore();
      return { store, dispose: () => store.close() };
    },
  },
  {
    name: "sqlite file",
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), "twelve-runtime-"));
      const store = await openStore(join(dir, "twelve.db"));
      return {
        store,
        dispose: async () => {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

/** The error a call failed with; fails the test when it did not fail or failed with a non-TwelveError. */
export async function failure(promise: Promise<unknown>): Promise<TwelveError> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof TwelveError)) throw error;
    return error;
  }
  throw new Error("expected the call to fail");
}

/** Asserts a call fails closed with `code`: the thread's version and the effect count are unchanged. */
export async function expectRefused(
  store: ThreadStore,
  threadId: string,
  effects: Effect[],
  call: () => Promise<unknown>,
  code: string,
): Promise<TwelveError> {
  const before = await store.load(threadId);
  const ran = effects.length;
  const error = await failure(call());
  expect(error.code, error.message).toBe(code);
  const after = await store.load(threadId);
  expect(after.version).toBe(before.version);
  expect(after.events).toEqual(before.events);
  expect(effects.length).toBe(ran);
  return error;
}
