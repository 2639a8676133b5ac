import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { approve, runAgain } from "../../src/agent/events.js";
import { createRuntime, type RuntimeOptions } from "../../src/runtime/runtime.js";
import { memoryStore } from "../../src/store/memory.js";
import { openStore } from "../../src/store/open.js";
import { openPostgresStore, type PostgresThreadStore } from "../../src/store/postgres/index.js";
import type { ThreadStore } from "../../src/store/types.js";
import { digestOf } from "../../src/thread/json-safe.js";
import type { Answer, HumanRequest } from "../../src/thread/request.js";
import { humanRequest } from "../../src/thread/request.js";
import { threadState } from "../../src/thread/status.js";
import { deploybotAgent, planningModel, readEffects } from "../crash/fixtures/agents.js";
import { bundle, startWorker } from "../crash/harness.js";
import { freshSchema, PG_URL, reportPgSkip } from "../store/pg-env.js";
import { type Effect, opsAgent, plannerModel } from "./fixtures.js";

/**
 * Many answers to one pending approval of a non-idempotent deploy, at once:
 * in one process through many store handles, and from many processes.
 * Exactly one deploy happens (counted in an effects directory outside the
 * store); every other answer is told `already_answered`.
 */

interface Outcome {
  ok: boolean;
  duplicate?: boolean;
  code?: string;
  message?: string;
}

interface Backend {
  /** The spec a child process opens the store with (openStore). */
  spec: string;
  /** Answers each child process sends, one store connection each. */
  perProcess: number;
  store: ThreadStore;
  /** Another independent connection to the same store. */
  handle(): Promise<ThreadStore>;
  dispose(): Promise<void>;
}

const settle = (promise: Promise<{ duplicate: boolean }>): Promise<Outcome> =>
  promise.then(
    (r) => ({ ok: true, duplicate: r.duplicate }),
    (e: { code?: string; message?: string }) => ({ ok: false, code: e.code, message: e.message }),
  );

function suite(name: string, openBackend: (dir: string) => Promise<Backend>) {
  describe(`concurrent answers to one request: ${name}`, () => {
    let dir: string;
    let effects: string;
    let backend: Backend;
    const handles: ThreadStore[] = [];
    const deploys = (threadId: string) =>
      readEffects(effects).filter((e) => e.thread === threadId && e.intent === "deploy_backend");
    const runtimeOn = (store: ThreadStore, extra: Partial<RuntimeOptions> = {}) =>
      createRuntime({ store, agents: deploybotAgent(effects), model: planningModel(), answerWaitMs: 20_000, ...extra });

    async function pausedDeploy(): Promise<HumanRequest> {
      const started = await runtimeOn(backend.store).start("deploybot", "deploy:v9.9.9");
      expect(started.state.status).toBe("awaiting_approval");
      return started.request as HumanRequest;
    }

    function expectOneWinner(outcomes: Outcome[], total: number, request: HumanRequest) {
      expect(outcomes).toHaveLength(total);
      const winners = outcomes.filter((o) => o.ok && !o.duplicate);
      const losers = outcomes.filter((o) => !o.ok);
      expect(winners, JSON.stringify(outcomes.filter((o) => o.ok))).toHaveLength(1);
      expect(losers).toHaveLength(total - 1);
      for (const l of losers) expect(l.code, l.message).toBe("already_answered");
      expect(deploys(request.threadId)).toHaveLength(1);
    }

    async function expectDoneOnce(threadId: string) {
      const final = await backend.store.load(threadId);
      expect(threadState(final).status).toBe("done");
      const count = (type: string) => final.events.filter((e) => e.type === type).length;
      expect(count("approval")).toBe(1);
      expect(count("deploy_backend_started")).toBe(1);
      expect(count("deploy_backend_result")).toBe(1);
    }

    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), "twelve-rt-race-"));
      effects = join(dir, "effects");
      backend = await openBackend(dir);
    });
    afterEach(async () => {
      for (const h of handles.splice(0)) await h.close();
      await backend.dispose();
      rmSync(dir, { recursive: true, force: true });
    });
    const openHandles = async (n: number) => {
      for (let i = 0; i < n; i++) handles.push(await backend.handle());
      return handles.slice(-n);
    };

    it("50 in-process answers over 10 store handles: one deploy, 49 already_answered", async () => {
      const request = await pausedDeploy();
      const runtimes = (await openHandles(10)).map((h) => runtimeOn(h));
      const outcomes = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          settle(
            (runtimes[i % runtimes.length] as (typeof runtimes)[number]).answer(
              approve(request, { by: { id: `u${i}`, via: "api" } }),
            ),
          ),
        ),
      );
      expectOneWinner(outcomes, 50, request);
      await expectDoneOnce(request.threadId);
    });

    it("50 in-process answers through runtimes that name their lease owner: still one deploy", async () => {
      const request = await pausedDeploy();
      // A named owner may re-take its own lease: exactly-once must then rest on the version check alone.
      const runtimes = (await openHandles(5)).map((h, i) => runtimeOn(h, { owner: `worker-${i % 2}` }));
      const outcomes = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          settle((runtimes[i % 5] as (typeof runtimes)[number]).answer(approve(request))),
        ),
      );
      expectOneWinner(outcomes, 50, request);
      await expectDoneOnce(request.threadId);
    });

    it("stale digests run nothing, even racing with a right one", async () => {
      const request = await pausedDeploy();
      const stale: Answer = approve({
        id: request.id,
        argsDigest: digestOf({ tag: "v0.0.1", environment: "production" }),
      });
      const runtimes = (await openHandles(5)).map((h) => runtimeOn(h));
      const before = await backend.store.load(request.threadId);
      const staleOnly = await Promise.all(runtimes.map((r) => settle(r.answer(stale))));
      for (const o of staleOnly) expect(o.code).toBe("request_changed");
      expect((await backend.store.load(request.threadId)).version).toBe(before.version);
      expect(deploys(request.threadId)).toHaveLength(0);

      const mixed = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          settle((runtimes[i % 5] as (typeof runtimes)[number]).answer(i % 3 === 0 ? approve(request) : stale)),
        ),
      );
      expect(mixed.filter((o) => o.ok)).toHaveLength(1);
      for (const o of mixed.filter((m) => !m.ok)) expect(["request_changed", "already_answered"]).toContain(o.code);
      expect(deploys(request.threadId)).toHaveLength(1);
      await expectDoneOnce(request.threadId);
    });

    describe("across processes", () => {
      let worker: string;
      beforeAll(async () => {
        worker = await bundle("../runtime/answer-worker.ts", `runtime-answer-worker-${name.replace(/\W+/g, "-")}`);
      });
      afterAll(() => {
        rmSync(worker, { force: true });
      });

      it("10 processes, each answering through several handles at once: one deploy, the rest already_answered", async () => {
        const request = await pausedDeploy();
        const workers = Array.from({ length: 10 }, () => {
          const w = startWorker(
            worker,
            [backend.spec, request.id, request.argsDigest as string, effects, String(backend.perProcess)],
            {
              stdin: true,
            },
          );
          w.child.stdin?.on("error", () => {});
          return w;
        });
        try {
          await Promise.all(workers.map((w) => w.ready));
          for (const w of workers) w.child.stdin?.write("go\n");
          const exits = await Promise.all(workers.map((w) => w.exit));
          const outcomes: Outcome[] = [];
          for (const exit of exits) {
            expect(exit.code, exit.stderr).toBe(0);
            for (const line of exit.stdout.split("\n")) if (line.startsWith("{")) outcomes.push(JSON.parse(line));
          }
          expectOneWinner(outcomes, 10 * backend.perProcess, request);
          expect(new Set(deploys(request.threadId).map((d) => d.pid)).size).toBe(1);
          await expectDoneOnce(request.threadId);
        } finally {
          for (const w of workers) if (w.child.exitCode === null) w.child.kill("SIGKILL");
        }
      }, 45_000);
    });
  });
}

suite("SQLite file", async (dir) => {
  const path = join(dir, "twelve.db");
  const store = await openStore(path);
  return { spec: path, perProcess: 3, store, handle: () => openStore(path), dispose: () => store.close() };
});

if (!reportPgSkip("concurrent answers to one request: PostgreSQL")) {
  suite("PostgreSQL", async () => {
    const url = PG_URL as string;
    const schema = freshSchema("rt_race");
    const store: PostgresThreadStore = await openPostgresStore({ url, schema });
    const spec = `${url}${url.includes("?") ? "&" : "?"}schema=${schema}`;
    return {
      spec,
      perProcess: 2,
      store,
      handle: () => openPostgresStore({ url, schema, max: 2 }),
      dispose: async () => {
        await store.dropSchema();
        await store.close();
      },
    };
  });
}

describe("a runtime that names its lease owner", () => {
  it("a late answer through it while a deploy is in flight neither frees the thread for a second run nor fails the first", async () => {
    const effects: Effect[] = [];
    let enter: () => void = () => {};
    const entered = new Promise<void>((resolve) => {
      enter = resolve;
    });
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let calls = 0;
    const agent = opsAgent(effects, {
      beforeDeploy: () => {
        if (++calls > 1) return;
        enter();
        return gate;
      },
    });
    const store = memoryStore();
    // A worker process that names itself (as sweepers and servers do), with a short lease renewed in the background.
    const worker = createRuntime({ store, agents: agent, model: plannerModel(), owner: "worker-1", leaseTtlMs: 600 });
    const human = createRuntime({ store, agents: agent, model: plannerModel(), answerWaitMs: 5_000 });
    const request = (await worker.start(agent, "deploy:v1.0.0:production")).request as HumanRequest;

    const first = settle(worker.answer(approve(request)));
    await entered;
    // A duplicate delivery reaches the same worker while the deploy runs.
    const late = settle(worker.answer(approve(request)));
    await new Promise((r) => setTimeout(r, 50));
    // Meanwhile the thread shows `deploy_started` with no result: a person sees an uncertain request and asks to run it again.
    const visible = humanRequest(await store.load(request.threadId));
    expect(visible?.kind).toBe("uncertain");
    const rerun = settle(human.answer(runAgain(visible as HumanRequest, { by: { id: "ops", via: "inbox" } })));
    await new Promise((r) => setTimeout(r, 300));
    open();

    const [a, b, c] = await Promise.all([first, late, rerun]);
    expect(effects, "the deploy ran twice").toHaveLength(1);
    expect(a, JSON.stringify(a)).toMatchObject({ ok: true, duplicate: false });
    expect(b.code).toBe("already_answered");
    expect(c.code).toBe("already_answered");
    const final = await store.load(request.threadId);
    expect(threadState(final).status).toBe("done");
  });
});
