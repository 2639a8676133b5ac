import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { EXIT, explainError, sqliteDriverError } from "../../src/cli/errors.js";
import { MAX_JSON_DEPTH, nestedTooDeep, parseJsonText } from "../../src/cli/json.js";
import { TwelveError } from "../../src/errors/index.js";

// The built `twelve`, spawned as users run it. The agent is a fixture on dist/ (test/cli/fixtures/agent.js).
const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(root, "dist/cli/main.js");
const agent = join(root, "test/cli/fixtures/agent.js");
const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
const env = { ...process.env, NO_COLOR: "1", TWELVE_MODEL: "", TWELVE_STORE: "", TWELVE_USER: "tester" };

interface Options {
  cwd: string;
  input?: string;
  /** Run as this user (tests run as root in CI containers, where file modes do not stop writes). */
  uid?: number;
}

function twelve(args: string[], options: Options) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: options.cwd,
    input: options.input ?? "",
    encoding: "utf8",
    env,
    timeout: 20_000,
    maxBuffer: 64 * 1024 * 1024,
    ...(options.uid !== undefined && { uid: options.uid, gid: options.uid }),
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A shell pipeline of `twelve` commands (a shell function running the built binary). */
function sh(script: string, cwd: string) {
  const r = spawnSync("sh", ["-c", `twelve() { "$NODE" "$BIN" "$@"; }\n${script}`], {
    cwd,
    encoding: "utf8",
    env: { ...env, NODE: process.execPath, BIN: bin },
    timeout: 30_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const dirs: string[] = [];
function workspace(files: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "twelve-fixes-"));
  dirs.push(dir);
  for (const [name, value] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof value === "string" ? value : JSON.stringify(value));
  }
  return dir;
}
afterAll(() => {
  for (const dir of dirs) {
    chmodRecursive(dir);
    rmSync(dir, { recursive: true, force: true });
  }
});
/** Makes the directories the tests locked removable again (never following a symlink out of the workspace). */
function chmodRecursive(dir: string): void {
  try {
    chmodSync(dir, 0o777);
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) chmodRecursive(join(dir, e.name));
  } catch {
    // already gone
  }
}

/** One line `twelve: <message> [<code>]` and nothing else: no stack trace. */
function expectOneLine(err: string, code: string, message?: RegExp) {
  const lines = err.trimEnd().split("\n");
  expect(lines, err).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^twelve: .+ \\[${code}\\]$`));
  if (message) expect(lines[0]).toMatch(message);
  expect(err).not.toMatch(/\n\s+at /);
}

const at = "2026-01-01T00:00:00.000Z";
/** A thread file of `count` events of `size` characters each (a user message, then answers from "the model"). */
function bigThread(id: string, count: number, size: number) {
  const events = Array.from({ length: count }, (_, i) => ({
    id: `e${i}`,
    type: "user_message",
    data: `${"é✓x".repeat(Math.ceil(size / 3)).slice(0, size)} #${i}`,
    at,
  }));
  return { id, agent: "fixture-calculator", schemaVersion: 1, events };
}

const threadIds = (out: string) => [...out.matchAll(/^(thr_\w+)\s/gm)].map((m) => m[1]);

describe("piped output is complete and the exit code reflects failures", () => {
  it("a thread larger than 1 MB exports through a pipe and imports from - byte for byte", () => {
    const dir = workspace({ "big.json": bigThread("thr_big", 2500, 500) });
    expect(twelve(["threads", "import", "big.json", "--store", "a.db"], { cwd: dir }).code).toBe(0);
    const file = twelve(["threads", "export", "thr_big", "--store", "a.db", "--out", "file.json"], { cwd: dir });
    expect(file.code).toBe(0);
    const exported = readFileSync(join(dir, "file.json"));
    expect(exported.length).toBeGreaterThan(1_000_000);

    // A slow reader: the pipe fills up long before the export is written.
    const counted = sh('twelve threads export thr_big --store a.db | (sleep 1; wc -c); echo "exit=$?"', dir);
    expect(counted.err).toBe("");
    expect(counted.out).toMatch(new RegExp(`^\\s*${exported.length}\\s*\\nexit=0`));

    const moved = sh("twelve threads export thr_big --store a.db | twelve threads import - --store b.db", dir);
    expect(moved.err).toBe("");
    expect(moved.code).toBe(0);
    expect(moved.out).toMatch(/imported standard input → thr_big \(2500 events/);
    const again = twelve(["threads", "export", "thr_big", "--store", "b.db"], { cwd: dir });
    expect(again.code).toBe(0);
    expect(Buffer.from(again.out).equals(exported)).toBe(true);
  });

  it("`twelve run … | tail -1` gets the final line even when the output outgrows the pipe", () => {
    const dir = workspace({
      "script.json": [
        { intent: "add", a: 1, b: 2 },
        { intent: "done_for_now", message: "3" },
      ],
    });
    // The message is printed back (about 100 KB): more than a pipe holds, so the last lines wait for the reader.
    const message = `add 1 and 2 ${"x".repeat(100_000)}`;
    writeFileSync(join(dir, "message.txt"), message);
    const r = sh(
      `twelve run "${agent}" "$(cat message.txt)" --model script:script.json --store s.db | (sleep 1; tail -1); echo "exit=$?"`,
      dir,
    );
    expect(r.err).toBe("");
    expect(r.out).toMatch(/^done · thread thr_\w+ · 5 events\nexit=0\n$/);
  });

  it("a reader that stops early (| head) ends the command quietly with 141", async () => {
    const dir = workspace({ "big.json": bigThread("thr_big", 2500, 500) });
    expect(twelve(["threads", "import", "big.json"], { cwd: dir }).code).toBe(0);
    const child = spawn(process.execPath, [bin, "threads", "export", "thr_big"], { cwd: dir, env });
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    // Like `| head -c 100`: read the first chunk, then close the pipe.
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    expect(err).toBe("");
    expect(code).toBe(EXIT.outputClosed);
    expect(code).toBe(141);
  });

  it.skipIf(!existsSync("/dev/full"))("output that cannot be written (disk full) exits 74 with one line", () => {
    const dir = workspace({ "big.json": bigThread("thr_big", 50, 100) });
    expect(twelve(["threads", "import", "big.json"], { cwd: dir }).code).toBe(0);
    const full = openSync("/dev/full", "w");
    try {
      const r = spawnSync(process.execPath, [bin, "threads", "export", "thr_big"], {
        cwd: dir,
        env,
        stdio: ["ignore", full, "pipe"],
        encoding: "utf8",
        timeout: 20_000,
      });
      expect(r.status).toBe(74);
      expectOneLine(r.stderr, "output_error", /cannot write standard output: ENOSPC/);
    } finally {
      closeSync(full);
    }
  });
});

describe("--version and help", () => {
  it("prints the version from package.json", () => {
    const dir = workspace();
    for (const flag of ["--version", "-v"]) {
      const r = twelve([flag], { cwd: dir });
      expect(r.code).toBe(0);
      expect(r.out).toBe(`${version}\n`);
    }
  });

  it("twelve help threads, twelve threads --help and twelve help threads <command> show the threads help", () => {
    const dir = workspace();
    for (const args of [
      ["help", "threads"],
      ["threads", "--help"],
    ]) {
      const r = twelve(args, { cwd: dir });
      expect(r.code, args.join(" ")).toBe(0);
      expect(r.out).toContain("Usage: twelve threads [options] [command]");
      for (const command of ["ls", "show", "fork", "export", "import", "archive"]) expect(r.out).toContain(command);
      expect(r.out).toContain("Exit codes");
    }
    const sub = twelve(["help", "threads", "import"], { cwd: dir });
    expect(sub.code).toBe(0);
    expect(sub.out).toContain("Usage: twelve threads import [options] <file>");
    expect(sub.out).toContain("- for standard input");
    const run = twelve(["help", "run"], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.out).toContain("Usage: twelve run [options] <agent> [message]");
    const unknown = twelve(["help", "nope"], { cwd: dir });
    expect(unknown.code).toBe(2);
    expectOneLine(unknown.err, "invalid_flag", /unknown command "nope"/);
  });

  it("documents every exit code in twelve --help and twelve run --help", () => {
    const dir = workspace();
    for (const args of [["--help"], ["run", "--help"]]) {
      const r = twelve(args, { cwd: dir });
      expect(r.code).toBe(0);
      expect(r.out).toContain("Exit codes:");
      for (const code of Object.values(EXIT)) expect(r.out).toMatch(new RegExp(`^ {2}${code} +\\S`, "m"));
      expect(r.out).toContain("twelve: <message> [<code>]");
    }
    expect(readFileSync(join(root, "docs/cli.md"), "utf8")).toMatch(/\|\s*141\s*\|/);
  });
});

describe("Ctrl-C at a prompt", () => {
  const hasTmux = spawnSync("tmux", ["-V"]).status === 0;
  const session = `twelve-fixes-${process.pid}`;
  const tmux = (...args: string[]) => execFileSync("tmux", args, { encoding: "utf8" });
  afterEach(() => {
    if (!hasTmux) return;
    try {
      tmux("kill-session", "-t", session);
    } catch {
      // already gone
    }
  });
  async function waitFor(text: string): Promise<string> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const shown = tmux("capture-pane", "-p", "-J", "-t", session);
      if (shown.includes(text)) return shown;
      if (Date.now() > deadline) throw new Error(`"${text}" never appeared; screen:\n${shown}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  // tmux gives the CLI a real terminal: the prompt puts it in raw mode, so Ctrl-C reaches inquirer as a key.
  it.skipIf(!hasTmux)("exits 130 with one line; the thread stays paused and resumes", async () => {
    const dir = workspace({ "script.json": [{ intent: "divide", a: 3, b: 4 }] });
    const command = `cd ${dir} && NO_COLOR=1 TWELVE_USER=tester ${process.execPath} ${bin} run ${agent} 'divide 3 by 4' --model script:script.json 2>err.txt; echo "EXIT=$?"; sleep 60`;
    tmux("new-session", "-d", "-s", session, "-x", "200", "-y", "50", command);
    await waitFor('Approve divide {"a":3,"b":4}?');
    tmux("send-keys", "-t", session, "C-c");
    const shown = await waitFor("EXIT=");
    expect(shown).toContain("EXIT=130");
    expect(shown).toContain("paused: awaiting_approval");
    const err = readFileSync(join(dir, "err.txt"), "utf8");
    expectOneLine(err, "interrupted", /interrupted at the prompt; thread thr_\w+ is still awaiting_approval/);
    const id = /thread (thr_\w+)/.exec(err)?.[1] as string;
    const listed = twelve(["threads", "ls"], { cwd: dir });
    expect(listed.out).toMatch(new RegExp(`${id}\\s+fixture-calculator\\s+awaiting_approval`));
    // The printed command answers it from another process.
    const request = /--request (\S+)/.exec(shown)?.[1] as string;
    const digest = /--digest (\S+)/.exec(shown)?.[1] as string;
    writeFileSync(join(dir, "rest.json"), JSON.stringify([{ intent: "done_for_now", message: "0.75" }]));
    const resumed = twelve(
      ["run", agent, "--model", "script:rest.json", "--request", request, "--digest", digest, "--approve"],
      { cwd: dir },
    );
    expect(resumed.err).toBe("");
    expect(resumed.code).toBe(0);
    expect(resumed.out).toContain("✓ divide_result: 0.75");
  });
});

describe("stores that cannot be used give one line and exit 2", () => {
  // As root (CI containers) file modes do not stop writes, so those cases run the CLI as `nobody`.
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? 65534 : undefined;
  const opened = (dir: string) => {
    chmodSync(dir, 0o777);
    return dir;
  };
  // `nobody` must be able to run this Node at all (CI's Node 24 lives in a temp dir it makes readable).
  beforeAll(() => {
    if (user === undefined) return;
    const probe = spawnSync(process.execPath, [bin, "--version"], { uid: user, encoding: "utf8" });
    const why = probe.error?.message ?? probe.stderr;
    expect(probe.status, `uid ${user} cannot run ${process.execPath} ${bin} (make both readable): ${why}`).toBe(0);
  });

  it("a --store inside a directory this user cannot write (chmod 555)", () => {
    const dir = opened(workspace({ "big.json": bigThread("thr_one", 2, 10), "script.json": [] }));
    mkdirSync(join(dir, "locked"), { mode: 0o555 });
    chmodSync(join(dir, "locked"), 0o555);
    for (const args of [
      ["threads", "import", "big.json", "--store", "locked/twelve.db"],
      ["run", agent, "add 1 and 2", "--model", "script:script.json", "--store", "locked/twelve.db"],
    ]) {
      const r = twelve(args, { cwd: dir, uid: user });
      expect(r.code, r.err).toBe(2);
      expectOneLine(r.err, "store_readonly", /cannot create the thread store .*locked\/twelve\.db: .* not writable/);
    }
    expect(readdirSync(join(dir, "locked"))).toEqual([]);
  });

  it("a read-only store file (chmod 444): it lists, but an import or a run is refused", () => {
    const dir = opened(
      workspace({
        "big.json": bigThread("thr_one", 2, 10),
        "script.json": [
          { intent: "add", a: 1, b: 2 },
          { intent: "done_for_now", message: "3" },
        ],
      }),
    );
    mkdirSync(join(dir, "store"));
    chmodSync(join(dir, "store"), 0o777);
    const store = ["--store", "store/twelve.db"];
    expect(twelve(["threads", "import", "big.json", ...store], { cwd: dir, uid: user }).code).toBe(0);
    chmodSync(join(dir, "store/twelve.db"), 0o444);
    expect(twelve(["threads", "ls", ...store], { cwd: dir, uid: user }).out).toContain("thr_one");
    const imported = twelve(["threads", "import", "big.json", "--id", "thr_two", ...store], { cwd: dir, uid: user });
    expect(imported.code).toBe(2);
    expectOneLine(imported.err, "store_readonly", /the thread store .*store\/twelve\.db is read-only/);
    const run = twelve(["run", agent, "add 1 and 2", "--model", "script:script.json", ...store], {
      cwd: dir,
      uid: user,
    });
    expect(run.code).toBe(2);
    expectOneLine(run.err, "store_readonly");
    expect(threadIds(twelve(["threads", "ls", ...store], { cwd: dir, uid: user }).out)).toEqual(["thr_one"]);
  });

  it("a directory given as --store, and a --store under a path that is a file", () => {
    const dir = workspace({ "notes.txt": "not a directory", "script.json": [] });
    mkdirSync(join(dir, "stores"));
    for (const args of [
      ["threads", "ls", "--store", "stores"],
      ["run", agent, "hi", "--model", "script:script.json", "--store", "stores"],
    ]) {
      const r = twelve(args, { cwd: dir });
      expect(r.code).toBe(2);
      expectOneLine(r.err, "store_config", /--store .*stores is a directory; give a SQLite file, e\.g\. --store/);
    }
    const r = twelve(["threads", "ls", "--store", "notes.txt/deeper/twelve.db"], { cwd: dir });
    expect(r.code).toBe(2);
    expectOneLine(r.err, "store_config", /notes\.txt is a file, not a directory/);
  });
});

describe("a SQLite driver that cannot load", () => {
  const bindings = (pkg: string) =>
    Object.assign(
      new Error(
        `Could not locate the bindings file. Tried:\n → /app/node_modules/${pkg}/build/better_sqlite3.node\n → /app/node_modules/${pkg}/build/Release/better_sqlite3.node\n → /app/node_modules/${pkg}/lib/binding/node-v137-linux-x64/better_sqlite3.node`,
      ),
      { tries: [] },
    );
  const abi = Object.assign(
    new Error(
      "The module '/app/node_modules/better-sqlite3-13/build/Release/better_sqlite3.node'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 115. This version of Node.js requires\nNODE_MODULE_VERSION 137. Please try re-compiling or re-installing\nthe module (for instance, using `npm rebuild` or `npm install`).",
    ),
    { code: "ERR_DLOPEN_FAILED" },
  );
  const elf = Object.assign(
    new Error("/app/node_modules/better-sqlite3/build/Release/better_sqlite3.node: invalid ELF header"),
    { code: "ERR_DLOPEN_FAILED" },
  );

  it("maps each real error shape to one sqlite_driver error that says what to rebuild", () => {
    const missing = sqliteDriverError(bindings("better-sqlite3"));
    expect(missing?.code).toBe("sqlite_driver");
    expect(missing?.message).toMatch(/better-sqlite3 cannot load: its native module is missing/);
    expect(missing?.message).toContain('npm rebuild better-sqlite3"');

    const old = sqliteDriverError(abi);
    expect(old?.message).toContain(
      `built for another Node.js (NODE_MODULE_VERSION 115; this Node.js ${process.version} needs 137)`,
    );
    expect(old?.message).toContain('"npm rebuild better-sqlite3-13"');
    expect(old?.message).not.toContain("\n");

    expect(sqliteDriverError(elf)?.message).toMatch(/cannot be loaded \(.*invalid ELF header\)/);
    // Only the ABI words, no code (an older Node's message):
    const plain = new Error(
      "/x/node_modules/better-sqlite3/build/Release/better_sqlite3.node was compiled against a different Node.js version",
    );
    expect(sqliteDriverError(plain)?.message).toContain(`built for another Node.js, not ${process.version}`);

    // Wrapped, as the store wraps a failed driver import:
    const wrapped = new TwelveError("config_error", "the SQLite store needs better-sqlite3", undefined, {
      cause: bindings("better-sqlite3"),
    });
    expect(explainError(wrapped)?.code).toBe("sqlite_driver");
  });

  it("leaves other errors alone", () => {
    const llama = Object.assign(
      new Error("/app/node_modules/@node-llama-cpp/linux-x64/llama-addon.node: invalid ELF header"),
      {
        code: "ERR_DLOPEN_FAILED",
      },
    );
    expect(sqliteDriverError(llama)).toBeUndefined();
    expect(sqliteDriverError(new Error("boom"))).toBeUndefined();
    expect(explainError(new TypeError("x is not a function"))).toBeUndefined();
  });

  it("explains store and file errors, and a stack overflow, in one line", () => {
    const sqlite = (code: string, message: string) => Object.assign(new Error(message), { name: "SqliteError", code });
    expect(explainError(sqlite("SQLITE_READONLY", "attempt to write a readonly database"), "/s/t.db")?.message).toBe(
      "the thread store /s/t.db is read-only: attempt to write a readonly database (SQLITE_READONLY); check that the store file and its directory are writable by this user, or use another --store",
    );
    expect(explainError(sqlite("SQLITE_CANTOPEN", "unable to open database file"))?.code).toBe("io_error");
    expect(explainError(sqlite("SQLITE_BUSY", "database is locked"))?.code).toBe("store_busy");
    expect(explainError(sqlite("SQLITE_IOERR_WRITE", "disk I/O error"))?.code).toBe("store_io_error");
    const eacces = Object.assign(new Error("EACCES: permission denied, mkdir '/ro/x'"), {
      code: "EACCES",
      syscall: "mkdir",
      path: "/ro/x",
    });
    expect(explainError(eacces)).toMatchObject({
      code: "io_error",
      message: "EACCES: permission denied, mkdir '/ro/x'",
    });
    expect(explainError(new RangeError("Maximum call stack size exceeded"))?.code).toBe("too_deeply_nested");
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), {
      code: "ECONNREFUSED",
      syscall: "connect",
    });
    expect(explainError(refused)?.code).toBe("network_error");
  });

  describe("end to end: better-sqlite3 installed without its native module", () => {
    let app: string;
    beforeAll(() => {
      // twelve installed in a project whose better-sqlite3 has no build/ (an install whose compile failed).
      app = workspace({ "script.json": [{ intent: "add", a: 1, b: 2 }] });
      const modules = join(app, "node_modules");
      mkdirSync(join(modules, "twelve"), { recursive: true });
      cpSync(join(root, "dist"), join(modules, "twelve/dist"), { recursive: true });
      cpSync(join(root, "package.json"), join(modules, "twelve/package.json"));
      for (const part of ["lib", "package.json"]) {
        cpSync(join(root, "node_modules/better-sqlite3", part), join(modules, "better-sqlite3", part), {
          recursive: true,
        });
      }
      for (const name of readdirSync(join(root, "node_modules"))) {
        if (name === ".bin" || name.startsWith("better-sqlite3")) continue;
        symlinkSync(join(root, "node_modules", name), join(modules, name));
      }
    });
    const cli = (args: string[]) => {
      const r = spawnSync(process.execPath, [join(app, "node_modules/twelve/dist/cli/main.js"), ...args], {
        cwd: app,
        encoding: "utf8",
        env,
        timeout: 20_000,
      });
      return { code: r.status, err: r.stderr };
    };

    it("no native module: one line naming the package to rebuild", () => {
      const r = cli(["threads", "ls", "--store", "twelve.db"]);
      expect(r.code, r.err).toBe(2);
      expectOneLine(
        r.err,
        "sqlite_driver",
        /cannot open the thread store .*twelve\.db: the SQLite driver better-sqlite3 cannot load: its native module is missing.*npm rebuild better-sqlite3/,
      );
    });

    it("a native module that is not a loadable library (ERR_DLOPEN_FAILED)", () => {
      const release = join(app, "node_modules/better-sqlite3/build/Release");
      mkdirSync(release, { recursive: true });
      writeFileSync(join(release, "better_sqlite3.node"), "not a shared library");
      try {
        for (const args of [
          ["threads", "ls", "--store", "twelve.db"],
          ["run", agent, "add 1 and 2", "--model", "script:script.json", "--store", "twelve.db"],
        ]) {
          const r = cli(args);
          expect(r.code, r.err).toBe(2);
          expectOneLine(r.err, "sqlite_driver", /its native module cannot be loaded \(.*better_sqlite3\.node/);
        }
      } finally {
        rmSync(join(app, "node_modules/better-sqlite3/build"), { recursive: true, force: true });
      }
    });
  });
});

describe("end to end: a TypeScript agent without tsx installed", () => {
  it("says to install tsx (or use a .js agent), in one line", () => {
    const app = workspace({ "script.json": [{ intent: "done_for_now", message: "hi" }] });
    const modules = join(app, "node_modules");
    mkdirSync(join(modules, "twelve"), { recursive: true });
    cpSync(join(root, "dist"), join(modules, "twelve/dist"), { recursive: true });
    cpSync(join(root, "package.json"), join(modules, "twelve/package.json"));
    for (const name of readdirSync(join(root, "node_modules"))) {
      if (name === ".bin" || name === "tsx") continue;
      symlinkSync(join(root, "node_modules", name), join(modules, name));
    }
    writeFileSync(join(app, "agent.ts"), "export default {};\n");
    const r = spawnSync(
      process.execPath,
      [join(modules, "twelve/dist/cli/main.js"), "run", "agent.ts", "hi", "--model", "script:script.json"],
      { cwd: app, encoding: "utf8", env, timeout: 20_000 },
    );
    expect(r.status, r.stderr).toBe(2);
    expectOneLine(
      r.stderr,
      "missing_dependency",
      /agent module "agent\.ts" is TypeScript, which needs tsx: run "npm install tsx"/,
    );
  });
});

describe("deeply nested JSON", () => {
  it("a thread file of 100k nested arrays is refused as too deeply nested, from a file or from stdin", () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    const text = `{"id":"thr_deep","agent":"fixture-calculator","schemaVersion":1,"events":[{"id":"e1","type":"user_message","data":${deep},"at":"${at}"}]}`;
    const dir = workspace({ "deep.json": text });
    const fromFile = twelve(["threads", "import", "deep.json"], { cwd: dir });
    expect(fromFile.code).toBe(2);
    expectOneLine(fromFile.err, "invalid_thread", /thread file deep\.json is too deeply nested: more than 512 levels/);
    const fromStdin = twelve(["threads", "import", "-"], { cwd: dir, input: text });
    expect(fromStdin.code).toBe(2);
    expectOneLine(fromStdin.err, "invalid_thread", /thread file standard input is too deeply nested/);
    expect(threadIds(twelve(["threads", "ls"], { cwd: dir }).out)).toEqual([]);
  });

  it("512 levels still import; depth counts only brackets outside strings", () => {
    const ok = `${"[".repeat(MAX_JSON_DEPTH - 3)}"[[[[{{{{\\"]"${"]".repeat(MAX_JSON_DEPTH - 3)}`;
    const thread = `{"id":"thr_ok","agent":"fixture-calculator","schemaVersion":1,"events":[{"id":"e1","type":"user_message","data":${ok},"at":"${at}"}]}`;
    expect(nestedTooDeep(thread)).toBe(-1);
    expect(nestedTooDeep(`[${thread}]`)).toBeGreaterThan(0);
    expect(() => parseJsonText(`[${thread}]`, "x")).toThrow(/x is too deeply nested/);
    const dir = workspace({ "ok.json": thread });
    const r = twelve(["threads", "import", "ok.json"], { cwd: dir });
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
  });

  it("a deeply nested --edit is refused the same way", () => {
    const dir = workspace({ "script.json": [{ intent: "divide", a: 3, b: 4 }] });
    const first = twelve(["run", agent, "divide 3 by 4", "--model", "script:script.json", "--no-input"], { cwd: dir });
    expect(first.code).toBe(3);
    const request = /--request (\S+)/.exec(first.out)?.[1] as string;
    const digest = /--digest (\S+)/.exec(first.out)?.[1] as string;
    const edit = `{"a":${"[".repeat(50_000)}${"]".repeat(50_000)}}`;
    const r = twelve(
      ["run", agent, "--model", "script:script.json", "--request", request, "--digest", digest, "--edit", edit],
      { cwd: dir },
    );
    expect(r.code).toBe(2);
    expectOneLine(r.err, "invalid_flag", /--edit is too deeply nested/);
  });
});

describe("a bad --model", () => {
  it("leaves no thread behind, and creates no store", () => {
    const dir = workspace();
    const r = twelve(["run", agent, "hi", "--model", "warp:drive"], { cwd: dir });
    expect(r.code).toBe(2);
    expectOneLine(r.err, "\\w+", /unknown model scheme "warp"/);
    expect(twelve(["threads", "ls"], { cwd: dir }).out).toBe("no threads\n");
    expect(existsSync(join(dir, ".twelve"))).toBe(false);
    // With a store that exists already, still nothing new in it.
    expect(twelve(["threads", "ls", "--store", "s.db"], { cwd: dir }).out).toBe("no threads\n");
    expect(twelve(["run", agent, "hi", "--model", "warp:drive", "--store", "s.db"], { cwd: dir }).code).toBe(2);
    expect(twelve(["threads", "ls", "--store", "s.db", "--status", "running"], { cwd: dir }).out).toBe("no threads\n");
  });
});
