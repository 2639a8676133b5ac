import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, type FSWatcher, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it, onTestFinished } from "vitest";
import { printer } from "../../src/cli/print.js";
import { openStore } from "../../src/store/open.js";
import type { Event } from "../../src/thread/event.js";
import { threadState } from "../../src/thread/status.js";
import type { Thread } from "../../src/thread/thread.js";
import type { BeginMarker } from "./cli-fixture.js";
import { readEffects, readRecords } from "./fixtures/agents.js";
import { bundle, prng, sleep } from "./harness.js";

/**
 * The crash test of the `twelve` binary itself: the human runs exactly the
 * commands the CLI printed, and the CLI is SIGKILLed mid-handler. Shared by
 * the SQLite and PostgreSQL test files, and its CLI helpers by the CLI
 * concurrency test.
 */

const here = dirname(fileURLToPath(import.meta.url));
export const CLI_MAIN = join(here, "..", "..", "dist", "cli", "main.js");

/** Bundles test/crash/cli-fixture.ts once (per test file) into one ESM file the CLI imports as a plain `.mjs`. */
export const bundleFixture = () => bundle("cli-fixture.ts", "cli-fixture");

export interface CliRun {
  pid: number;
  child: ChildProcess;
  exit: Promise<CliExit>;
}

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment every CLI run gets: no model or store from the developer's shell, no colors, and
 * a short lease (the CLI's own $TWELVE_LEASE_TTL_MS), so the resume after a SIGKILL waits out the dead
 * process's lease quickly, as it would wait out the default 10 s.
 */
export function cliEnv(effects: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TWELVE_FIXTURE_EFFECTS: effects,
    NO_COLOR: "1",
    TWELVE_LEASE_TTL_MS: "400",
  };
  for (const key of ["TWELVE_MODEL", "TWELVE_STORE", "TWELVE_RECORD", "FORCE_COLOR"]) delete env[key];
  return env;
}

export interface CliOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Running CLIs are kept here until they exit (so a test that times out can kill them). */
  live?: Set<ChildProcess>;
}

/** Starts `node dist/cli/main.js <args>` (what `twelve <args>` runs), in `cwd`. */
export function startCli(args: string[], options: CliOptions): CliRun {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  options.live?.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  // A hung CLI fails the test with its output instead of hanging it.
  const guard = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  const exit = new Promise<CliExit>((resolve, reject) => {
    child.on("error", reject);
    // "close", not "exit": every byte the process wrote to its pipes has been read by then.
    child.on("close", (code, signal) => {
      clearTimeout(guard);
      options.live?.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  if (child.pid === undefined) throw new Error("could not start the CLI");
  return { pid: child.pid, child, exit };
}

export async function runCli(args: string[], options: CliOptions): Promise<CliExit> {
  return startCli(args, options).exit;
}

/**
 * Splits a command line the way a POSIX shell would for the quoting the CLI
 * prints ('single', "double", backslash escapes outside single quotes).
 */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in: ${text}`);
      word += text.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      i++;
      for (; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === "\\" && i + 1 < text.length && '"\\$`'.includes(text[i + 1] as string)) i++;
        word += text[i];
      }
      if (i >= text.length) throw new Error(`unterminated " in: ${text}`);
      inWord = true;
    } else if (c === "\\" && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** A pause hint (`resume with:` / `decide with:`), read as a human reads it. */
export interface Hint {
  /** `twelve` dropped: the arguments common to every alternative (`run <agent> … --request R --digest D`). */
  base: string[];
  /** Each alternative's own words by its flag, without optional `[…]` parts: `--approve` → ["--approve"]. */
  choices: Map<string, string[]>;
  request: string;
  digest?: string;
}

/**
 * Reads `twelve run … --request R --digest D --approve | --reject "<feedback>" | --edit '<json>'`:
 * split on " | "; the first alternative holds the common part and the first decision.
 */
export function parseHint(hintText: string): Hint {
  const alternatives = hintText.split(" | ");
  const first = shellWords((alternatives[0] as string).replace(/\s+\[[^\]]*\]$/, ""));
  if (first[0] !== "twelve") throw new Error(`a hint should start with "twelve": ${hintText}`);
  const lastFlag = first.findLastIndex((w) => w.startsWith("--"));
  const base = first.slice(1, lastFlag);
  const choices = new Map<string, string[]>();
  choices.set(first[lastFlag] as string, first.slice(lastFlag));
  for (const alt of alternatives.slice(1)) {
    const words = shellWords(alt.replace(/\s+\[[^\]]*\]$/, ""));
    choices.set(words[0] as string, words);
  }
  const request = base[base.indexOf("--request") + 1];
  if (!base.includes("--request") || !request) throw new Error(`a hint without --request: ${hintText}`);
  const digest = base.includes("--digest") ? base[base.indexOf("--digest") + 1] : undefined;
  return { base, choices, request, ...(digest !== undefined && { digest }) };
}

/** The argv to run one decision of a hint. */
export function hintArgs(hint: Hint, flag: string): string[] {
  const words = hint.choices.get(flag);
  if (!words) throw new Error(`the hint offers no ${flag} (it offers ${[...hint.choices.keys()].join(", ")})`);
  return [...hint.base, ...words];
}

/** What one CLI invocation printed, read back. */
export interface Shown {
  threadId?: string;
  status?: "done" | "failed" | "awaiting_approval" | "awaiting_human" | string;
  request?: {
    kind: "approval" | "uncertain" | "other";
    id: string;
    digest?: string;
    intent?: string;
    args?: Record<string, unknown>;
  };
  hint?: Hint;
  /** The lines that render events (the CLI prints one only after the store committed the event). */
  eventLines: string[];
}

const NON_EVENT =
  /^(thread thr_|request rq_|⚠ request rq_|paused: |resume with: |decide with: |done · thread |failed \()/;

export function readShown(stdout: string): Shown {
  // Only whole lines: a kill can cut the last one short.
  const lines = stdout.split("\n").slice(0, -1);
  const shown: Shown = { eventLines: lines.filter((l) => !NON_EVENT.test(l)) };
  for (const line of lines) {
    let m = line.match(/^thread (thr_\S+)$/);
    if (m) shown.threadId = m[1];
    m = line.match(/^request (rq_[\w-]+): approve (\w+) (\{.*\})\? \(digest ([\w-]+)\)$/);
    if (m) {
      shown.request = {
        kind: "approval",
        id: m[1] as string,
        intent: m[2] as string,
        args: JSON.parse(m[3] as string),
        digest: m[4] as string,
      };
      continue;
    }
    m = line.match(/^⚠ request (rq_[\w-]+): (\w+) (\{.*\}) may or may not have run.*\(digest ([\w-]+)\)$/);
    if (m) {
      shown.request = {
        kind: "uncertain",
        id: m[1] as string,
        intent: m[2] as string,
        args: JSON.parse(m[3] as string),
        digest: m[4] as string,
      };
      continue;
    }
    m = line.match(/^(?:⚠ )?request (rq_[\w-]+):/);
    if (m) shown.request = { kind: "other", id: m[1] as string };
    m = line.match(/^paused: (\w+) · thread (thr_\S+)$/);
    if (m) {
      shown.status = m[1] as string;
      shown.threadId = m[2];
    }
    m = line.match(/^done · thread (thr_\S+) · \d+ events$/);
    if (m) {
      shown.status = "done";
      shown.threadId = m[1];
    }
    m = line.match(/^failed \((.*)\) · thread (thr_\S+)$/);
    if (m) {
      shown.status = "failed";
      shown.threadId = m[2];
    }
    m = line.match(/^(?:resume|decide) with: (.*)$/);
    if (m) shown.hint = parseHint(m[1] as string);
  }
  return shown;
}

/** The lines the CLI's printer renders for these events (what a run that printed all of them would show). */
export function renderEvents(events: readonly Event[]): string[] {
  let text = "";
  const out = printer((t) => {
    text += t;
  }, false);
  for (const e of events) out.event(e);
  return text.split("\n").slice(0, -1);
}

/** Index after which `needle` occurs in order inside `hay`, or -1 with the first line that does not. */
function subsequence(needle: readonly string[], hay: readonly string[]): { ok: true } | { ok: false; missing: string } {
  let j = 0;
  for (const line of needle) {
    while (j < hay.length && hay[j] !== line) j++;
    if (j >= hay.length) return { ok: false, missing: line };
    j++;
  }
  return { ok: true };
}

/** The begin markers the fixture's handler wrote (see cli-fixture.ts). */
export function readMarkers(effects: string): BeginMarker[] {
  return readRecords<BeginMarker>(effects, ".begin");
}

export interface CliCrashOptions {
  name: string;
  /** How many times the CLI is SIGKILLed. */
  kills: number;
  /** The store spec the CLI gets for a lane (PostgreSQL: a per-lane application_name, for quiesce); lane -1 is the checker. */
  spec: (dir: string, lane: number) => string;
  /** Waits until the killed CLI can change nothing more (PostgreSQL finishes statements it already received). */
  quiesce?: (lane: number) => Promise<void>;
  /** Threads driven at the same time (each lane runs its threads one after another). */
  lanes?: number;
  /** Deploys per thread (`deploy:N`). */
  deploys?: number;
  timeoutMs?: number;
}

interface Invocation {
  args: string[];
  killed: boolean;
  stdout: string;
}

/**
 * Starts threads with `twelve run fixture "deploy:N" --no-input`, then drives
 * each only through the commands the CLI printed. K of the approvals are run
 * and SIGKILLed after the handler's begin marker appears (plus 0–150 ms); the
 * next step is always `--thread <id>` without a decision, and the human
 * decides an uncertain step by looking at the effects directory. At the end:
 * every deploy step ran exactly once, every thread is done, and every event
 * line any CLI printed (printed only after the store committed it) is in the
 * stored thread.
 */
export function cliCrashSuite(options: CliCrashOptions): void {
  const deploys = options.deploys ?? 5;
  it(
    `twelve run survives ${options.kills} SIGKILLs mid-handler on ${options.name}: no deploy twice, no acknowledged event lost`,
    async () => {
      const started = Date.now();
      const seed = Number(process.env.TWELVE_CRASH_SEED ?? Date.now() % 1_000_000);
      const context = `(seed ${seed}; rerun with TWELVE_CRASH_SEED=${seed})`;
      const random = prng(seed);
      const dir = mkdtempSync(join(tmpdir(), `twelve-cli-crash-${options.name}-`));
      const effects = join(dir, "effects");
      mkdirSync(effects);
      const env = cliEnv(effects);
      const live = new Set<ChildProcess>();
      let stopped = false;
      let fixture: string | undefined;
      // Also after a timeout or a failure in one lane: stop the other lanes, kill what runs, remove the files.
      onTestFinished(() => {
        stopped = true;
        for (const child of live) child.kill("SIGKILL");
        rmSync(dir, { recursive: true, force: true });
        if (fixture) rmSync(fixture, { force: true });
      });
      fixture = await bundleFixture();
      const agentPath = fixture;
      const cli = { cwd: dir, env, live };
      const lanes = options.lanes ?? 3;
      let cliMs = 0;

      // Which approvals are killed, decided up front from the seed: K of them, spread over enough threads.
      const threadCount = Math.max(2, Math.ceil((options.kills + Math.ceil(options.kills / 10)) / deploys));
      const slots = Array.from({ length: threadCount * deploys }, (_, i) => i);
      for (let i = slots.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [slots[i], slots[j]] = [slots[j] as number, slots[i] as number];
      }
      const killSlots = new Set(slots.slice(0, options.kills));

      const stats = { kills: 0, midHandler: 0, effectPresent: 0, effectAbsent: 0, late: 0, missed: 0 };
      const history = new Map<string, Invocation[]>();
      const threadIds: string[] = [];

      async function driveThread(index: number, lane: number, laneRandom: () => number): Promise<void> {
        const spec = options.spec(dir, lane);
        const log: Invocation[] = [];
        const where = (what: string) => `thread #${index} (${threadIds[index] ?? "?"}) ${what} ${context}`;
        const invoke = async (args: string[]): Promise<{ exit: CliExit; shown: Shown }> => {
          if (stopped) throw new Error("stopped");
          const t0 = Date.now();
          const exit = await runCli(args, cli);
          cliMs += Date.now() - t0;
          log.push({ args, killed: false, stdout: exit.stdout });
          return { exit, shown: readShown(exit.stdout) };
        };
        const expectExit = (exit: CliExit, codes: number[], what: string) => {
          if (exit.code === null || !codes.includes(exit.code)) {
            throw new Error(
              `${where(what)}: exit ${exit.code ?? exit.signal}, expected ${codes.join(" or ")}\n${exit.stdout}\n${exit.stderr}`,
            );
          }
        };

        let { exit, shown } = await invoke(["run", agentPath, `deploy:${deploys}`, "--store", spec, "--no-input"]);
        expectExit(exit, [3], "start");
        const threadId = shown.threadId;
        if (!threadId) throw new Error(`${where("start")}: no thread id printed\n${exit.stdout}`);
        threadIds[index] = threadId;
        history.set(threadId, log);
        const killed = new Set<number>();
        let approved = 0;
        let lastKilledBegin: BeginMarker | undefined;

        for (let turn = 0; ; turn++) {
          if (turn > deploys * 6) throw new Error(`${where("loop")}: no progress after ${turn} invocations`);
          if (shown.status === "done") break;
          if (shown.status === "failed") throw new Error(`${where("run")}: the thread failed\n${exit.stdout}`);
          const request = shown.request;
          const hint = shown.hint;
          if (!request || !hint) throw new Error(`${where("pause")}: no request or hint printed\n${exit.stdout}`);
          // The hint names the request and digest the request line shows.
          expect(hint.request, where("hint")).toBe(request.id);
          expect(hint.digest, where("hint")).toBe(request.digest);

          if (request.kind === "approval") {
            // Deploy k+1 of N; the same approval shown again (the kill came before it was recorded) keeps its number.
            const k = Number(String(request.args?.tag).slice(1)) - 1;
            expect([approved, approved - 1], where(`approval of ${JSON.stringify(request.args)}`)).toContain(k);
            expect(request.args, where("approval")).toEqual({ tag: `v${k + 1}`, environment: "production" });
            approved = k + 1;
            const args = hintArgs(hint, "--approve");
            const slot = index * deploys + k;
            const kill = killSlots.has(slot) && !killed.has(slot);
            killed.add(slot);
            if (!kill) {
              ({ exit, shown } = await invoke(args));
              expectExit(exit, [0, 3], "approve");
              continue;
            }
            const outcome = await killMidHandler(args, threadId, laneRandom);
            log.push({ args, killed: outcome.killed, stdout: outcome.exit.stdout });
            if (!outcome.killed) {
              // It finished before the kill (a badly stalled machine): nothing to recover, go on.
              stats.missed++;
              exit = outcome.exit;
              shown = readShown(exit.stdout);
              expectExit(exit, [0, 3], "approve (not killed)");
              continue;
            }
            stats.kills++;
            lastKilledBegin = outcome.begin;
            await options.quiesce?.(lane);
            // Back after the crash: continue or show the thread, deciding nothing.
            ({ exit, shown } = await invoke(["run", agentPath, "--thread", threadId, "--store", spec, "--no-input"]));
            expectExit(exit, [0, 3], "resume after the kill");
            if (shown.request?.kind === "uncertain") stats.midHandler++;
            else stats.late++;
            continue;
          }

          if (request.kind === "uncertain") {
            // The human checks the outside world: did the deploy shown here happen?
            const tag = String(request.args?.tag);
            const steps = new Set(
              readMarkers(effects)
                .filter((m) => m.thread === threadId && m.tag === tag)
                .map((m) => m.step),
            );
            if (lastKilledBegin?.tag === tag)
              expect(steps.has(lastKilledBegin.step), where("uncertain step")).toBe(true);
            const ran = readEffects(effects).some((e) => e.thread === threadId && steps.has(e.step));
            if (ran) stats.effectPresent++;
            else stats.effectAbsent++;
            ({ exit, shown } = await invoke(hintArgs(hint, ran ? "--mark-done" : "--run-again")));
            expectExit(exit, [0, 3], ran ? "mark done" : "run again");
            continue;
          }
          throw new Error(`${where("pause")}: unexpected request\n${exit.stdout}`);
        }
      }

      /** Runs an approve command and SIGKILLs it 0–150 ms after the handler's begin marker appears. */
      async function killMidHandler(
        args: string[],
        threadId: string,
        laneRandom: () => number,
      ): Promise<{ killed: boolean; exit: CliExit; begin?: BeginMarker }> {
        if (stopped) throw new Error("stopped");
        const t0 = Date.now();
        const run = startCli(args, cli);
        const name = await waitForMarker(effects, `${threadId}.`, `.${run.pid}.begin`, run.exit, 30_000);
        if (name === "timeout") {
          run.child.kill("SIGKILL");
          throw new Error(`no begin marker from pid ${run.pid} within 30 s ${context}`);
        }
        const begin =
          name === undefined ? undefined : (JSON.parse(readFileSync(join(effects, name), "utf8")) as BeginMarker);
        if (begin) await sleep(laneRandom() * 150);
        const alive = run.child.exitCode === null && run.child.signalCode === null;
        if (alive) run.child.kill("SIGKILL");
        const exit = await run.exit;
        cliMs += Date.now() - t0;
        if (alive && exit.signal !== "SIGKILL") throw new Error(`pid ${run.pid} did not die of SIGKILL ${context}`);
        if (!begin && exit.code !== 0 && exit.code !== 3) {
          throw new Error(
            `the approve command failed before its handler began ${context}:\n${exit.stdout}\n${exit.stderr}`,
          );
        }
        return { killed: alive, exit, ...(begin && { begin }) };
      }

      await Promise.all(
        Array.from({ length: lanes }, async (_, lane) => {
          const laneRandom = prng(seed * 31 + lane + 1);
          try {
            for (let i = lane; i < threadCount; i += lanes) await driveThread(i, lane, laneRandom);
          } catch (error) {
            stopped = true;
            throw error;
          }
        }),
      );

      const store = await openStore(options.spec(dir, -1));
      let threads: Thread[];
      try {
        threads = await Promise.all(threadIds.map((id) => store.load(id)));
      } finally {
        await store.close();
      }
      const allEffects = readEffects(effects);
      const markers = readMarkers(effects);

      expect(stats.kills + stats.missed, context).toBe(options.kills);
      let events = 0;
      for (const t of threads) {
        const what = `thread ${t.id} ${context}`;
        events += t.events.length;
        expect(threadState(t).status, what).toBe("done");
        // Exactly N deploys per thread, each step's effect exactly once, matching the recorded results.
        const results = t.events.filter((e) => e.type === "deploy_backend_result");
        expect(results, what).toHaveLength(deploys);
        const perStep = new Map<string, number>();
        for (const e of allEffects.filter((x) => x.thread === t.id))
          perStep.set(e.step, (perStep.get(e.step) ?? 0) + 1);
        expect(
          [...perStep.entries()].filter(([, n]) => n !== 1),
          `${what}: steps whose deploy ran more than once`,
        ).toEqual([]);
        expect(new Set(perStep.keys()), what).toEqual(new Set(results.map((e) => e.meta?.stepId as string)));
        // Nothing acknowledged is lost: every event line printed by any invocation, in order, is in the stored thread.
        const printed = (history.get(t.id) ?? []).flatMap((inv) => readShown(inv.stdout).eventLines);
        const rendered = renderEvents(t.events);
        const check = subsequence(printed, rendered);
        if (!check.ok) {
          throw new Error(
            `${what}: the CLI printed "${check.missing}" (so the store had acknowledged it) but the stored thread lacks it (in order).\nprinted:\n${printed.join("\n")}\nstored:\n${rendered.join("\n")}`,
          );
        }
      }
      expect(allEffects, context).toHaveLength(threadCount * deploys);
      // The kills must land mid-handler (after the begin marker, before the result), or this proves nothing.
      expect(markers.length, context).toBeGreaterThanOrEqual(threadCount * deploys);
      expect(stats.midHandler, `kills that left an uncertain step ${context}`).toBeGreaterThanOrEqual(
        options.kills / 2,
      );
      if (options.kills >= 10) {
        expect(stats.effectPresent, `kills after the effect ${context}`).toBeGreaterThan(0);
        expect(stats.effectAbsent, `kills before the effect ${context}`).toBeGreaterThan(0);
      }
      const wall = ((Date.now() - started) / 1000).toFixed(1);
      const invocations = [...history.values()].reduce((n, h) => n + h.length, 0);
      process.stdout.write(
        `[cli-crash ${options.name}] seed ${seed} (TWELVE_CRASH_SEED=${seed}): ${stats.kills} kills (${stats.midHandler} mid-handler: effect present ${stats.effectPresent} → --mark-done, absent ${stats.effectAbsent} → --run-again; ${stats.late} after the result; ${stats.missed} missed), ${threads.length} threads, ${events} events, ${allEffects.length} deploys (each once), ${invocations} CLI runs (${Math.round(cliMs / invocations)} ms each on average), ${wall} s wall\n`,
      );
    },
    // Generous: each kill costs three CLI starts (~0.7 s of CPU each), and a loaded CI machine is slower.
    options.timeoutMs ?? 120_000 + options.kills * 6_000,
  );
}

/**
 * Resolves with the name of the first file in `dir` named `<prefix>…<suffix>`
 * (inotify, so the kill follows the marker at once, with a slow poll as a
 * safety net), undefined if `exited` settles first, "timeout" after `ms`.
 */
async function waitForMarker(
  dir: string,
  prefix: string,
  suffix: string,
  exited: Promise<unknown>,
  ms: number,
): Promise<string | undefined | "timeout"> {
  const matches = (n: string | null | undefined): n is string => !!n && n.startsWith(prefix) && n.endsWith(suffix);
  const scan = () => safeReaddir(dir).find(matches);
  let watcher: FSWatcher | undefined;
  let poll: NodeJS.Timeout | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<string | undefined | "timeout">((resolve) => {
      watcher = watch(dir, (_event, name) => {
        if (matches(name) && existsSync(join(dir, name))) resolve(name);
      });
      poll = setInterval(() => {
        const found = scan();
        if (found) resolve(found);
      }, 50);
      timer = setTimeout(() => resolve("timeout"), ms);
      void exited.then(() => resolve(scan()));
      const found = scan();
      if (found) resolve(found);
    });
  } finally {
    watcher?.close();
    clearInterval(poll);
    clearTimeout(timer);
  }
}

function safeReaddir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}
