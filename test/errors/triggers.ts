import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { defineAgent } from "../../src/agent/agent.js";
import { approve } from "../../src/agent/events.js";
import { acceptEvent } from "../../src/agent/resume.js";
import { loadConfig } from "../../src/config/index.js";
import { TwelveError, type TwelveErrorCode } from "../../src/errors/index.js";
import { defineIntent } from "../../src/intent/intent.js";
import { parseStep } from "../../src/intent/parse/index.js";
import { recordModel, replayModel } from "../../src/model/cassette.js";
import { ModelError, toModelError } from "../../src/model/errors.js";
import { resolveModel } from "../../src/model/resolve.js";
import { rulesModel } from "../../src/model/rules.js";
import { scriptedModel } from "../../src/model/scripted.js";
import { createRuntime } from "../../src/runtime/runtime.js";
import { signRequestToken, type TokenKey, verifyRequestToken } from "../../src/runtime/token.js";
import { createWorker } from "../../src/runtime/worker.js";
import { StoreCorruptError, StoreInputError } from "../../src/store/errors.js";
import { memoryStore } from "../../src/store/memory.js";
import { openStore } from "../../src/store/open.js";
import { loadSqliteDriver } from "../../src/store/sqlite/driver.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { defaultClock, makeEvent } from "../../src/thread/event.js";
import { requestId } from "../../src/thread/request.js";
import { createThread, parseThread } from "../../src/thread/thread.js";
import { type Effect, opsAgent, plannerModel } from "../runtime/fixtures.js";
import { KEYS, startTestServer, type TestServer } from "../server/helpers.js";

/**
 * How each code is raised in test/errors/codes.test.ts: `api` through
 * twelve's real functions (a store, a runtime, a model, a token), or
 * `construct` by building the error with the class its throw site uses
 * (CLI-only codes, and failures too costly to cause: a dead PostgreSQL, a
 * package that is installed here). docs/errors.md names the `construct` ones.
 */
export interface Trigger {
  how: "api" | "construct";
  raise: () => unknown;
}

const api = (raise: () => unknown): Trigger => ({ how: "api", raise });
const construct = (code: string): Trigger => ({
  how: "construct",
  raise: () => {
    throw new TwelveError(code, `constructed ${code}`);
  },
});
const constructWith = (raise: () => unknown): Trigger => ({ how: "construct", raise });

const dir = () => mkdtempSync(join(tmpdir(), "twelve-errors-"));
const key: TokenKey = { kid: "k1", secret: "a string secret of at least 32 bytes, fine" };
const NOW = new Date("2025-06-01T12:00:00.000Z");
const tokenRequestId = requestId(`thr_${"a".repeat(20)}`, `evt_${"b".repeat(20)}`);
const token = (over: Record<string, unknown> = {}) =>
  signRequestToken(
    {
      requestId: tokenRequestId,
      digest: "Zx3y8Qk2mN5pR7tV9wB1cD",
      aud: "slack",
      exp: NOW.getTime() / 1000 + 3600,
      sub: "alice",
      decision: "approve",
      ...over,
    },
    { keys: [key], now: NOW },
  );

const opsAgentWithEffects = () => {
  const effects: Effect[] = [];
  return { agent: opsAgent(effects), effects };
};

/** A runtime on a memory store with the runtime tests' "ops" agent, and a request it paused on. */
async function pausedDeploy(options: Parameters<typeof opsAgent>[1] = {}) {
  const effects: Effect[] = [];
  const agent = opsAgent(effects, options);
  const runtime = createRuntime({ store: memoryStore(), agents: agent, model: plannerModel() });
  const started = await runtime.start(agent, "deploy:v1.2.3:production");
  if (!started.request) throw new Error("the deploy did not pause");
  return { agent, runtime, request: started.request, thread: started.thread };
}

async function storeWithThread() {
  const store = memoryStore();
  const thread = await store.create(createThread("ops", [makeEvent(defaultClock, "user_message", "hi")]));
  return { store, thread };
}

const userEvent = () => makeEvent(defaultClock, "user_message", "more");
const threadWithMessage = () => createThread("ops", [makeEvent(defaultClock, "user_message", "hello")]);

/** Raises what a real listening server answered: its `{error: {code, message, details}}` body, thrown. */
const viaServer = (run: (s: TestServer, auth: Record<string, string>) => Promise<Response>): Trigger =>
  api(async () => {
    const s = await startTestServer({
      config: {
        secrets: {
          apiKeys: [
            { name: "admin", key: KEYS.admin },
            { name: "reader", key: KEYS.reader, readOnly: true },
          ],
        },
        server: { bodyLimit: 64 },
      },
    });
    try {
      const r = await run(s, { authorization: `Bearer ${KEYS.admin}`, "content-type": "application/json" });
      const body = (await r.json()) as { error?: { code: string; message: string; details?: Record<string, unknown> } };
      if (body.error) throw new TwelveError(body.error.code, body.error.message, body.error.details);
    } finally {
      s.gate.open();
      await s.shutdown();
    }
  });
const launch = (s: TestServer, auth: Record<string, string>, message: string, wait = "") =>
  fetch(`${s.url}/v1/agents/calculator/threads${wait}`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ message }),
  });

export const TRIGGERS: Record<TwelveErrorCode, Trigger> = {
  // Agents, threads, events
  invalid_agent: api(() => defineAgent({ name: "", intents: [] } as never)),
  agent_not_found: api(async () => (await pausedDeploy()).runtime.agent("nobody")),
  agent_mismatch: construct("agent_mismatch"),
  invalid_thread: api(() => parseThread({ nope: true })),
  invalid_event: api(async () => {
    const { store, thread } = await storeWithThread();
    await store.append(thread.id, [{} as never], { expectedVersion: 1 });
  }),
  resume_mismatch: api(async () => {
    const { agent, thread } = await pausedDeploy();
    acceptEvent(agent, thread, { type: "lookup_result", data: {} });
  }),
  unknown_intent: constructWith(() => {
    throw new TwelveError("unknown_intent", "parser returned unknown intent x");
  }),
  parse_error: api(() =>
    parseStep("this is not a step", [defineIntent("add", z.object({ a: z.number() }), { description: "add" })]),
  ),
  thread_not_found: api(() => memoryStore().load("nope")),
  thread_exists: api(async () => {
    const { store, thread } = await storeWithThread();
    await store.create(thread);
  }),
  thread_archived: api(async () => {
    const { store, thread } = await storeWithThread();
    await store.archive(thread.id);
    await store.append(thread.id, [userEvent()], { expectedVersion: 1 });
  }),
  version_conflict: api(async () => {
    const { store, thread } = await storeWithThread();
    await store.append(thread.id, [userEvent()], { expectedVersion: 7 });
  }),
  lease_held: api(async () => {
    const { store, thread } = await storeWithThread();
    await store.acquireLease(thread.id, { owner: "a" });
    await store.acquireLease(thread.id, { owner: "b" });
  }),
  lease_lost: api(async () => {
    const { store, thread } = await storeWithThread();
    const lease = await store.acquireLease(thread.id, { owner: "a" });
    await store.releaseLease(lease);
    await store.renewLease(lease);
  }),
  idempotency_conflict: api(async () => {
    const store = memoryStore();
    await store.createOnce(threadWithMessage(), { scope: "s", key: "k", bodyHash: "one" });
    await store.createOnce(threadWithMessage(), { scope: "s", key: "k", bodyHash: "two" });
  }),
  inbound_not_found: api(() => memoryStore().markInboundProcessed("slack", "nope")),

  // Human requests and answers
  already_answered: api(async () => {
    const { runtime, request } = await pausedDeploy();
    await runtime.answer(approve(request));
    await runtime.answer(approve(request));
  }),
  request_changed: api(async () => {
    const { runtime, request } = await pausedDeploy();
    await runtime.answer(approve({ ...request, argsDigest: "not-the-digest" }));
  }),
  invalid_decision: api(() => approve({} as never)),
  request_not_found: api(async () => (await pausedDeploy()).runtime.request("rq_nope")),
  request_required: api(async () => {
    const { runtime, thread } = await pausedDeploy();
    await runtime.send(thread.id, { type: "approval", data: { approved: true } });
  }),
  responder_refused: api(async () => {
    const { runtime, request } = await pausedDeploy({ deployResponders: ["alice"] });
    await runtime.answer(approve(request, { by: { id: "mallory", via: "api" } }));
  }),

  // Request tokens
  token_malformed: api(() => verifyRequestToken("not a token", { keys: [key], aud: "slack", now: NOW })),
  token_invalid: api(() => {
    const t = token();
    const last = t.at(-1) === "A" ? "B" : "A";
    verifyRequestToken(`${t.slice(0, -1)}${last}`, { keys: [key], aud: "slack", now: NOW });
  }),
  token_unknown_key: api(() =>
    verifyRequestToken(token(), {
      keys: [{ kid: "k2", secret: "another secret of at least 32 bytes!!" }],
      aud: "slack",
      now: NOW,
    }),
  ),
  token_expired: api(() =>
    verifyRequestToken(token(), { keys: [key], aud: "slack", now: new Date(NOW.getTime() + 7200_000) }),
  ),
  token_audience: api(() => verifyRequestToken(token(), { keys: [key], aud: "email", now: NOW })),
  token_key_invalid: api(() => token({ sub: "" })),

  // Models
  rate_limited: api(() => {
    throw toModelError({ status: 429, message: "slow down" }, "m");
  }),
  timeout: constructWith(() => {
    throw new ModelError("timeout", "m: no answer within 1 ms");
  }),
  server: api(() => {
    throw toModelError({ status: 503, message: "overloaded" }, "m");
  }),
  network: api(() => {
    throw toModelError(new TypeError("fetch failed"), "m");
  }),
  auth: api(() => {
    throw toModelError({ status: 401, message: "bad key" }, "m");
  }),
  bad_request: api(() => {
    throw toModelError({ status: 400, message: "too long" }, "m");
  }),
  aborted: api(() => {
    throw toModelError(new Error("stop"), "m", AbortSignal.abort());
  }),
  model_error: api(() => scriptedModel([{ error: "the provider said no" }]).generate({ messages: [] })),
  model_config: api(() => resolveModel("openai:gpt-4.1-mini", { env: {} })),
  unknown_model_scheme: api(() => resolveModel("gemini:pro", { env: {} })),
  model_script_invalid: api(() => resolveModel(`script:${join(dir(), "absent.json")}`, { env: {} })),
  script_exhausted: api(() => scriptedModel([]).generate({ messages: [] })),
  script_unused: api(() => scriptedModel(["left over"]).assertDone()),
  rules_invalid: api(() => rulesModel(["x" as never])),
  rules_need_thread: api(() => rulesModel([{ answer: "x" }]).generate({ messages: [] })),
  rules_no_match: api(() =>
    rulesModel([{ when: { steps: 5 }, answer: "x" }]).generate({ messages: [], thread: threadWithMessage() }),
  ),
  rules_template: api(() =>
    rulesModel([{ answer: "{{last.data.nope}}" }]).generate({ messages: [], thread: threadWithMessage() }),
  ),
  cassette_invalid: api(() => replayModel(join(dir(), "absent.json"))),
  replay_miss: api(async () => {
    const path = join(dir(), "c.json");
    await recordModel(scriptedModel(["recorded"]), path).generate({ messages: [{ role: "user", content: "q" }] });
    await (await replayModel(path)).generate({ messages: [{ role: "user", content: "another question" }] });
  }),
  missing_dependency: constructWith(() => {
    throw new StoreInputError("missing_dependency", "the PostgreSQL store needs the pg package: npm install pg");
  }),

  // Stores
  store_config: api(() => openStore("ftp://example.com/threads")),
  store_incompatible: api(async () => {
    const path = join(dir(), "foreign.db");
    const Database = await loadSqliteDriver();
    const raw = new Database(path);
    raw.exec("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)");
    raw.close();
    await openSqliteStore({ path });
  }),
  store_corrupt: constructWith(() => {
    throw new StoreCorruptError("thread t: event 3 is not valid JSON");
  }),
  store_unavailable: construct("store_unavailable"),
  store_busy: construct("store_busy"),
  store_readonly: construct("store_readonly"),
  store_full: construct("store_full"),
  store_io_error: construct("store_io_error"),
  transaction_aborted: construct("transaction_aborted"),
  side_rows_async: api(async () => {
    const store = await openSqliteStore({ path: ":memory:" });
    try {
      const thread = await store.create(threadWithMessage());
      await store.append(thread.id, [userEvent()], { expectedVersion: 1, sideRows: async () => {} });
    } finally {
      await store.close();
    }
  }),
  invalid_cursor: api(() => memoryStore().list({ cursor: "garbage!" })),
  invalid_input: api(() => memoryStore().list({ limit: 0 })),
  sqlite_driver: construct("sqlite_driver"),

  // HTTP server
  invalid_json: viaServer((s, auth) =>
    fetch(`${s.url}/v1/agents/calculator/threads`, { method: "POST", headers: auth, body: "{" }),
  ),
  unsupported_media_type: viaServer((s, auth) =>
    fetch(`${s.url}/v1/agents/calculator/threads`, {
      method: "POST",
      headers: { ...auth, "content-type": "text/plain" },
      body: "hi",
    }),
  ),
  payload_too_large: viaServer((s, auth) => launch(s, auth, "x".repeat(100))),
  route_not_found: viaServer((s, auth) => fetch(`${s.url}/v1/nowhere`, { headers: auth })),
  unauthorized: viaServer((s) => fetch(`${s.url}/v1/threads`)),
  forbidden: viaServer((s) =>
    fetch(`${s.url}/v1/agents/calculator/threads`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEYS.reader}`, "content-type": "application/json" },
      body: JSON.stringify({ message: "hi" }),
    }),
  ),
  loopback_only: construct("loopback_only"),
  busy: viaServer(async (s, auth) => {
    s.gate.close();
    const thread = (await (await launch(s, auth, "slow")).json()) as { id: string };
    while (s.runs.slow === 0) await new Promise((r) => setTimeout(r, 5));
    return fetch(`${s.url}/v1/threads/${thread.id}/messages`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ message: "now" }),
    });
  }),
  request_pending: viaServer(async (s, auth) => {
    const thread = (await (await launch(s, auth, "divide 3 by 4", "?wait=5")).json()) as { id: string };
    return fetch(`${s.url}/v1/threads/${thread.id}/messages`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ message: "hm" }),
    });
  }),
  draining: api(async () => {
    const { agent } = opsAgentWithEffects();
    const worker = createWorker({ store: memoryStore(), agents: agent, model: plannerModel() });
    await worker.drain(0);
    await worker.start(agent.name, "deploy:v1:staging");
  }),

  // Configuration, CLI, I/O
  config_invalid: api(() => loadConfig({ config: { publicUrl: "not a url" }, env: {} })),
  config_not_found: api(() => loadConfig({ path: join(dir(), "twelve.config.ts"), env: {} })),
  config_error: construct("config_error"),
  invalid_flag: construct("invalid_flag"),
  invalid_answer: construct("invalid_answer"),
  too_deeply_nested: construct("too_deeply_nested"),
  io_error: construct("io_error"),
  network_error: construct("network_error"),
  interrupted: construct("interrupted"),
  output_closed: construct("output_closed"),
};

/** Raises the code's error and returns it (a trigger that does not throw is a test failure). */
export async function raise(code: TwelveErrorCode): Promise<unknown> {
  try {
    await TRIGGERS[code].raise();
  } catch (error) {
    return error;
  }
  throw new Error(`the trigger of ${code} did not throw`);
}
