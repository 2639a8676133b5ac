/**
 * The disk's floor for a durable store on this machine: the median latency of
 * one tiny SQLite commit (WAL mode) with synchronous=FULL (fsync per commit)
 * and NORMAL, through better-sqlite3 — the driver both twelve's store and
 * LangGraph's SqliteSaver use. Printed next to the results, because with FULL
 * every durable framework's per-turn cost is mostly commits × this number.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type BetterSqlite3 from "better-sqlite3";
import { median } from "./stats.js";

const require = createRequire(import.meta.url);

export function commitLatencyUs(synchronous: "FULL" | "NORMAL", commits = 200): number {
  const Database = require("better-sqlite3") as typeof BetterSqlite3;
  const dir = mkdtempSync(join(tmpdir(), "bench-disk-"));
  const db = new Database(join(dir, "probe.db"));
  try {
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${synchronous}`);
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
    const insert = db.prepare("INSERT INTO t (body) VALUES (?)");
    const times: number[] = [];
    for (let i = 0; i < commits; i++) {
      const t0 = performance.now();
      insert.run(`{"event":${i}}`);
      times.push((performance.now() - t0) * 1000);
    }
    return median(times);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function diskLine(): string {
  const full = commitLatencyUs("FULL");
  const normal = commitLatencyUs("NORMAL");
  return `synchronous=FULL ${full.toFixed(0)} µs, NORMAL ${normal.toFixed(0)} µs`;
}
