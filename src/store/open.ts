import { StoreInputError } from "./errors.js";
import { MemoryThreadStore } from "./memory.js";
import type { ThreadStore } from "./types.js";

/**
 * Opens a store from one string, as the CLI and server take it:
 * nothing → the SQLite file `.twelve/twelve.db` under `cwd`;
 * `postgres://…` / `postgresql://…` → PostgreSQL;
 * `sqlite:<path>` or a path → that SQLite file; `memory:` → in memory.
 * The drivers load only for the store asked for.
 */
export async function openStore(spec?: string, options: { cwd?: string } = {}): Promise<ThreadStore> {
  const value = spec?.trim();
  if (!value) {
    const { openSqliteStore } = await import("./sqlite/store.js");
    return openSqliteStore(options.cwd ? { cwd: options.cwd } : {});
  }
  if (value === "memory:" || value === "memory") return new MemoryThreadStore();
  if (/^postgres(ql)?:\/\//.test(value)) {
    const { openPostgresStore } = await import("./postgres/store.js");
    const url = new URL(value);
    // `?schema=name` picks the schema; it is not a libpq parameter, so strip it before connecting.
    const schema = url.searchParams.get("schema") ?? undefined;
    url.searchParams.delete("schema");
    return openPostgresStore(schema ? { url: url.toString(), schema } : { url: url.toString() });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new StoreInputError(
      "store_config",
      `unknown store "${value}": use a SQLite file path, sqlite:<path>, postgres://… or memory:`,
    );
  }
  const path = value.startsWith("sqlite:") ? value.slice("sqlite:".length) : value;
  const { openSqliteStore } = await import("./sqlite/store.js");
  return openSqliteStore(options.cwd ? { path, cwd: options.cwd } : { path });
}
