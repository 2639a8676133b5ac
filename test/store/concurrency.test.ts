import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { approve } from "../../src/agent/events.js";
import { resumeStored, startStored } from "../../src/runtime/index.js";
import { openPostgresStore, type PostgresThreadStore } from "../../src/store/postgres/index.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import type { ThreadStore } from "../../src/store/types.js";
import { type HumanRequest, humanRequest } from "../../src/thread/request.js";
import { threadState } from "../../src/thread/status.js";
import { deploybotAgent, planningModel, readEffects } from "../crash/fixtures/agents.js";
import { bundle, startWorker } from "../crash/harness.js";
import { freshSchema, PG_URL, reportPgSkip } from "./pg-env.js";

interface Outcome {
  ok: boolean;
  duplicate?: boolean;
  code?: string;
  message?: string;
}

/** A deploybot thread paused before its deploy, awaiting approval. */
async function pausedThread(store: ThreadStore, effects: string) {
  const thread = await startStored(store, deploybotAgent(effects), "deploy:v9.9.9", { model: planningModel() });
  expect(threadState(thread).status).toBe("awaiting_approval");
  // What every racer was shown: the request's id and the digest of the arguments awaiting approval.
  const request = humanRequest(thread) as HumanRequest;
  expect(request).toMatchObject({ kind: "approval", intent: "deploy_backend", argsDigest: expect.any(String) });
  return { thread, request };
}

function checkOneWinner(outcomes: Outcome[], effects: string, threadId: string) {
  const winners = outcomes.filter((o) => o.ok && !o.duplicate);
  const losers = outcomes.filter((o) => !o.ok);
  expect(outcomes).toHaveLength(50);
  expect(winners).toHaveLength(1);
  expect(losers).toHaveLength(49);
  // Every loser is told plainly that someone else answered first.
  for (const l of losers) {
    expect(l.code).toBe("already_answered");
    expect(l.message).toMatch(/already answered/);
  }
  const deploys = readEffects(effects).filter((e) => e.thread === threadId && e.intent === "deploy_backend");
  expect(deploys).toHaveLength(1);
}

async function checkStoredThread(store: ThreadStore, threadId: string) {
  const final = await store.load(threadId);
  expect(threadState(final).status).toBe("done");
  expect(final.events.filter((e) => e.type === "approval")).toHaveLength(1);
  expect(final.events.filter((e) => e.type === "deploy_backend_started")).toHaveLength(1);
  expect(final.events.filter((e) => e.type === "deploy_backend_result")).toHaveLength(1);
}

describe("50 concurrent resumes of one paused thread", () => {
  it("SQLite, 5 processes × 10 database handles: exactly one approval wins and the deploy runs once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "twelve-race-"));
    const path = join(dir, "twelve.db");
    const effects = join(dir, "effects");
    const worker = await bundle("../store/resume-worker.ts", "resume-worker");
    const store = await openSqliteStore({ path });
    try {
      const { thread, request } = await pausedThread(store, effects);
      const workers = Array.from({ length: 5 }, () => {
        const w = startWorker(worker, [path, thread.id, request.id, request.argsDigest as string, effects, "10"], {
          stdin: true,
        });
        w.child.stdin?.on("error", () => {});
        return w;
      });
      await Promise.all(workers.map((w) => w.ready));
      for (const w of workers) w.child.stdin?.write("go\n");
      const exits = await Promise.all(workers.map((w) => w.exit));
      const outcomes: Outcome[] = [];
      for (const exit of exits) {
        expect(exit.code, exit.stderr).toBe(0);
        for (const line of exit.stdout.split("\n")) if (line.startsWith("{")) outcomes.push(JSON.parse(line));
      }
      checkOneWinner(outcomes, effects, thread.id);
      await checkStoredThread(store, thread.id);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
      rmSync(worker, { force: true });
    }
  }, 120_000);

  it("SQLite: 50 duplicate deliveries with one idempotency key append once and run once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "twelve-dup-"));
    const effects = join(dir, "effects");
    const path = join(dir, "twelve.db");
    const store = await openSqliteStore({ path });
    const handles = await Promise.all(Array.from({ length: 50 }, () => openSqliteStore({ path })));
    try {
      const { thread, request } = await pausedThread(store, effects);
      const agent = deploybotAgent(effects);
      const results = await Promise.all(
        handles.map((h) =>
          resumeStored(h, agent, thread.id, approve(request, { idempotencyKey: "slack-action-123" }), {
            model: planningModel(),
          }),
        ),
      );
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(results.filter((r) => r.duplicate)).toHaveLength(49);
      expect(readEffects(effects).filter((e) => e.intent === "deploy_backend")).toHaveLength(1);
      await checkStoredThread(store, thread.id);
    } finally {
      for (const h of handles) await h.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

if (!reportPgSkip("50 concurrent resumes: PostgreSQL")) {
  describe("50 concurrent resumes of one paused thread: PostgreSQL", () => {
    it("50 separate clients: exactly one approval wins and the deploy runs once", async () => {
      const dir = mkdtempSync(join(tmpdir(), "twelve-race-pg-"));
      const effects = join(dir, "effects");
      const schema = freshSchema("race");
      const url = PG_URL as string;
      const store = await openPostgresStore({ url, schema });
      // One pool of one connection per racer: 50 separate database sessions.
      const clients: PostgresThreadStore[] = [];
      try {
        for (let i = 0; i < 50; i++) clients.push(await openPostgresStore({ url, schema, max: 1 }));
        const { thread, request } = await pausedThread(store, effects);
        const agent = deploybotAgent(effects);
        const outcomes: Outcome[] = await Promise.all(
          clients.map((c, i) =>
            resumeStored(c, agent, thread.id, approve(request, { by: { id: `user${i}`, via: "api" } }), {
              model: planningModel(),
              owner: `client-${i}`,
              leaseWaitMs: 30_000,
            }).then(
              (r) => ({ ok: true, duplicate: r.duplicate }),
              (e: { code?: string; message?: string }) => ({ ok: false, code: e.code, message: e.message }),
            ),
          ),
        );
        checkOneWinner(outcomes, effects, thread.id);
        await checkStoredThread(store, thread.id);
      } finally {
        for (const c of clients) await c.close();
        await store.dropSchema();
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  });
}
