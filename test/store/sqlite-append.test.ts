import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openSqliteStore, type SqliteThreadStore } from "../../src/store/sqlite/index.js";
import type { Event, PolicyName } from "../../src/thread/event.js";
import { threadState } from "../../src/thread/status.js";
import { createThread } from "../../src/thread/thread.js";

const at = "2025-01-01T00:00:00.000Z";
const user: Event = { id: "u", type: "user_message", data: "go", at };
const step = (id: string, policy: PolicyName, env = "prod"): Event => ({
  id,
  type: "deploy",
  data: { intent: "deploy", env },
  at,
  meta: { kind: "step", intent: "deploy", policy },
});

describe("SQLite append: the summary and status without reading rows back", () => {
  let dir: string;
  let store: SqliteThreadStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "twelve-append-"));
    store = await openSqliteStore({ path: join(dir, "t.db") });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a rolled-back batch leaves nothing behind that a later append would use", async () => {
    await store.create(createThread("a", [user], { id: "thr" }));
    // The step is inserted, then the duplicate id fails the batch: the transaction rolls back.
    await expect(
      store.append("thr", [step("s1", "approve"), { ...user, id: "u" }], { expectedVersion: 1 }),
    ).rejects.toMatchObject({ code: "invalid_event" });
    // Another process stores a different step under the same id (policy "run").
    const other = await openSqliteStore({ path: join(dir, "t.db") });
    await other.append("thr", [step("s1", "run", "staging")], { expectedVersion: 1 });
    await other.close();
    // A started marker without arguments: the pending request takes them from the step it refers to,
    // which must be the stored one, not the rolled-back one.
    const started: Event = {
      id: "st",
      type: "deploy_started",
      data: {},
      at,
      meta: { kind: "started", stepId: "s1", intent: "deploy" },
    };
    const result = await store.append("thr", [started], { expectedVersion: 2 });
    const loaded = await store.load("thr");
    expect(result.summary.status).toBe(threadState(loaded).status);
    expect(result.summary.pending).toEqual(threadState(loaded).pending);
    expect(result.summary.pending).toMatchObject({ kind: "uncertain", arguments: { env: "staging" } });
    expect(await store.summary("thr")).toEqual(result.summary);
  });

  it("the summary an append returns equals the stored one", async () => {
    await store.create(createThread("a", [user], { id: "thr" }));
    const r1 = await store.append("thr", [step("s1", "approve")], { expectedVersion: 1 });
    expect(r1.summary).toEqual(await store.summary("thr"));
    expect(r1.summary).toMatchObject({ status: "awaiting_approval", version: 2, pendingKind: "approval" });
    const approval: Event = { id: "ap", type: "approval", data: { approved: true }, at, meta: { stepId: "s1" } };
    const r2 = await store.append("thr", [approval], { expectedVersion: 2, idempotencyKey: "k" });
    expect(r2.summary).toEqual(await store.summary("thr"));
    expect(r2.appended).toStrictEqual([approval]);
  });
});
