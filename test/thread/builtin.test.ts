import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import {
  approvalEvent,
  approve,
  BUILTIN_EVENTS,
  type BuiltinEvent,
  defineEvent,
  defineIntent,
  type Event,
  edit,
  eventMetaShape,
  humanRequest,
  intentOfResult,
  intentOfStarted,
  META_KEYS,
  reject,
  respond,
  result,
  resultType,
  resume,
  run,
  startedType,
  type Thread,
  TwelveError,
} from "../../src/index.js";
import { createRuntime } from "../../src/runtime/index.js";
import { memoryStore } from "../../src/store/index.js";
import { scriptedModel } from "../../src/testing.js";
import { newThread, testAgent } from "../agent/fixtures.js";
import { type Effect, opsAgent, plannerModel } from "../runtime/fixtures.js";

const strictMeta = z.strictObject(eventMetaShape);

describe("the <intent>_result / <intent>_started names", () => {
  it("make and read back the convention", () => {
    expect(resultType("add")).toBe("add_result");
    expect(startedType("add")).toBe("add_started");
    expect(intentOfResult("add_result")).toBe("add");
    expect(intentOfResult("send_email_result")).toBe("send_email");
    expect(intentOfStarted("add_started")).toBe("add");
  });

  it("say no to types that are not a result's or a marker's", () => {
    expect(intentOfResult("_result")).toBeUndefined();
    expect(intentOfResult("add")).toBeUndefined();
    expect(intentOfResult("add_started")).toBeUndefined();
    expect(intentOfStarted("_started")).toBeUndefined();
    expect(intentOfStarted("add_result")).toBeUndefined();
  });
});

/** A thread holding every built-in event twelve writes: steps, markers, results, answers, errors, escalation, failure. */
async function everyKindOfEvent(): Promise<Thread[]> {
  const ask = defineIntent("ask", z.object({}), { description: "unused" });
  const agent = testAgent({ intents: [...testAgent().intents, ask], errors: { threshold: 2, keepStack: true } });
  const threads: Thread[] = [];

  // An approval answered by edit, then a rejection, then done.
  {
    const { thread, runtime } = newThread("charge twice");
    const model = scriptedModel([
      { intent: "charge", cents: 5000 },
      { intent: "charge", cents: 9000 },
      { intent: "request_human_input", question: "which card?", options: { format: "free_text" } },
      { intent: "lookup", id: "card" },
      { intent: "add", a: 1, b: 2 },
      { intent: "done_for_now", message: "ok" },
    ]);
    let t = await run(agent, thread, { model, runtime });
    t = await resume(agent, t, edit(humanRequest(t), { cents: 4000 }), { model, runtime });
    t = await resume(agent, t, reject(humanRequest(t), "not that one"), { model, runtime });
    t = await resume(agent, t, respond(humanRequest(t), "the blue one"), { model, runtime });
    t = await resume(agent, t, result(humanRequest(t), { card: "blue" }), { model, runtime });
    threads.push(t);
  }
  // Errors (parse, handler) until escalation, then a plain approval path and a step budget failure.
  {
    const { thread, runtime } = newThread("break things");
    const model = scriptedModel(["this is not a step", { intent: "flaky", n: 1 }, { intent: "charge", cents: 2000 }]);
    let t = await run(agent, thread, { model, runtime });
    t = await resume(agent, t, respond(humanRequest(t), "try charging"), { model, runtime });
    t = await resume(agent, t, approve(humanRequest(t)), { model, runtime, maxSteps: 0 });
    threads.push(t);
  }
  // A cancel while a handler runs: `cancel_requested`, the handler's result, then `cancelled`.
  {
    const effects: Effect[] = [];
    let enter: () => void = () => {};
    const entered = new Promise<void>((r) => {
      enter = r;
    });
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const ops = opsAgent(effects, {
      beforeDeploy: async () => {
        enter();
        await gate;
      },
    });
    const store = memoryStore();
    const rt = createRuntime({ store, agents: ops, model: plannerModel(), answerWaitMs: 200 });
    const by = { id: "carol", via: "api" } as const;
    const started = await rt.start(ops, "deploy:v2.0.0:staging");
    const answering = rt.answer(approve(started.request, { by }));
    await entered;
    await rt.cancel(started.thread.id, { by, reason: "not today" });
    release();
    await answering;
    threads.push(await store.load(started.thread.id));
  }
  return threads;
}

describe("built-in events: schemas declared once", () => {
  it("every built-in event twelve writes reads back through its schema, and every meta key is declared", async () => {
    const threads = await everyKindOfEvent();
    const seen = new Set<string>();
    for (const thread of threads) {
      for (const event of thread.events) {
        const builtin = BUILTIN_EVENTS[event.type as keyof typeof BUILTIN_EVENTS];
        if (builtin) {
          expect(builtin.read(event), `${event.type} ${JSON.stringify(event.data)}`).toBeDefined();
          seen.add(event.type);
        }
        if (event.meta) expect(strictMeta.safeParse(event.meta).error, JSON.stringify(event.meta)).toBeUndefined();
        seen.add(event.meta?.kind ?? "");
      }
    }
    // The fixture really does cover every built-in type and kind.
    expect([...seen].sort()).toEqual(
      [...Object.keys(BUILTIN_EVENTS), "step", "started", "result", ""].sort((a, b) => a.localeCompare(b)),
    );
  });

  it("a wrong shape reads as not-that-event instead of as garbage", () => {
    const at = "2025-01-01T00:00:00.000Z";
    expect(approvalEvent.read({ id: "e1", type: "approval", data: { approved: "yes" }, at })).toBeUndefined();
    expect(approvalEvent.read({ id: "e1", type: "human_response", data: { approved: true }, at })).toBeUndefined();
    expect(approvalEvent.read({ id: "e1", type: "approval", data: { approved: false, feedback: "no" }, at })).toEqual({
      approved: false,
      feedback: "no",
    });
  });

  it("a meta key of the wrong type fails the declared schema", () => {
    expect(strictMeta.safeParse({ annotation: "yes" }).success).toBe(false);
    expect(strictMeta.safeParse({ by: { id: "ana", via: "carrier pigeon" } }).success).toBe(false);
    expect(strictMeta.safeParse({ undeclared: 1 }).success).toBe(false);
    expect(strictMeta.safeParse({ by: "cli", requestId: "rq_x", kind: "result" }).success).toBe(true);
  });

  it("docs/factors.md lists every declared meta key", () => {
    const docs = readFileSync(join(import.meta.dirname, "../../docs/factors.md"), "utf8");
    for (const key of META_KEYS) expect(docs, key).toContain(`\`${key}\``);
  });

  it("narrows by type: a switch over BuiltinEvent sees each event's data", () => {
    const describe = (e: BuiltinEvent): string => {
      switch (e.type) {
        case "approval":
          expectTypeOf(e.data.approved).toEqualTypeOf<boolean>();
          return e.data.approved ? "approved" : `rejected: ${e.data.feedback ?? ""}`;
        case "user_message":
          expectTypeOf(e.data).toEqualTypeOf<string>();
          return e.data;
        case "failed":
          return e.data.reason;
        default:
          return e.type;
      }
    };
    expect(
      describe({ id: "e1", type: "approval", data: { approved: false, feedback: "no" }, at: "2025-01-01T00:00:00Z" }),
    ).toBe("rejected: no");
  });
});

describe("user-defined events", () => {
  const ticketOpened = defineEvent(
    "ticket_opened",
    z.object({ ticket: z.string(), priority: z.enum(["low", "high"]) }),
  );

  it("create checks the data against the schema and says what is wrong", () => {
    expect(ticketOpened.create({ ticket: "T-1", priority: "high" })).toEqual({
      type: "ticket_opened",
      data: { ticket: "T-1", priority: "high" },
    });
    let caught: unknown;
    try {
      ticketOpened.create({ ticket: "T-1", priority: "urgent" as "high" });
    } catch (error) {
      caught = error;
    }
    expect(TwelveError.is(caught) && caught.code).toBe("invalid_event");
    expect(String((caught as Error).message)).toMatch(/"ticket_opened" event data is invalid: priority/);
  });

  it("is() narrows an event to the user's type", () => {
    const event: Event = { id: "e1", type: "ticket_opened", data: { ticket: "T-2", priority: "low" }, at: "x" };
    if (!ticketOpened.is(event)) throw new Error("expected a ticket_opened event");
    expectTypeOf(event.data.priority).toEqualTypeOf<"low" | "high">();
    expect(event.data.ticket).toBe("T-2");
    expect(ticketOpened.is({ ...event, data: { ticket: 2 } })).toBe(false);
  });
});
