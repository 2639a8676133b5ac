import { isTwelveError, TwelveError } from "../errors/index.js";

/**
 * Exit codes of every `twelve` command (docs/cli.md). Errors print one line
 * on stderr, `twelve: <message> [<code>]`; only an internal error (70) adds
 * a stack trace.
 */
export const EXIT = {
  /** `run`: the thread finished; any other command: it succeeded. */
  done: 0,
  /** `run`: the thread failed. */
  failed: 1,
  /** Bad input or configuration, a refused answer, a store that cannot be opened or written, no SQLite driver. */
  usage: 2,
  /** `run`: paused, awaiting an answer (the command that answers it is printed). */
  paused: 3,
  /** Temporarily unavailable (a lease held by another run, a version conflict, rate limited, network, store busy): try again. */
  retry: 4,
  /** A bug: an error twelve did not expect (printed with its stack trace). */
  internal: 70,
  /** Standard output could not be written (disk full, I/O error). */
  ioError: 74,
  /** Ctrl-C or SIGTERM (also Ctrl-C at a prompt): the thread is saved and resumes with --thread <id>. */
  interrupted: 130,
  /** The reader of standard output went away (`| head -1`): the rest of the output is dropped, quietly. */
  outputClosed: 141,
} as const;

/** `twelve --help` and `twelve run --help`: the table above, for people. */
export const EXIT_CODES_HELP = `
Exit codes:
  0    done: the thread finished (run), or the command succeeded
  1    the thread failed (run)
  2    bad input or configuration, or a refused answer (already answered, arguments changed, not allowed);
       also a store that cannot be opened or written, or a SQLite driver that cannot load
  3    paused, awaiting an answer (run prints the command that answers it)
  4    temporarily unavailable (the thread is busy in another run, rate limited, network, store busy): try again
  70   internal error: a bug in twelve (printed with its stack trace; please report it)
  74   standard output could not be written (disk full, I/O error)
  130  interrupted (Ctrl-C, SIGTERM, or Ctrl-C at a prompt): the thread is saved; resume it with --thread <id>
  141  standard output was closed early (e.g. | head): the rest of the output is dropped
Errors print one line on stderr: twelve: <message> [<code>]`;

/** Ctrl-C at an @inquirer prompt ends the prompt with this error; the thread stays paused. */
export function isPromptExit(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "ExitPromptError";
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, " ").trim();

/** The error and the causes it wraps (a driver error may arrive as the cause of another). */
function* chain(error: unknown): Generator<unknown> {
  const seen = new Set<unknown>();
  for (let e = error; e !== undefined && e !== null && !seen.has(e) && seen.size < 8; ) {
    seen.add(e);
    yield e;
    e = (e as { cause?: unknown }).cause;
  }
}

/**
 * A SQLite driver (better-sqlite3) whose native module cannot load: not
 * built for this platform ("Could not locate the bindings file"), built for
 * another Node.js ("was compiled against a different Node.js version using
 * NODE_MODULE_VERSION …"), or any other `ERR_DLOPEN_FAILED` (a missing
 * system library, a wrong architecture). Returns a TwelveError saying how to
 * fix it, or undefined for any other error.
 */
export function sqliteDriverError(error: unknown): TwelveError | undefined {
  for (const e of chain(error)) {
    if (isTwelveError(e) && e.code === "sqlite_driver") return e;
    const message = typeof (e as Error)?.message === "string" ? (e as Error).message : "";
    const code = (e as { code?: unknown })?.code;
    const missing = message.includes("Could not locate the bindings file");
    const abi = message.includes("NODE_MODULE_VERSION") || message.includes("compiled against a different Node.js");
    if (!missing && !abi && code !== "ERR_DLOPEN_FAILED") continue;
    // The messages name the module's path; another native module's failure is not ours to explain.
    if (!/sqlite/i.test(message)) continue;
    const pkg =
      /node_modules[\\/]((?:@[^\\/]+[\\/])?better-sqlite3[^\\/]*)[\\/]/.exec(message)?.[1] ?? "better-sqlite3";
    const versions = /NODE_MODULE_VERSION (\d+)[\s\S]*?NODE_MODULE_VERSION (\d+)/.exec(message);
    const why = missing
      ? "its native module is missing (no prebuilt binary fit this platform and none was compiled at install; compiling needs python3, make and a C++ compiler)"
      : versions
        ? `its native module was built for another Node.js (NODE_MODULE_VERSION ${versions[1]}; this Node.js ${process.version} needs ${versions[2]})`
        : abi
          ? `its native module was built for another Node.js, not ${process.version}`
          : `its native module cannot be loaded (${oneLine(message).slice(0, 200)})`;
    return new TwelveError(
      "sqlite_driver",
      `the SQLite driver ${pkg} cannot load: ${why}; run "npm rebuild ${pkg}" with the Node.js that runs twelve, or use another store (--store postgres://… or --store memory:)`,
      { package: pkg, node: process.version, modules: process.versions.modules },
      { cause: e },
    );
  }
  return undefined;
}

/** SQLite's error codes for a store this user cannot use: the code twelve prints, what happened, what to do. */
const WRITABLE = "check that the store file and its directory are writable by this user, or use another --store";
const SQLITE_PROBLEMS: [RegExp, string, (store: string) => string, string][] = [
  [/^SQLITE_(READONLY|PERM|AUTH)/, "store_readonly", (store) => `the thread store${store} is read-only`, WRITABLE],
  [/^SQLITE_CANTOPEN/, "io_error", (store) => `cannot open the thread store${store}`, WRITABLE],
  [
    /^SQLITE_(BUSY|LOCKED)/,
    "store_busy",
    (store) => `the thread store${store} is locked by another process`,
    "try again when it is done",
  ],
  [/^SQLITE_FULL/, "store_full", (store) => `the disk holding the thread store${store} is full`, "free some space"],
  [
    /^SQLITE_IOERR/,
    "store_io_error",
    (store) => `the thread store${store} could not be read or written`,
    "check the disk and the file's permissions",
  ],
];

const FS_CODES = new Set(["EACCES", "EPERM", "EROFS", "ENOTDIR", "EISDIR", "EEXIST", "ENOENT", "ENOSPC", "EDQUOT"]);
const NET_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);

/**
 * The one-line error the CLI prints for `error` (exit 2), or undefined for
 * an error it does not expect (a bug: exit 70 with the stack trace).
 * `store` names the store in messages about it.
 */
export function explainError(error: unknown, store?: string): TwelveError | undefined {
  const driver = sqliteDriverError(error);
  if (driver) return driver;
  if (isTwelveError(error)) return error;
  const e = error as (Error & { code?: unknown; syscall?: unknown; path?: unknown }) | null;
  if (!e || typeof e !== "object") return undefined;
  const code = typeof e.code === "string" ? e.code : "";
  for (const [pattern, twelveCode, what, advice] of SQLITE_PROBLEMS) {
    if (pattern.test(code)) {
      return new TwelveError(
        twelveCode,
        `${what(store ? ` ${store}` : "")}: ${oneLine(e.message)} (${code}); ${advice}`,
        { sqliteCode: code },
        { cause: e },
      );
    }
  }
  if (FS_CODES.has(code) && typeof e.syscall === "string") {
    // Node's message names the call and the path: "EACCES: permission denied, mkdir '/x'".
    return new TwelveError("io_error", oneLine(e.message), { errno: code }, { cause: e });
  }
  // A PostgreSQL store (or another server) that cannot be reached.
  if (NET_CODES.has(code)) return new TwelveError("network_error", oneLine(e.message), { errno: code }, { cause: e });
  if (e instanceof RangeError && /call stack/i.test(e.message)) {
    return new TwelveError(
      "too_deeply_nested",
      "a value is too deeply nested to process (Maximum call stack size exceeded)",
      undefined,
      { cause: e },
    );
  }
  return undefined;
}
