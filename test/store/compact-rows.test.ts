import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import { decodeEvent, encodeEvent } from "../../src/store/rows.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import type { Event, EventMeta } from "../../src/thread/event.js";
import { createThread } from "../../src/thread/thread.js";
import { freshSchema, PG_URL, reportPgSkip } from "./pg-env.js";

/** Meta keys twelve does not declare: stores must keep them as written. */
const unknownKeys = (meta: Record<string, unknown>) => meta as EventMeta;

/** Events that stress the compact row format: odd times, no meta, every JSON shape of data. */
const odd: Event[] = [
  { id: "e1", type: "user_message", data: "plain text", at: "2025-03-01T10:00:00.123Z" },
  { id: "e2", type: "note", data: null, at: "2025-03-01T10:00:00Z" }, // no milliseconds: not canonical
  { id: "e3", type: "note", data: [1, "two", null, { three: [3] }], at: "2025-03-01T11:00:00.000+01:00" },
  { id: "e4", type: "note", data: { nested: { deep: [true, false] }, empty: {} }, at: "2025-03-01T10:00:01.000Z" },
  { id: "e5", type: "note", data: 0, at: "2025-03-01T10:00:02.5Z", meta: { kind: "result", stepId: "e4" } },
  { id: "e6", type: "note", data: "", at: "2025-03-01T10:00:03.000Z", meta: {} },
  { id: "e7", type: "note", data: false, at: "+002025-03-01T10:00:04.000Z" },
  {
    id: "e8",
    type: "note",
    data: 'ünïcødé ✓ \u2028 "quotes"',
    at: "2025-03-01T10:00:05.000Z",
    meta: unknownKeys({ a: [null] }),
  },
  { id: "e9", type: "note", data: [], at: "1970-01-01T00:00:00.000Z" },
  { id: "e10", type: "note", data: -1.5e-7, at: "2025-03-01T10:00:06.999Z", meta: unknownKeys({ nested: { x: "y" } }) },
];

describe("compact event rows (store schema 3)", () => {
  it("encodes only what the columns do not hold, and decodes every odd event exactly", () => {
    for (const [i, e] of odd.entries()) {
      const { body, atMs } = encodeEvent(e);
      expect(body).not.toContain(`"id":"${e.id}"`);
      expect(body).not.toContain(`"type":`);
      if (atMs !== null) {
        expect(new Date(atMs).toISOString()).toBe(e.at);
        expect(body).not.toContain(e.at);
      } else expect(JSON.parse(body).at).toBe(e.at);
      const back = decodeEvent({ seq: i + 1, id: e.id, type: e.type, at_ms: atMs, body }, "thr");
      expect(back).toStrictEqual(e);
      // Same key order as the event model (what JSON renderers and state-size counts see).
      expect(JSON.stringify(back)).toBe(JSON.stringify(e));
    }
    // Canonical times become integers; others keep their string.
    expect(odd.map((e) => encodeEvent(e).atMs !== null)).toEqual([
      true,
      false,
      false,
      true,
      false,
      true,
      false,
      true,
      true,
      true,
    ]);
  });

  it("reads a row of the old layout (whole event in body, no at_ms) as that event", () => {
    const e = { id: "old", type: "note", data: { x: 1 }, at: "2024-01-01T00:00:00.000Z", meta: { kind: "step" } };
    expect(decodeEvent({ seq: 1, id: "old", type: "note", at_ms: null, body: JSON.stringify(e) }, "t")).toStrictEqual(
      e,
    );
  });

  it("a damaged compact body is store_corrupt, naming thread and event", () => {
    expect(() => decodeEvent({ seq: 7, id: "x", type: "note", at_ms: 1, body: "[]" }, "thr_x")).toThrow(
      /thr_x: event #7/,
    );
    expect(() => decodeEvent({ seq: 2, id: "x", type: "note", at_ms: null, body: "[1]" }, "thr_y")).toThrow(
      /thr_y: event #2/,
    );
  });
});

describe("SQLite store: compact rows round-trip, and legacy rows load exactly", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "twelve-compact-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("create, append and load return the events deep-equal, with legacy rows in the same thread", async () => {
    const path = join(dir, "t.db");
    const store = await openSqliteStore({ path });
    await store.create(createThread("x", odd.slice(0, 4), { id: "thr_odd" }));
    const r = await store.append("thr_odd", odd.slice(4), { expectedVersion: 4, durable: false });
    expect(r.appended).toStrictEqual(odd.slice(4));
    // Rows as twelve wrote them before schema 3: the whole event in body, at_ms NULL.
    const legacy: Event[] = [
      { id: "l1", type: "note", data: "legacy", at: "2024-12-31T23:59:59.999Z", meta: { kind: "step", intent: "x" } },
      { id: "l2", type: "x_result", data: [1], at: "2024-12-31T23:59:59Z" },
    ];
    const insert = store.db.prepare(
      "INSERT INTO twelve_events (thread_id, seq, id, type, body) VALUES ('thr_odd', ?, ?, ?, ?)",
    );
    for (const [i, e] of legacy.entries()) insert.run(11 + i, e.id, e.type, JSON.stringify(e));
    store.db.prepare("UPDATE twelve_threads SET version = 12 WHERE id = 'thr_odd'").run();
    await store.close();

    const reopened = await openSqliteStore({ path });
    try {
      const loaded = await reopened.load("thr_odd");
      expect(loaded.events).toStrictEqual([...odd, ...legacy]);
      // Canonical times went to the integer column.
      const rows = reopened.db
        .prepare("SELECT id, at_ms FROM twelve_events WHERE thread_id = 'thr_odd' ORDER BY seq")
        .all() as { id: string; at_ms: number | null }[];
      expect(rows.filter((x) => x.at_ms !== null).map((x) => x.id)).toEqual(["e1", "e4", "e6", "e8", "e9", "e10"]);
      // A fork copies through the same codec.
      const fork = await reopened.fork("thr_odd", "l2", { id: "thr_fork" });
      expect((await reopened.load(fork.id)).events).toStrictEqual([...odd, ...legacy]);
      // Duplicate appends return the first append's events, decoded.
      const next: Event = { id: "n1", type: "note", data: "k", at: "2025-01-01T00:00:00Z" };
      await reopened.append("thr_odd", [next], { expectedVersion: 12, idempotencyKey: "k1" });
      const dup = await reopened.append("thr_odd", [next], { expectedVersion: 12, idempotencyKey: "k1" });
      expect(dup).toMatchObject({ duplicate: true, appended: [next] });
    } finally {
      await reopened.close();
    }
  });
});

if (!reportPgSkip("PostgreSQL store: compact rows")) {
  describe("PostgreSQL store: compact rows round-trip, and legacy rows load exactly", () => {
    it("create, append and load return the events deep-equal, with legacy rows in the same thread", async () => {
      const schema = freshSchema("compact");
      const store = await openPostgresStore({ url: PG_URL as string, schema });
      try {
        await store.create(createThread("x", odd.slice(0, 4), { id: "thr_odd" }));
        const r = await store.append("thr_odd", odd.slice(4), { expectedVersion: 4 });
        expect(r.appended).toStrictEqual(odd.slice(4));
        const legacy: Event = {
          id: "l1",
          type: "note",
          data: { v: 1 },
          at: "2024-12-31T23:59:59Z",
          meta: unknownKeys({ a: 1 }),
        };
        await store.pool.query(
          `INSERT INTO "${schema}".twelve_events (thread_id, seq, id, type, body) VALUES ('thr_odd', 11, 'l1', 'note', $1::jsonb)`,
          [JSON.stringify(legacy)],
        );
        await store.pool.query(`UPDATE "${schema}".twelve_threads SET version = 11 WHERE id = 'thr_odd'`);
        expect((await store.load("thr_odd")).events).toStrictEqual([...odd, legacy]);
        const { rows } = await store.pool.query(
          `SELECT id FROM "${schema}".twelve_events WHERE thread_id = 'thr_odd' AND at_ms IS NOT NULL ORDER BY seq`,
        );
        expect(rows.map((x: { id: string }) => x.id)).toEqual(["e1", "e4", "e6", "e8", "e9", "e10"]);
        const next: Event = { id: "n1", type: "note", data: "k", at: "2025-01-01T00:00:00.000Z" };
        await store.append("thr_odd", [next], { expectedVersion: 11, idempotencyKey: "k1" });
        const dup = await store.append("thr_odd", [next], { expectedVersion: 11, idempotencyKey: "k1" });
        expect(dup).toMatchObject({ duplicate: true, appended: [next] });
      } finally {
        await store.dropSchema();
        await store.close();
      }
    });
  });
}
