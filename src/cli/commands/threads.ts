import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { isTwelveError, TwelveError } from "../../errors/index.js";
import { MemoryThreadStore } from "../../store/memory.js";
import { DEFAULT_SQLITE_PATH } from "../../store/sqlite/store.js";
import type { ListFilter, ThreadStore, ThreadSummary } from "../../store/types.js";
import type { Event } from "../../thread/event.js";
import { REQUEST_KINDS, THREAD_STATUSES, threadState } from "../../thread/status.js";
import { parseThread } from "../../thread/thread.js";
import { EXIT_CODES_HELP, explainError } from "../errors.js";
import { parseJsonText } from "../json.js";
import { openCliStore, storeName } from "../store.js";

export interface ThreadsIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Reads all of standard input, for `import -` (default: process.stdin). */
  readStdin?: () => Promise<string>;
}

/** Exit codes, as `twelve run`: 0 ok, 2 bad input or configuration (unknown thread, bad file, bad flag). */
const EXIT = { ok: 0, usage: 2 } as const;

const STATUSES: readonly string[] = THREAD_STATUSES;
const PENDING: readonly string[] = REQUEST_KINDS;

/**
 * `twelve threads ls|show|fork|export|import|archive`: inspect and move threads
 * in the store that `twelve run` uses (default `.twelve/twelve.db`; `--store`
 * or $TWELVE_STORE for another SQLite file or a postgres:// URL).
 */
export async function threadsCommand(argv: string[], io: ThreadsIO): Promise<number> {
  let exitCode: number = EXIT.ok;
  let store: ThreadStore | undefined;
  let storeSpec: string | undefined;
  const getStore = async (opts: { store?: string }, create = false) => {
    const spec = opts.store ?? cli.opts().store ?? io.env?.TWELVE_STORE;
    storeSpec = spec;
    // Looking at threads must not create a database as a side effect: with no store yet there are none.
    if (!spec && !create && !existsSync(resolve(io.cwd, DEFAULT_SQLITE_PATH))) store ??= new MemoryThreadStore();
    store ??= await openCliStore(spec, io.cwd);
    return store;
  };
  const storeOption = () => new Option("--store <spec>", "SQLite file, sqlite:<path> or postgres:// URL");
  const out = (text: string) => io.stdout(text.endsWith("\n") ? text : `${text}\n`);

  const cli = new Command("twelve threads")
    .description("List, inspect, fork, export and import stored threads")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError()
    .option(
      "--store <spec>",
      "SQLite file, sqlite:<path> or postgres:// URL (default: $TWELVE_STORE or .twelve/twelve.db)",
    )
    .addHelpText("after", `${EXIT_CODES_HELP}\nMore: docs/cli.md in the installed package`);

  cli
    .command("ls")
    .addOption(storeOption())
    .description("List threads, most recently updated first")
    .addOption(
      new Option(
        "-s, --status <status>",
        `only threads with this status, repeatable (${STATUSES.join(", ")})`,
      ).argParser(collectStatus),
    )
    .addOption(new Option("-p, --pending <kind>", "only threads waiting for this kind of answer").choices(PENDING))
    .option("-a, --agent <name>", "only threads of this agent")
    .option("-c, --channel <ref>", "only threads started from this channel reference")
    .option("--since <time>", "only threads updated at or after this ISO time")
    .option("--archived", "include archived threads")
    .option("-n, --limit <n>", "page size (1-1000)", "50")
    .option("--cursor <cursor>", "continue after a previous page")
    .option("--json", "print JSON (summaries and nextCursor)")
    .action(async (opts) => {
      const s = await getStore(opts);
      const filter: ListFilter = { limit: parseLimit(opts.limit) };
      if (opts.status) filter.status = opts.status;
      if (opts.pending) filter.pendingKind = opts.pending;
      if (opts.agent) filter.agent = opts.agent;
      if (opts.channel) filter.channel = opts.channel;
      if (opts.since) filter.updatedAfter = opts.since;
      if (opts.archived) filter.includeArchived = true;
      if (opts.cursor) filter.cursor = opts.cursor;
      const page = await s.list(filter);
      if (opts.json) return out(JSON.stringify(page, null, 2));
      if (page.threads.length === 0) return out("no threads");
      out(table(page.threads));
      if (page.nextCursor) out(`more: twelve threads ls --cursor ${page.nextCursor}`);
    });

  cli
    .command("show")
    .addOption(storeOption())
    .description("Show a thread: status, what it waits for, and its events")
    .argument("<id>", "thread id")
    .option("--json", "print the whole thread as JSON")
    .action(async (id: string, opts) => {
      const s = await getStore(opts);
      const thread = await s.load(id);
      if (opts.json) return out(JSON.stringify(thread, null, 2));
      const summary = await s.summary(id);
      const state = threadState(thread);
      out(`thread ${thread.id} · agent ${thread.agent} · ${state.status} · ${thread.version} events`);
      if (summary.parent) out(`forked from ${summary.parent.threadId} at ${summary.parent.eventId}`);
      if (summary.channel) out(`channel ${summary.channel}`);
      if (summary.archivedAt) out(`archived ${summary.archivedAt}`);
      if (state.pending) out(`waiting for: ${describePending(state.pending)}`);
      for (const e of thread.events) out(eventLine(e));
    });

  cli
    .command("fork")
    .addOption(storeOption())
    .description("Copy a thread up to an event into a new thread")
    .argument("<id>", "thread id")
    .option("--at <eventId>", "last event to keep (default: the last event)")
    .option("--id <newId>", "id of the new thread")
    .action(async (id: string, opts) => {
      const s = await getStore(opts);
      const source = await s.load(id);
      const at = opts.at ?? source.events.at(-1)?.id;
      if (!at) throw new TwelveError("invalid_thread", `thread ${id} has no events to fork from`);
      const forked = await s.fork(id, at, opts.id ? { id: opts.id } : {});
      out(`forked ${id} at ${at} → ${forked.id} (${forked.version} events, ${threadState(forked).status})`);
    });

  cli
    .command("export")
    .addOption(storeOption())
    .description("Write a thread as a plain JSON thread file (stdout, or --out written atomically)")
    .argument("<id>", "thread id")
    .option("-o, --out <file>", "file to write")
    .action(async (id: string, opts) => {
      const s = await getStore(opts);
      const text = `${JSON.stringify(await s.load(id), null, 2)}\n`;
      if (!opts.out) return io.stdout(text);
      const path = resolve(io.cwd, opts.out);
      await writeAtomically(path, text);
      out(`exported ${id} → ${opts.out}`);
    });

  cli
    .command("import")
    .addOption(storeOption())
    .description("Store a JSON thread file (older schema versions are upgraded); - reads standard input")
    .argument("<file>", "thread file, or - for standard input (twelve threads export <id> | twelve threads import -)")
    .option("--id <newId>", "store it under another id (e.g. to keep both copies)")
    .action(async (file: string, opts) => {
      const fromStdin = file === "-";
      const name = fromStdin ? "standard input" : file;
      let text: string;
      try {
        text = fromStdin ? await (io.readStdin ?? readProcessStdin)() : await readFile(resolve(io.cwd, file), "utf8");
      } catch (error) {
        throw new TwelveError("invalid_thread", `cannot read thread file ${name}: ${(error as Error).message}`);
      }
      const value = parseJsonText(text, `thread file ${name}`);
      let thread: ReturnType<typeof parseThread>;
      try {
        thread = parseThread(value);
      } catch (error) {
        const where =
          isTwelveError(error) && typeof error.details?.path === "string" ? ` (at ${error.details.path})` : "";
        throw new TwelveError("invalid_thread", `thread file ${name}: ${(error as Error).message}${where}`);
      }
      const s = await getStore(opts, true);
      const stored = await s.create(thread, opts.id ? { id: opts.id } : {}).catch((error: unknown) => {
        if (isTwelveError(error) && error.code === "thread_exists") {
          throw new TwelveError("thread_exists", `${error.message}; import it under another id with --id <newId>`);
        }
        throw error;
      });
      out(`imported ${name} → ${stored.id} (${stored.version} events, ${threadState(stored).status})`);
    });

  cli
    .command("archive")
    .addOption(storeOption())
    .description("Hide a thread from lists and refuse further appends (it still loads)")
    .argument("<id>", "thread id")
    .action(async (id: string, opts) => {
      const s = await getStore(opts);
      const summary = await s.archive(id);
      out(`archived ${id} at ${summary.archivedAt}`);
    });

  try {
    await cli.parseAsync(argv, { from: "user" });
  } catch (error) {
    exitCode = report(error, io, store ? storeName(storeSpec, io.cwd) : undefined);
  } finally {
    await store?.close().catch(() => {});
  }
  return exitCode;
}

/** One line for an error (exit 2); an error nobody expected goes up to main (exit 70, with its stack). */
function report(error: unknown, io: ThreadsIO, store: string | undefined): number {
  // Commander printed the message (and help); --help and `help <command>` exit 0.
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  const explained = explainError(error, store);
  if (!explained) throw error;
  io.stderr(`twelve: ${explained.message} [${explained.code}]\n`);
  return EXIT.usage;
}

async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function collectStatus(value: string, previous: string[] | undefined): string[] {
  if (!STATUSES.includes(value)) throw new InvalidArgumentError(`Allowed choices are ${STATUSES.join(", ")}.`);
  return [...(previous ?? []), value];
}

function parseLimit(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw new TwelveError("invalid_flag", `--limit must be a whole number from 1 to 1000, got "${text}"`);
  }
  return n;
}

/** Write to a temporary file beside the target, then rename: readers never see half a file. */
async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw new TwelveError("io_error", `cannot write ${path}: ${(error as Error).message}`);
  }
}

function table(rows: ThreadSummary[]): string {
  const lines = [["ID", "AGENT", "STATUS", "WAITING FOR", "EVENTS", "UPDATED"]];
  for (const r of rows) {
    lines.push([
      r.id,
      r.agent,
      r.archivedAt ? `${r.status} (archived)` : r.status,
      r.pending ? describePending(r.pending) : "",
      String(r.version),
      r.updatedAt.replace("T", " ").replace(/\.\d+Z$/, "Z"),
    ]);
  }
  const widths = lines[0]?.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? "").length))) ?? [];
  return lines
    .map((l) =>
      l
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

function describePending(p: NonNullable<ThreadSummary["pending"]>): string {
  switch (p.kind) {
    case "approval":
      return `approval of ${p.intent}`;
    case "question":
      return `answer to "${p.question}"`;
    case "async":
      return p.resultType;
    case "uncertain":
      return `decision: ${p.intent} may or may not have run`;
  }
}

function eventLine(e: Event): string {
  const data = typeof e.data === "string" ? e.data : JSON.stringify(e.data);
  const kind = e.meta?.kind ? ` (${e.meta.kind})` : "";
  const short = data && data.length > 120 ? `${data.slice(0, 117)}...` : (data ?? "");
  return `  ${e.at}  ${e.id}  ${e.type}${kind}  ${short}`;
}
