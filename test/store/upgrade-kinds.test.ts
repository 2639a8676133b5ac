import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgresStore, PG_MIGRATIONS } from "../../src/store/postgres/index.js";
import { loadSqliteDriver } from "../../src/store/sqlite/driver.js";
import { openSqliteStore, SQLITE_MIGRATIONS } from "../../src/store/sqlite/index.js";
import type { ListFilter, ThreadStore } from "../../src/store/types.js";
import type { Event, EventMeta } from "../../src/thread/event.js";
import { threadState } from "../../src/thread/status.js";
import { createThread, type Thread } from "../../src/thread/thread.js";
import { freshSchema, PG_URL, reportPgSkip } from "./pg-env.js";

/**
 * Store schema 4 renamed the pending request kinds. A database written at
 * schema 3 holds the old strings in `pending_kind` and in `pending.kind`; the
 * current store must rewrite both on open, so lists by the new kinds find
 * every paused thread and summaries agree with threadState().
 */

const Database = await loadSqliteDriver();

const AGENT = "upgrader";
const at = (s: number) => new Date(Date.UTC(2025, 0, 2, 9, 0, s)).toISOString();
const ev = (id: string, s: number, type: string, data: unknown, meta?: EventMeta): Event =>
  meta ? { id, type, data, at: at(s), meta } : { id, type, data, at: at(s) };
const trigger = ev("e1", 0, "user_message", { text: "deploy v2" });
const step = (policy: EventMeta["policy"], intent: string, data: Record<string, unknown> = {}) =>
  ev("e2", 1, intent, { intent, ...data }, { kind: "step", policy, intent });

interface Case {
  id: string;
  old: string;
  now: string;
  events: Event[];
  archived?: boolean;
}

const CASES: Case[] = [
  { id: "thr_approval", old: "approval", now: "approval", events: [trigger, step("approve", "deploy", { tag: "v2" })] },
  {
    id: "thr_question",
    old: "human_input",
    now: "question",
    events: [
      trigger,
      step("human", "request_human_input", {
        question: "Which env?",
        options: { format: "multiple_choice", choices: ["a", "b"] },
      }),
    ],
  },
  // The loop's own escalation question: also `human_input` before, `question` now. Archived rows upgrade too.
  {
    id: "thr_escalation",
    old: "human_input",
    now: "question",
    archived: true,
    events: [trigger, ev("e2", 1, "escalation", { question: "Too many errors; what now?" })],
  },
  {
    id: "thr_async",
    old: "external_result",
    now: "async",
    events: [trigger, step("async", "run_ci", { ref: "main" })],
  },
  {
    id: "thr_uncertain",
    old: "uncertain_execution",
    now: "uncertain",
    events: [
      trigger,
      step("run", "charge", { amount: 5 }),
      ev("e3", 2, "charge_started", { arguments: { amount: 5 } }, { kind: "started", stepId: "e2", intent: "charge" }),
    ],
  },
];
const OLD_ONLY = ["human_input", "external_result", "uncertain_execution"];

/** The pending request as schema 3 stored it: old kind, no `at`, and no `intent` on questions. */
function oldPending(c: Case, thread: Thread): Record<string, unknown> {
  const { at: _at, ...rest } = threadState(thread).pending as Record<string, unknown>;
  if (c.now === "question") delete rest.intent;
  return { ...rest, kind: c.old };
}

/** Writes every case with the current store, then returns what the rows must hold after the upgrade. */
async function seed(store: ThreadStore): Promise<Map<string, { thread: Thread; updatedAt: string }>> {
  const seeded = new Map<string, { thread: Thread; updatedAt: string }>();
  for (const c of CASES) {
    const thread = await store.create(createThread(AGENT, c.events, { id: c.id }));
    if (c.archived) await store.archive(c.id);
    seeded.set(c.id, { thread, updatedAt: (await store.summary(c.id)).updatedAt });
  }
  return seeded;
}

const list = async (store: ThreadStore, pendingKind: string) =>
  (await store.list({ agent: AGENT, includeArchived: true, pendingKind } as ListFilter)).threads
    .map((s) => s.id)
    .sort();

async function expectUpgraded(store: ThreadStore, seeded: Map<string, { thread: Thread; updatedAt: string }>) {
  for (const c of CASES) {
    const before = seeded.get(c.id) as { thread: Thread; updatedAt: string };
    const loaded = await store.load(c.id);
    expect(loaded.events).toEqual(before.thread.events);
    const summary = await store.summary(c.id);
    const state = threadState(loaded);
    expect(summary.pendingKind, c.id).toBe(c.now);
    expect(summary.pending?.kind, c.id).toBe(c.now);
    expect(summary.pending?.kind).toBe(state.pending?.kind);
    expect(summary.pending?.stepId).toBe(state.pending?.stepId);
    // The rename is not an update: the thread keeps its place in "recently updated".
    expect(summary.updatedAt).toBe(before.updatedAt);
    expect(Boolean(summary.archivedAt)).toBe(Boolean(c.archived));
  }
  for (const now of new Set(CASES.map((c) => c.now))) {
    expect(await list(store, now), now).toEqual(
      CASES.filter((c) => c.now === now)
        .map((c) => c.id)
        .sort(),
    );
  }
  for (const old of OLD_ONLY) expect(await list(store, old), old).toEqual([]);
}

describe("SQLite store: schema 3 pending kinds upgrade to the new names", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "twelve-sqlite-kinds-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("rewrites pending_kind and pending.kind once, keeping events and updatedAt", async () => {
    const path = join(dir, "v3.db");
    const fresh = await openSqliteStore({ path });
    const seeded = await seed(fresh);
    await fresh.close();

    // Back to schema 3: the rows as that version wrote them.
    const raw = new Database(path);
    const put = raw.prepare("UPDATE twelve_threads SET pending_kind = ?, pending = ? WHERE id = ?");
    for (const c of CASES) {
      const thread = seeded.get(c.id)?.thread as Thread;
      put.run(c.old, JSON.stringify(oldPending(c, thread)), c.id);
    }
    raw.pragma("user_version = 3");
    const rows = raw
      .prepare("SELECT pending_kind AS c, json_extract(pending, '$.kind') AS k FROM twelve_threads")
      .all();
    for (const r of rows as { c: string; k: string }[]) expect(r.c).toBe(r.k);
    expect((rows as { k: string }[]).map((r) => r.k).sort()).toEqual(CASES.map((c) => c.old).sort());
    raw.close();

    const store = await openSqliteStore({ path });
    try {
      expect(store.db.pragma("user_version", { simple: true })).toBe(SQLITE_MIGRATIONS.length);
      await expectUpgraded(store, seeded);
    } finally {
      await store.close();
    }
    // Opening again changes nothing.
    const again = await openSqliteStore({ path });
    try {
      await expectUpgraded(again, seeded);
    } finally {
      await again.close();
    }
  });
});

if (!reportPgSkip("PostgreSQL store: schema 3 pending kinds upgrade to the new names")) {
  describe("PostgreSQL store: schema 3 pending kinds upgrade to the new names", () => {
    const url = PG_URL as string;
    const schema = freshSchema("kinds");
    let admin: pg.Pool;
    beforeAll(() => {
      admin = new pg.Pool({ connectionString: url, max: 2 });
    });
    afterAll(async () => {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    });

    it("rewrites pending_kind and pending.kind once, keeping events and updatedAt", async () => {
      const fresh = await openPostgresStore({ url, schema });
      const seeded = await seed(fresh);
      await fresh.close();

      // Back to migration 3: the rows as that version wrote them.
      for (const c of CASES) {
        const thread = seeded.get(c.id)?.thread as Thread;
        await admin.query(`UPDATE "${schema}".twelve_threads SET pending_kind = $2, pending = $3 WHERE id = $1`, [
          c.id,
          c.old,
          JSON.stringify(oldPending(c, thread)),
        ]);
      }
      await admin.query(`DELETE FROM "${schema}".twelve_migrations WHERE version > 3`);
      const { rows } = await admin.query(
        `SELECT pending_kind AS c, pending->>'kind' AS k FROM "${schema}".twelve_threads`,
      );
      for (const r of rows) expect(r.c).toBe(r.k);
      expect(rows.map((r) => r.k).sort()).toEqual(CASES.map((c) => c.old).sort());

      const store = await openPostgresStore({ url, schema });
      try {
        const migrated = await admin.query(`SELECT version FROM "${schema}".twelve_migrations ORDER BY version`);
        expect(migrated.rows.map((r) => r.version)).toEqual(PG_MIGRATIONS.map((m) => m.version));
        await expectUpgraded(store, seeded);
      } finally {
        await store.close();
      }
      const again = await openPostgresStore({ url, schema });
      try {
        await expectUpgraded(again, seeded);
      } finally {
        await again.close();
      }
    });
  });
}
