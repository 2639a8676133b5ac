import type BetterSqlite3 from "better-sqlite3";

export type SqliteDriver = typeof BetterSqlite3;

/**
 * better-sqlite3 12 is the last major that runs on Node 20, and on Node
 * 24.19+ its statements can abort the process when the garbage collector
 * finalizes them (an ObjectWrap cleanup-hook assertion; fixed in 13, which
 * needs Node 22). The package depends on `better-sqlite3@^12.11.1 || ^13.2.0`,
 * and npm installs the newest version whose `engines` match the installing
 * Node: 13 on Node 22+, 12 on Node 20, one driver either way. This
 * repository's lockfile pins 12, so on Node 22+ it also gets 13 as
 * `better-sqlite3-13` (an optional dependency of its private workspace
 * packages/dev-drivers). Node 22+ loads that alias when present, else
 * `better-sqlite3`; Node 20 loads `better-sqlite3`.
 */
export async function loadSqliteDriver(): Promise<SqliteDriver> {
  const major = Number(process.versions.node.split(".")[0]);
  if (major >= 22) {
    try {
      // @ts-expect-error -- an npm alias of better-sqlite3 13, in this repository only; absent elsewhere.
      return (await import("better-sqlite3-13")).default as SqliteDriver;
    } catch {
      // not installed (always so for users of the package): `better-sqlite3` below
    }
  }
  return (await import("better-sqlite3")).default;
}
