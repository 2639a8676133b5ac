import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineAgent } from "../../src/agent/agent.js";
import { approve, edit, markDone, reject, runAgain } from "../../src/agent/events.js";
import { RequestError } from "../../src/errors/index.js";
import { defineIntent } from "../../src/intent/intent.js";
import type { GenerateRequest, Model } from "../../src/model/types.js";
import { type AgentRuntime, createRuntime, type RuntimeResult } from "../../src/runtime/runtime.js";
import { memoryStore } from "../../src/store/memory.js";
import { openStore } from "../../src/store/open.js";
import type { ThreadStore } from "../../src/store/types.js";
import type { Event } from "../../src/thread/event.js";
import { digestOf } from "../../src/thread/json-safe.js";
import { type Answer, type HumanRequest, humanRequest } from "../../src/thread/request.js";
import { threadState } from "../../src/thread/status.js";
import { jsonPrompt } from "./fixtures.js";

/**
 * A random sequence of answers, re-deliveries, late answers, races,
 * simulated crashes, continues and crash resolutions over a few deploy
 * threads. After every operation: no step's side effect ran twice, and
 * every event ever acknowledged to a caller is still in the store. At the
 * end, once every thread is driven to done: every approved step ran exactly
 * once and every rejected step never ran.
 */

class SimulatedCrash extends Error {
  constructor(where: string) {
    super(`simulated process kill ${where}`);
    this.name = "SimulatedCrash";
  }
}

type CrashPoint = "none" | "after_answer" | "after_marker" | "after_effect";

/**
 * A store whose process "dies" at a chosen point: right after the answer
 * is stored, right after the `_started` marker is stored (the handler never
 * ran), or after the handler's effect but before its result is stored. The
 * lease is released as if it had expired by the next operation.
 */
function crashableStore(inner: ThreadStore) {
  let armed: CrashPoint = "none";
  const append: ThreadStore["append"] = async (threadId, events, options) => {
    const point = armed;
    if (point === "after_effect" && events.some((e) => e.type === "deploy_result" && e.meta?.decision === undefined)) {
      armed = "none";
      throw new SimulatedCrash("after the deploy ran, before its result was stored");
    }
    const out = await inner.append(threadId, events, options);
    if (point === "after_answer" && events.some((e) => e.type === "approval")) {
      armed = "none";
      throw new SimulatedCrash("after the answer was stored");
    }
    if (point === "after_marker" && events.some((e) => e.meta?.kind === "started")) {
      armed = "none";
      throw new SimulatedCrash("after deploy_started was stored, before the handler ran");
    }
    return out;
  };
  // Everything but append goes straight to the real store.
  const store = new Proxy(inner, {
    get(target, prop) {
      if (prop === "append") return append;
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    store,
    arm: (point: CrashPoint) => {
      armed = point;
    },
  };
}

/** `deploy:N`: N deploys, one after the other (a rejected one counts), then done. */
function deployPlanner(): Model {
  return {
    id: "fixture:deploy-planner",
    async generate(request: GenerateRequest) {
      const events = JSON.parse(request.messages.at(-1)?.content ?? "[]") as Event[];
      const wanted = Number(String(events[0]?.data ?? "deploy:1").split(":")[1]);
      const steps = events.filter((e) => e.meta?.kind === "step" && e.type === "deploy");
      const settled = steps.filter((s) =>
        events.some(
          (e) =>
            (e.type === "deploy_result" && e.meta?.stepId === s.id) ||
            (e.type === "approval" && e.meta?.stepId === s.id && (e.data as { approved?: boolean }).approved === false),
        ),
      ).length;
      const step =
        settled >= wanted
          ? { intent: "done_for_now", message: "all deployed" }
          : { intent: "deploy", tag: `v1.0.${settled}`, environment: "production" };
      return { text: JSON.stringify(step) };
    },
  };
}

type Op =
  | {
      op: "answer";
      thread: number;
      decision: "approve" | "reject" | "edit";
      stale: boolean;
      keyed: boolean;
      crash: CrashPoint;
    }
  | { op: "redeliver"; pick: number }
  | { op: "late"; pick: number }
  | { op: "race"; thread: number }
  | { op: "continue"; thread: number; crash: CrashPoint }
  | { op: "resolve"; thread: number; crash: CrashPoint };

const THREADS = 3;
const crashPoint = fc.constantFrom<CrashPoint>("none", "none", "after_answer", "after_marker", "after_effect");
const threadIndex = fc.nat({ max: THREADS - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant("answer" as const),
      thread: threadIndex,
      decision: fc.constantFrom("approve" as const, "approve" as const, "reject" as const, "edit" as const),
      stale: fc.boolean(),
      keyed: fc.boolean(),
      crash: crashPoint,
    }),
    weight: 6,
  },
  { arbitrary: fc.record({ op: fc.constant("redeliver" as const), pick: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant("late" as const), pick: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant("race" as const), thread: threadIndex }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant("continue" as const), thread: threadIndex, crash: crashPoint }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant("resolve" as const), thread: threadIndex, crash: crashPoint }), weight: 3 },
);

/** A non-idempotent deploy behind approval; every run of the handler is counted per step. */
function deployerAgent(effects: Map<string, number>) {
  return defineAgent({
    name: "deployer",
    intents: [
      defineIntent("deploy", z.object({ tag: z.string(), environment: z.enum(["staging", "production"]) }), {
        description: "deploy (irreversible)",
        policy: "approve",
        idempotent: false,
        handler: (args, ctx) => {
          effects.set(ctx.stepId, (effects.get(ctx.stepId) ?? 0) + 1);
          return { deployed: args.tag, environment: args.environment };
        },
      }),
    ],
    prompt: jsonPrompt,
    maxSteps: 12,
  });
}

async function scenario(ops: Op[], counts: number[], open: () => Promise<ThreadStore>): Promise<void> {
  const inner = await open();
  try {
    await play(ops, counts, inner);
  } finally {
    await inner.close();
  }
}

async function play(ops: Op[], counts: number[], inner: ThreadStore): Promise<void> {
  const effects = new Map<string, number>();
  const agent = deployerAgent(effects);
  const { store, arm } = crashableStore(inner);
  const runtime: AgentRuntime = createRuntime({ store, agents: agent, model: deployPlanner() });

  /** Every thread state ever returned to a caller, per thread. */
  const acked = new Map<string, Event[][]>();
  const ack = (r: RuntimeResult) => {
    const list = acked.get(r.thread.id) ?? [];
    list.push(structuredClone(r.thread.events));
    acked.set(r.thread.id, list);
  };
  /** Answers sent with an idempotency key, for re-delivery. */
  const keyed: Answer[] = [];
  /** Every request ever seen, for late answers. */
  const seen: HumanRequest[] = [];
  let keys = 0;

  const threadIds: string[] = [];
  for (let i = 0; i < THREADS; i++) {
    const started = await runtime.start(agent, `deploy:${2 + (i % 2)}`);
    ack(started);
    threadIds.push(started.thread.id);
  }
  const current = async (i: number) => humanRequest(await inner.load(threadIds[i] as string));
  const remember = (request: HumanRequest | undefined) => {
    if (request && !seen.some((r) => r.id === request.id)) seen.push(request);
  };

  /** Runs one call; an expected refusal or a simulated crash is fine, anything else fails the property. */
  const attempt = async (
    call: () => Promise<RuntimeResult>,
    allowed: readonly string[],
    crash: CrashPoint = "none",
  ): Promise<RuntimeResult | string> => {
    arm(crash);
    try {
      const r = await call();
      ack(r);
      remember(r.request);
      return r;
    } catch (error) {
      if (error instanceof SimulatedCrash) return "crash";
      if (error instanceof RequestError && allowed.includes(error.code)) return error.code;
      throw error;
    } finally {
      arm("none");
    }
  };

  const checkInvariants = async (after: string) => {
    for (const [stepId, n] of effects) expect(n, `${after}: step ${stepId} ran ${n} times`).toBeLessThanOrEqual(1);
    for (const [threadId, states] of acked) {
      const stored = (await inner.load(threadId)).events;
      for (const events of states) {
        expect(stored.slice(0, events.length), `${after}: acknowledged events of ${threadId} were lost`).toEqual(
          events,
        );
      }
    }
  };

  const resolution = (request: HumanRequest, key?: string): Answer => {
    const options = key ? { idempotencyKey: key } : {};
    // The oracle: the effect log outside the store says whether the step ran.
    return (effects.get(request.stepId) ?? 0) > 0 ? markDone(request, undefined, options) : runAgain(request, options);
  };

  for (const [n, op] of ops.entries()) {
    const label = `op ${n} ${JSON.stringify(op)}`;
    switch (op.op) {
      case "answer": {
        const request = await current(op.thread);
        remember(request);
        if (request?.kind !== "approval") break;
        const target = op.stale
          ? { id: request.id, argsDigest: digestOf({ tag: "v0.0.0", environment: "production" }) }
          : request;
        const options = op.keyed ? { idempotencyKey: `key-${++keys}` } : {};
        const answer =
          op.decision === "approve"
            ? approve(target, options)
            : op.decision === "reject"
              ? reject(target, "not now", options)
              : edit(target, { tag: `${request.args?.tag}-edited`, environment: "staging" }, options);
        if (op.keyed) keyed.push(answer);
        const before = await inner.load(request.threadId);
        const outcome = await attempt(() => runtime.answer(answer), ["request_changed"], op.crash);
        if (op.stale && op.decision !== "reject") {
          expect(outcome, label).toBe("request_changed");
          expect((await inner.load(request.threadId)).version).toBe(before.version);
        }
        break;
      }
      case "redeliver": {
        const answer = keyed[op.pick % Math.max(1, keyed.length)];
        if (!answer) break;
        const threadId = humanRequestThread(answer);
        const stored = await inner.load(threadId);
        const delivered = stored.events.some((e) => e.meta?.idempotencyKey === answer.idempotencyKey);
        const outcome = await attempt(() => runtime.answer(answer), ["already_answered", "request_changed"]);
        if (delivered) {
          // A re-delivery of a stored answer is a no-op returning the thread as it is.
          expect(typeof outcome === "object" && outcome.duplicate, label).toBe(true);
          expect((await inner.load(threadId)).version, label).toBe(stored.version);
        }
        break;
      }
      case "late": {
        const old = seen[op.pick % Math.max(1, seen.length)];
        if (!old) break;
        const now = await current(threadIds.indexOf(old.threadId));
        if (now?.id === old.id) break;
        const answer = old.kind === "uncertain" ? runAgain(old) : approve(old);
        const before = await inner.load(old.threadId);
        expect(await attempt(() => runtime.answer(answer), ["already_answered"]), label).toBe("already_answered");
        expect((await inner.load(old.threadId)).version, label).toBe(before.version);
        break;
      }
      case "race": {
        const request = await current(op.thread);
        if (request?.kind !== "approval") break;
        const outcomes = await Promise.all([
          attempt(() => runtime.answer(approve(request)), ["already_answered"]),
          attempt(() => runtime.answer(approve(request)), ["already_answered"]),
        ]);
        expect(
          outcomes.filter((o) => o === "already_answered"),
          label,
        ).toHaveLength(1);
        break;
      }
      case "continue":
        await attempt(() => runtime.continue(threadIds[op.thread] as string), [], op.crash);
        break;
      case "resolve": {
        const request = await current(op.thread);
        remember(request);
        if (request?.kind !== "uncertain") break;
        const key = `key-${++keys}`;
        const answer = resolution(request, key);
        keyed.push(answer);
        await attempt(() => runtime.answer(answer), [], op.crash);
        break;
      }
    }
    await checkInvariants(label);
  }

  // Drive every thread to the end, with no more crashes.
  for (const threadId of threadIds) {
    for (let i = 0; i < 20; i++) {
      const thread = await inner.load(threadId);
      const state = threadState(thread);
      if (state.status === "done") break;
      const request = humanRequest(thread);
      if (request?.kind === "approval") ack(await runtime.answer(approve(request)));
      else if (request?.kind === "uncertain") ack(await runtime.answer(resolution(request)));
      else if (state.status === "running") ack(await runtime.continue(threadId));
      else throw new Error(`thread ${threadId} stuck: ${state.status}`);
    }
    const final = await inner.load(threadId);
    expect(threadState(final).status).toBe("done");
    for (const step of final.events.filter((e) => e.meta?.kind === "step" && e.type === "deploy")) {
      const rejected = final.events.some(
        (e) =>
          e.type === "approval" && e.meta?.stepId === step.id && (e.data as { approved?: boolean }).approved === false,
      );
      const results = final.events.filter((e) => e.type === "deploy_result" && e.meta?.stepId === step.id);
      if (rejected) {
        expect(effects.get(step.id) ?? 0).toBe(0);
        expect(results).toHaveLength(0);
      } else {
        // Approved: it ran exactly once, and its outcome is on record exactly once.
        expect(effects.get(step.id)).toBe(1);
        expect(results).toHaveLength(1);
      }
    }
  }
  await checkInvariants("the end");
  counts.push(effects.size);
}

function humanRequestThread(answer: Answer): string {
  const id = answer.requestId as string;
  return JSON.parse(Buffer.from(id.slice(3), "base64url").toString("utf8"))[0] as string;
}

const stores: { name: string; runs: number; open: () => Promise<ThreadStore>; cleanup?: () => void }[] = [
  { name: "memory", runs: 35, open: async () => memoryStore() },
  (() => {
    let dir: string | undefined;
    let n = 0;
    return {
      name: "SQLite file",
      runs: 12,
      open: async () => {
        dir ??= mkdtempSync(join(tmpdir(), "twelve-rt-prop-"));
        return openStore(join(dir, `run-${++n}.db`));
      },
      cleanup: () => {
        if (dir) rmSync(dir, { recursive: true, force: true });
      },
    };
  })(),
];

describe("answers, re-deliveries, crashes and recoveries in any order (property)", () => {
  for (const { name, runs, open, cleanup } of stores) {
    it(`${name}: no side effect runs twice, no acknowledged event is lost, every approved step runs exactly once`, async () => {
      const counts: number[] = [];
      try {
        await fc.assert(
          fc.asyncProperty(fc.array(opArb, { minLength: 4, maxLength: 24 }), (ops) => scenario(ops, counts, open)),
          { numRuns: Number(process.env.TWELVE_PROPERTY_RUNS ?? runs) },
        );
      } finally {
        cleanup?.();
      }
      // The runs did deploy things (the property is not vacuous).
      expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThan(counts.length);
    }, 60_000);
  }
});
