import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { approve, reject, startThread } from "../../src/agent/events.js";
import { resume } from "../../src/agent/resume.js";
import { run } from "../../src/agent/run.js";
import { createRuntime } from "../../src/runtime/runtime.js";
import { memoryStore } from "../../src/store/memory.js";
import { canonicalJson, digestOf, toJsonSafe } from "../../src/thread/json-safe.js";
import { DECISIONS, humanRequest, parseRequestId, requestId } from "../../src/thread/request.js";
import { threadState } from "../../src/thread/status.js";
import { fork, type Thread } from "../../src/thread/thread.js";
import { type Effect, failure, opsAgent, plannerModel, uncertainThread } from "./fixtures.js";

describe("request ids", () => {
  const awkward = [
    "thr_plain",
    "a/b/../c",
    "quote\"d'thread",
    "back\\slash",
    "naïve thread — ünïcödé 🧵",
    "日本語のスレッド",
    "tab\tnew\nline\u0000nul",
    "\ud800 lone surrogate",
    " ",
    "rq_looks_like_a_request_id",
    '["nested","json"]',
    "=+/?&#%",
    "x".repeat(1000),
  ];

  it("round-trips thread ids with any characters", () => {
    for (const threadId of awkward) {
      for (const eventId of ["evt_1", 'e/v"t', "🙂"]) {
        const id = requestId(threadId, eventId);
        expect(id).toMatch(/^rq_[A-Za-z0-9_-]+$/);
        expect(parseRequestId(id)).toEqual({ threadId, eventId });
      }
    }
  });

  it("round-trips arbitrary non-empty strings (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", minLength: 1, maxLength: 40 }),
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }),
        (threadId, eventId) => {
          const id = requestId(threadId, eventId);
          const parsed = parseRequestId(id);
          return /^rq_[A-Za-z0-9_-]+$/.test(id) && parsed?.threadId === threadId && parsed.eventId === eventId;
        },
      ),
      { numRuns: 200 },
    );
  });

  it("distinct (thread, event) pairs never share an id (property)", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (a, b, e) => {
        fc.pre(a !== b);
        expect(requestId(a, e)).not.toBe(requestId(b, e));
        // Concatenation ambiguity: ("ab","c") and ("a","bc") must differ.
        expect(requestId(a + b, e)).not.toBe(requestId(a, b + e));
      }),
      { numRuns: 200 },
    );
  });

  it("refuses empty-ish ids: an empty thread or event id does not parse", () => {
    expect(parseRequestId(requestId("", "evt_1"))).toBeUndefined();
    expect(parseRequestId(requestId("thr_1", ""))).toBeUndefined();
    expect(parseRequestId(requestId("", ""))).toBeUndefined();
    expect(parseRequestId("rq_")).toBeUndefined();
  });

  it("rejects garbage", () => {
    const b64 = (value: unknown) => `rq_${Buffer.from(JSON.stringify(value), "utf8").toString("base64url")}`;
    const garbage: unknown[] = [
      undefined,
      null,
      42,
      {},
      ["thr", "evt"],
      "",
      "rq",
      "rq_!!!",
      "rq_abc def",
      "rq_abc=",
      "RQ_WyJ0IiwiZSJd",
      "xx_WyJ0IiwiZSJd",
      ` ${requestId("t", "e")}`,
      `${requestId("t", "e")} `,
      `${requestId("t", "e")}/`,
      `rq_${Buffer.from("not json").toString("base64url")}`,
      b64("thr"),
      b64(["thr"]),
      b64(["thr", "evt", "extra"]),
      b64(["thr", 1]),
      b64([1, "evt"]),
      b64({ threadId: "t", eventId: "e" }),
      b64(null),
      `rq_${"A".repeat(5000)}`,
      requestId("t".repeat(4000), "e"),
    ];
    for (const value of garbage) expect(parseRequestId(value), String(value)).toBeUndefined();
  });

  it("never throws on arbitrary input, and what parses re-encodes to a valid pair (property)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `rq_${s}`),
          fc.base64String().map((s) => `rq_${s}`),
        ),
        (text) => {
          const parsed = parseRequestId(text);
          if (parsed) {
            expect(parsed.threadId).not.toBe("");
            expect(parsed.eventId).not.toBe("");
            expect(parseRequestId(requestId(parsed.threadId, parsed.eventId))).toEqual(parsed);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("requests on a fork and on its parent", () => {
  async function pausedDeploy(effects: Effect[]) {
    const agent = opsAgent(effects);
    const model = plannerModel();
    const paused = await run(agent, startThread(agent, "deploy:v1.2.3:production"), { model });
    expect(threadState(paused).status).toBe("awaiting_approval");
    const forked = fork(paused, paused.events.at(-1)?.id as string);
    return { agent, model, paused, forked };
  }

  it("have distinct ids for the same event, and the same digest", async () => {
    const { paused, forked } = await pausedDeploy([]);
    const parent = humanRequest(paused);
    const child = humanRequest(forked);
    expect(parent && child).toBeTruthy();
    expect(child?.id).not.toBe(parent?.id);
    expect(child?.eventId).toBe(parent?.eventId);
    expect(child?.stepId).toBe(parent?.stepId);
    expect(child?.argsDigest).toBe(parent?.argsDigest);
    expect(parseRequestId(child?.id)).toEqual({ threadId: forked.id, eventId: child?.eventId });
    expect(parseRequestId(parent?.id)).toEqual({ threadId: paused.id, eventId: parent?.eventId });
  });

  it("are answered independently with the pure resume; the parent's id does not answer the fork", async () => {
    const effects: Effect[] = [];
    const { agent, model, paused, forked } = await pausedDeploy(effects);
    const parentReq = humanRequest(paused);
    const forkReq = humanRequest(forked);
    if (!parentReq || !forkReq) throw new Error("both threads should be paused");

    const wrong = await failure(resume(agent, forked, approve(parentReq), { model }));
    expect(wrong.code).toBe("request_not_found");
    expect(effects).toHaveLength(0);

    const parentDone = await resume(agent, paused, approve(parentReq), { model });
    expect(threadState(parentDone).status).toBe("done");
    expect(effects.map((e) => e.threadId)).toEqual([paused.id]);

    // The fork still waits on its own request; rejecting it runs nothing.
    const forkDone = await resume(agent, forked, reject(forkReq, "not on a Friday"), { model });
    expect(threadState(forkDone).status).toBe("done");
    expect(forkDone.events.find((e) => e.type === "approval")?.meta?.requestId).toBe(forkReq.id);
    expect(effects).toHaveLength(1);

    // Each request is now answered, each in its own thread.
    expect((await failure(resume(agent, parentDone, approve(parentReq), { model }))).code).toBe("already_answered");
    expect((await failure(resume(agent, forkDone, approve(forkReq), { model }))).code).toBe("already_answered");
  });

  it("are answered independently through a memory-store runtime", async () => {
    const effects: Effect[] = [];
    const { agent, model, paused, forked } = await pausedDeploy(effects);
    const store = memoryStore();
    await store.create(paused);
    await store.create(forked);
    const runtime = createRuntime({ store, agents: agent, model });
    const parentReq = humanRequest(paused);
    const forkReq = humanRequest(forked);
    if (!parentReq || !forkReq) throw new Error("both threads should be paused");

    const forkResult = await runtime.answer(approve(forkReq, { by: { id: "ann", via: "api" } }));
    expect(forkResult.thread.id).toBe(forked.id);
    expect(forkResult.state.status).toBe("done");
    expect(effects.map((e) => e.threadId)).toEqual([forked.id]);
    // The parent is untouched and still waits on its own request.
    expect(await runtime.request(parentReq.id)).toEqual(parentReq);
    expect((await store.load(paused.id)).version).toBe(paused.version);

    const parentResult = await runtime.answer(reject(parentReq, "wrong tag", { by: { id: "bob", via: "slack" } }));
    expect(parentResult.state.status).toBe("done");
    expect(effects).toHaveLength(1);
    const again = await failure(runtime.answer(approve(forkReq)));
    expect(again.code).toBe("already_answered");
    expect(again.details?.answeredBy).toEqual({ id: "ann", via: "api" });
    expect(effects).toHaveLength(1);
  });
});

describe("argument digests", () => {
  it("ignore key order at every level", () => {
    const a = { tag: "v1", env: { region: "eu", tier: [1, 2, { x: 1, y: 2 }] }, n: 3 };
    const b = { n: 3, env: { tier: [1, 2, { y: 2, x: 1 }], region: "eu" }, tag: "v1" };
    expect(digestOf(a)).toBe(digestOf(b));
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(digestOf(a)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  const shuffleKeys = (value: unknown, rnd: () => number): unknown => {
    if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, rnd));
    if (value === null || typeof value !== "object") return value;
    const keys = Object.keys(value).sort(() => rnd() - 0.5);
    const out: Record<string, unknown> = {};
    // defineProperty, not assignment: a "__proto__" key must stay a key (fast-check generates one).
    for (const k of keys) {
      const v = shuffleKeys((value as Record<string, unknown>)[k], rnd);
      Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return out;
  };

  it("are stable under key reordering (property)", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }),
        fc.integer(),
        (args, seed) => {
          let s = seed;
          const rnd = () => {
            s = (s * 1103515245 + 12345) & 0x7fffffff;
            return s / 0x7fffffff;
          };
          expect(digestOf(shuffleKeys(args, rnd))).toBe(digestOf(args));
        },
      ),
      { numRuns: 200 },
    );
    // The counterexample a CI run found: a "__proto__" key nested in the arguments.
    const nested = JSON.parse('{"":{"__proto__":[]}}');
    expect(digestOf(shuffleKeys(nested, () => 0.3))).toBe(digestOf(nested));
    expect(digestOf(nested)).not.toBe(digestOf({ "": {} }));
  });

  it("change when any argument changes (property)", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), {
          minKeys: 1,
          maxKeys: 5,
        }),
        fc.nat(),
        fc.jsonValue({ maxDepth: 2 }),
        (args, pick, replacement) => {
          const keys = Object.keys(args);
          const key = keys[pick % keys.length] as string;
          fc.pre(canonicalJson(args[key]) !== canonicalJson(replacement));
          expect(digestOf({ ...args, [key]: replacement })).not.toBe(digestOf(args));
          expect(digestOf({ ...args, [`${key}_extra`]: 1 })).not.toBe(digestOf(args));
          const { [key]: _dropped, ...rest } = args;
          expect(digestOf(rest)).not.toBe(digestOf(args));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("change on small edits that matter: types, array order, nesting, case", () => {
    const base = { tag: "v1.0.0", environment: "production", replicas: 3, flags: ["a", "b"] };
    const variants = [
      { ...base, tag: "v1.0.1" },
      { ...base, environment: "Production" },
      { ...base, replicas: "3" },
      { ...base, replicas: 3.5 },
      { ...base, flags: ["b", "a"] },
      { ...base, flags: ["a", "b", "b"] },
      { ...base, flags: { 0: "a", 1: "b" } },
      { ...base, extra: null },
      { tag: "v1.0.0", environment: "production", replicas: 3 },
    ];
    const digests = new Set([digestOf(base), ...variants.map((v) => digestOf(v))]);
    expect(digests.size).toBe(variants.length + 1);
  });

  it("change when a key named __proto__ changes (JSON.parse gives such keys as own properties)", () => {
    const withProto = JSON.parse('{"tag":"v1","__proto__":{"admin":true}}') as Record<string, unknown>;
    const plain = { tag: "v1" };
    expect(Object.keys(withProto)).toContain("__proto__");
    // Two different argument objects must not share a digest, or an approval covers arguments nobody saw.
    expect(digestOf(withProto)).not.toBe(digestOf(plain));
    expect(JSON.parse(canonicalJson(withProto))).toEqual(withProto);
  });
});

describe("toJsonSafe", () => {
  it("BigInt becomes a decimal string, at any depth", () => {
    expect(toJsonSafe(10n ** 30n)).toBe("1000000000000000000000000000000");
    expect(toJsonSafe({ a: [-5n] })).toEqual({ a: ["-5"] });
  });

  it("Date becomes an ISO string; an invalid Date null", () => {
    expect(toJsonSafe(new Date("2025-01-02T03:04:05.678Z"))).toBe("2025-01-02T03:04:05.678Z");
    expect(toJsonSafe({ at: new Date(Number.NaN) })).toEqual({ at: null });
  });

  it("Map with string keys becomes an object; with other keys, entry pairs", () => {
    expect(
      toJsonSafe(
        new Map<string, unknown>([
          ["a", 1],
          ["b", new Map([["c", 2n]])],
        ]),
      ),
    ).toEqual({ a: 1, b: { c: "2" } });
    expect(
      toJsonSafe(
        new Map<unknown, unknown>([
          [1, "one"],
          [{ k: true }, "obj"],
        ]),
      ),
    ).toEqual([
      [1, "one"],
      [{ k: true }, "obj"],
    ]);
    expect(
      toJsonSafe(
        new Map<unknown, unknown>([
          ["a", 1],
          [2, 2],
        ]),
      ),
    ).toEqual([
      ["a", 1],
      [2, 2],
    ]);
    expect(toJsonSafe(new Map())).toEqual({});
  });

  it("Set becomes an array", () => {
    expect(toJsonSafe(new Set([1, "x", 3n, new Date(0)]))).toEqual([1, "x", "3", "1970-01-01T00:00:00.000Z"]);
  });

  it("typed arrays become arrays of numbers (BigInt arrays: strings)", () => {
    expect(toJsonSafe(new Uint8Array([1, 2, 255]))).toEqual([1, 2, 255]);
    expect(toJsonSafe(new Float64Array([1.5, Number.NaN]))).toEqual([1.5, null]);
    expect(toJsonSafe(new BigInt64Array([1n, -2n]))).toEqual(["1", "-2"]);
    expect(toJsonSafe(Buffer.from("hi"))).toEqual({ type: "Buffer", data: [104, 105] });
  });

  it("class instances keep their own enumerable fields, without functions, symbols or undefined", () => {
    class Deployment {
      id = "d1";
      at = new Date(1000);
      secret = undefined;
      fn = () => 1;
      sym = Symbol("s");
      get computed() {
        return "not own";
      }
      method() {
        return 1;
      }
    }
    expect(toJsonSafe(new Deployment())).toEqual({ id: "d1", at: "1970-01-01T00:00:01.000Z" });
    expect(JSON.stringify(toJsonSafe(new Deployment()))).toBe('{"id":"d1","at":"1970-01-01T00:00:01.000Z"}');
  });

  it("Error becomes {name, message, ...own fields}", () => {
    const error = Object.assign(new TypeError("bad thing"), { code: "E_BAD", status: 502n });
    expect(toJsonSafe(error)).toEqual({ name: "TypeError", message: "bad thing", code: "E_BAD", status: "502" });
    expect(toJsonSafe({ error: new Error("x") })).toEqual({ error: { name: "Error", message: "x" } });
  });

  it("cycles become [Circular]: self, deep, through arrays, maps and sets", () => {
    const self: Record<string, unknown> = { name: "self" };
    self.me = self;
    expect(toJsonSafe(self)).toEqual({ name: "self", me: "[Circular]" });

    const deep: Record<string, unknown> = { level: 0 };
    let at = deep;
    for (let i = 1; i < 5; i++) {
      const next: Record<string, unknown> = { level: i };
      at.child = next;
      at = next;
    }
    at.back = deep;
    const safe = toJsonSafe(deep);
    expect(JSON.stringify(safe)).toContain('"back":"[Circular]"');

    const list: unknown[] = [1];
    list.push(list);
    expect(toJsonSafe(list)).toEqual([1, "[Circular]"]);
    const map = new Map<string, unknown>();
    map.set("m", map);
    expect(toJsonSafe(map)).toEqual({ m: "[Circular]" });
    const set = new Set<unknown>();
    set.add(set);
    expect(toJsonSafe(set)).toEqual(["[Circular]"]);
  });

  it("a shared reference that is not a cycle is kept in full everywhere", () => {
    const shared = { n: 1 };
    expect(toJsonSafe({ a: shared, b: shared, c: [shared, shared] })).toEqual({
      a: { n: 1 },
      b: { n: 1 },
      c: [{ n: 1 }, { n: 1 }],
    });
  });

  it("uses toJSON, and guards a toJSON that returns its own object", () => {
    expect(toJsonSafe({ v: { toJSON: () => ({ x: 1n }) } })).toEqual({ v: { x: "1" } });
    const loop = {
      toJSON() {
        return this;
      },
    };
    expect(() => JSON.stringify(toJsonSafe(loop))).not.toThrow();
  });

  it("NaN and ±Infinity become null; undefined, functions and symbols follow JSON", () => {
    expect(toJsonSafe(Number.NaN)).toBeNull();
    expect(toJsonSafe({ a: Number.POSITIVE_INFINITY, b: Number.NEGATIVE_INFINITY, c: 1 })).toEqual({
      a: null,
      b: null,
      c: 1,
    });
    expect(toJsonSafe([undefined, () => 1, Symbol("x")])).toEqual([null, null, null]);
    expect(toJsonSafe({ u: undefined, f: () => 1 })).toEqual({});
    expect(toJsonSafe(undefined)).toBeNull();
  });

  it("anything becomes a value JSON.stringify accepts and that re-serializes to the same text (property)", () => {
    fc.assert(
      fc.property(
        fc.anything({
          withBigInt: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withTypedArray: true,
          withNullPrototype: true,
          withSparseArray: true,
          withBoxedValues: true,
          maxDepth: 3,
        }),
        (value) => {
          const text = JSON.stringify(toJsonSafe(value));
          const again = text === undefined ? undefined : JSON.stringify(JSON.parse(text));
          expect(again).toBe(text);
          expect(canonicalJson(value)).toBe(canonicalJson(JSON.parse(canonicalJson(value))));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("humanRequest for each kind", () => {
  const effects: Effect[] = [];
  const agent = opsAgent(effects);
  const paused = async (text: string): Promise<Thread> =>
    run(agent, startThread(agent, text), { model: plannerModel() });

  it("approval: the step, its arguments and digest; approve, edit, reject", async () => {
    const thread = await paused("deploy:v1.2.3:production");
    const step = thread.events.at(-1);
    const request = humanRequest(thread);
    expect(request).toEqual({
      id: requestId(thread.id, step?.id as string),
      threadId: thread.id,
      kind: "approval",
      intent: "deploy",
      args: { tag: "v1.2.3", environment: "production" },
      argsDigest: digestOf({ environment: "production", tag: "v1.2.3" }),
      decisions: ["approve", "edit", "reject"],
      stepId: step?.id,
      eventId: step?.id,
      createdAt: step?.at,
    });
    expect(request?.decisions).toBe(DECISIONS.approval);
  });

  it("question from request_human_input, with its format and choices; respond", async () => {
    const thread = await paused("ask:multiple_choice:staging,production");
    const step = thread.events.at(-1);
    expect(humanRequest(thread)).toEqual({
      id: requestId(thread.id, step?.id as string),
      threadId: thread.id,
      kind: "question",
      intent: "request_human_input",
      question: { text: "which one (multiple_choice)?", format: "multiple_choice", choices: ["staging", "production"] },
      decisions: ["respond"],
      stepId: step?.id,
      eventId: step?.id,
      createdAt: step?.at,
    });
    const yesNo = humanRequest(await paused("ask:yes_no"));
    expect(yesNo?.question).toEqual({ text: "which one (yes_no)?", format: "yes_no" });
    expect(yesNo?.args).toBeUndefined();
    expect(yesNo?.argsDigest).toBeUndefined();
  });

  it("escalation question: no intent, free text; respond", async () => {
    const thread = await paused("garbage");
    const escalation = thread.events.at(-1);
    expect(escalation?.type).toBe("escalation");
    const request = humanRequest(thread);
    expect(request).toMatchObject({
      id: requestId(thread.id, escalation?.id as string),
      kind: "question",
      question: { format: "free_text" },
      decisions: ["respond"],
      stepId: escalation?.id,
      eventId: escalation?.id,
    });
    expect(request?.question?.text).toMatch(/stuck/);
    expect(request && "intent" in request).toBe(false);
  });

  it("async: the result type it waits for; result", async () => {
    const thread = await paused("lookup:abc");
    const step = thread.events.at(-1);
    expect(humanRequest(thread)).toEqual({
      id: requestId(thread.id, step?.id as string),
      threadId: thread.id,
      kind: "async",
      intent: "lookup",
      resultType: "lookup_result",
      decisions: ["result"],
      stepId: step?.id,
      eventId: step?.id,
      createdAt: step?.at,
    });
  });

  it("uncertain: derives from the _started marker (its id and time), names the step; mark_done, run_again, abandon", () => {
    const thread = uncertainThread("ops", { tag: "v2.0.0", environment: "staging" });
    const [, step, , started] = thread.events;
    const request = humanRequest(thread);
    expect(request).toEqual({
      id: requestId(thread.id, started?.id as string),
      threadId: thread.id,
      kind: "uncertain",
      intent: "deploy",
      args: { tag: "v2.0.0", environment: "staging" },
      argsDigest: digestOf({ tag: "v2.0.0", environment: "staging" }),
      decisions: ["mark_done", "run_again", "abandon"],
      stepId: step?.id,
      eventId: started?.id,
      createdAt: started?.at,
    });
    // Not the approval's id: the step's request was answered (approved) already.
    expect(request?.id).not.toBe(requestId(thread.id, step?.id as string));
  });

  it("none when running or done", async () => {
    const done = await paused("nothing");
    expect(threadState(done).status).toBe("done");
    expect(humanRequest(done)).toBeUndefined();
    expect(humanRequest(startThread(agent, "hello"))).toBeUndefined();
  });
});
