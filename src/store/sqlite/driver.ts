import type BetterSqlite3 from "better-sqlite3";

export type SqliteDriver = typeof BetterSqlite3;

/**
 * better-sqlite3 12 is the last major that runs on Node 20, and on Node
 * 24.19+ its statements can abort the process when the garbage collector
 * finalizes them (an ObjectWrap cleanup-hook assertion; fixed in 13, which
 * needs Node 22). So Node 22+ loads 13 (installed as the optional
 * dependency `better-sqlite3-13`) and falls back to 12; Node 20 loads 12.
 */
export async function loadSqliteDriver(): Promise<SqliteDriver> {
  const major = Number(process.versions.node.split(".")[0]);
  if (major >= 22) {
    try {
      // @ts-expect-error -- an npm alias of better-sqlite3 13; it may be absent (it is optional).
      return (await import("better-sqlite3-13")).default as SqliteDriver;
    } catch {
      // not installed: use 12 below
    }
  }
  return (await import("better-sqlite3")).default;
}
