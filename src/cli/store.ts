import { accessSync, constants, type Stats, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { TwelveError } from "../errors/index.js";
import { openStore } from "../store/open.js";
import { DEFAULT_SQLITE_PATH } from "../store/sqlite/store.js";
import type { ThreadStore } from "../store/types.js";
import { explainError } from "./errors.js";

/**
 * The SQLite file a store spec names (as openStore reads it), or undefined
 * for PostgreSQL and memory stores.
 */
export function sqliteFile(spec: string | undefined, cwd: string): string | undefined {
  const value = spec?.trim();
  if (!value) return resolve(cwd, DEFAULT_SQLITE_PATH);
  if (value === "memory:" || value === "memory" || /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return undefined;
  const path = value.startsWith("sqlite:") ? value.slice("sqlite:".length) : value;
  return path === ":memory:" ? undefined : resolve(cwd, path);
}

/** The store's name in error messages: its SQLite file, else the spec without a password. */
export function storeName(spec: string | undefined, cwd: string): string {
  const file = sqliteFile(spec, cwd);
  if (file) return file;
  return (spec ?? "").replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:***@");
}

/**
 * openStore for the CLI: a directory, a path under a file, an unwritable
 * directory, a read-only file or a SQLite driver that cannot load become one
 * TwelveError naming the store, never a stack trace.
 */
export async function openCliStore(spec: string | undefined, cwd: string): Promise<ThreadStore> {
  const file = sqliteFile(spec, cwd);
  if (file) checkSqlitePath(file, spec);
  try {
    return await openStore(spec, { cwd });
  } catch (error) {
    const explained = explainError(error, storeName(spec, cwd));
    // A TwelveError that already says what is wrong (not a twelve store, newer schema, corrupt) stands as is.
    if (!explained || explained === error) throw error;
    // SQLite's own problems already name the store; the others get its name here.
    if (!["sqlite_driver", "io_error", "network_error"].includes(explained.code)) throw explained;
    throw new TwelveError(
      explained.code,
      `cannot open the thread store ${storeName(spec, cwd)}: ${explained.message}`,
      explained.details,
      { cause: error },
    );
  }
}

/** statSync, undefined when nothing is there (ENOENT) or a parent is not a directory (ENOTDIR). */
function stat(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw error;
  }
}

/** Refuses, before SQLite does with "unable to open database file", a store path that cannot work. */
function checkSqlitePath(file: string, spec: string | undefined): void {
  const found = stat(file);
  if (found?.isDirectory()) {
    throw new TwelveError(
      "store_config",
      `${spec ? "--store" : "the default store"} ${file} is a directory; give a SQLite file, e.g. --store ${join(file, "twelve.db")}`,
      { path: file },
    );
  }
  if (found) return;
  // A new store file is created with its directories: the nearest existing ancestor must be a writable directory.
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const up = stat(dir);
    if (up && !up.isDirectory()) {
      throw new TwelveError(
        "store_config",
        `cannot create the thread store ${file}: ${dir} is a file, not a directory`,
        { path: file },
      );
    }
    if (up) {
      try {
        accessSync(dir, constants.W_OK);
      } catch (error) {
        throw new TwelveError(
          "store_readonly",
          `cannot create the thread store ${file}: the directory ${dir} is not writable by this user (${(error as NodeJS.ErrnoException).code})`,
          { path: file },
        );
      }
      return;
    }
    if (dirname(dir) === dir) return;
  }
}
