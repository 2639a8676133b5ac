import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(root, "dist/cli/main.js");
const calculator = join(root, "examples/calculator/agent.ts");

function twelve(args: string[], options: { cwd: string; input?: string; env?: Record<string, string> }) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd: options.cwd,
    input: options.input ?? "",
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", TWELVE_MODEL: "", ...options.env },
    timeout: 20_000,
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

function workspace(script: unknown[]) {
  const dir = mkdtempSync(join(tmpdir(), "twelve-cli-"));
  writeFileSync(join(dir, "script.json"), JSON.stringify(script));
  return dir;
}

const threadId = (out: string) => /thread (thr_\w+)/.exec(out)?.[1] ?? "";

describe("twelve run", () => {
  it("runs the calculator end to end with --yes and saves the thread", () => {
    const dir = workspace([
      { intent: "multiply", a: 3, b: 4 },
      { intent: "divide", a: 12, b: 2 },
      { intent: "add", a: 6, b: 12 },
      { intent: "done_for_now", message: "18" },
    ]);
    const r = twelve(
      ["run", calculator, "multiply 3 and 4, then divide by 2, then add 12", "--model", "script:script.json", "--yes"],
      { cwd: dir },
    );
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("✓ add_result: 18");
    // The thread is durable in the embedded store; export gives it back as plain JSON.
    const exported = twelve(["threads", "export", threadId(r.out)], { cwd: dir });
    expect(exported.code).toBe(0);
    const saved = JSON.parse(exported.out);
    expect(saved.events.map((e: { type: string }) => e.type)).toContain("divide_result");
    expect(saved.agent).toBe("calculator");
  });

  it("pauses for approval (exit 3), then resumes from another process by thread id", () => {
    const dir = workspace([{ intent: "divide", a: 3, b: 4 }]);
    const first = twelve(["run", calculator, "divide 3 by 4", "--model", "script:script.json", "--no-input"], {
      cwd: dir,
    });
    expect(first.code).toBe(3);
    expect(first.out).toContain("paused: awaiting_approval");
    expect(first.out).toContain("--approve");
    const id = threadId(first.out);
    writeFileSync(
      join(dir, "rest.json"),
      JSON.stringify([
        { intent: "divide", a: 3, b: 5 },
        { intent: "done_for_now", message: "0.6" },
      ]),
    );
    const second = twelve(
      ["run", calculator, "--thread", id, "--reject", "use 5 instead of 4", "--model", "script:rest.json", "--approve"],
      {
        cwd: dir,
      },
    );
    expect(second.err).toBe("");
    expect(second.code).toBe(0);
    expect(second.out).toContain('approval: {"approved":false,"feedback":"use 5 instead of 4"}');
    expect(second.out).toContain("✓ divide_result: 0.6");
  });

  it("reads approvals and answers from stdin when asked to", () => {
    const dir = workspace([
      { intent: "request_human_input", question: "Which number?" },
      { intent: "divide", a: 42, b: 4 },
      { intent: "done_for_now", message: "edited" },
    ]);
    const r = twelve(["run", calculator, "divide my number", "--model", "script:script.json", "--stdin"], {
      cwd: dir,
      input: '42\nedit {"a":42,"b":2}\n',
    });
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("✓ divide_result: 21");
  });

  it.each([
    [["run", "missing-agent.ts", "hi", "--model", "script:script.json"], /cannot find agent module "missing-agent.ts"/],
    [["run", calculator, "hi", "--model", "warp:drive"], /unknown model scheme "warp"/],

    [["run", calculator, "--thread", "thr_nope", "--model", "script:script.json"], /no thread "thr_nope"/],
    [["run", calculator, "--model", "script:script.json"], /give a message/],
    [["run", calculator, "hi", "--model", "script:not-there.json"], /cannot read model script/],
  ])("bad input %j → exit 2 with a specific message", (args, message) => {
    const dir = workspace([]);
    const r = twelve(args, { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it("with no model configured, uses the embedded default and says clearly when it cannot be downloaded", () => {
    const dir = workspace([]);
    const r = twelve(["run", calculator, "hi"], {
      cwd: dir,
      env: {
        HF_ENDPOINT: "http://127.0.0.1:9",
        TWELVE_MODEL_CACHE: join(dir, "cache"),
        TWELVE_DOWNLOAD_STALL_MS: "1500",
        OPENAI_API_KEY: "",
        ANTHROPIC_API_KEY: "",
      },
    });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/local:hf:Qwen\/.*made no progress.*local:\.\/path\/to\/file\.gguf/);
  });

  it("names malformed agent modules and corrupt thread files", () => {
    const dir = workspace([{ intent: "done_for_now", message: "x" }]);
    writeFileSync(join(dir, "broken.ts"), "export default {{ not typescript");
    writeFileSync(join(dir, "empty.js"), "export const x = 1;\n");
    expect(twelve(["run", "broken.ts", "hi", "--model", "script:script.json"], { cwd: dir }).err).toMatch(
      /agent module "broken.ts" failed to load/,
    );
    expect(twelve(["run", "empty.js", "hi", "--model", "script:script.json"], { cwd: dir }).err).toMatch(
      /exports no agent/,
    );
    const ok = twelve(["run", calculator, "hi", "--model", "script:script.json"], { cwd: dir });
    expect(ok.code).toBe(0);
    writeFileSync(join(dir, "corrupt.json"), '{"id": "x", "events": [');
    const r = twelve(["threads", "import", "corrupt.json"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/corrupt\.json.*not valid JSON/);
    writeFileSync(join(dir, "wrong.json"), '{"id": "x", "agent": "calculator", "events": {}}');
    const wrong = twelve(["threads", "import", "wrong.json"], { cwd: dir });
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/"events" must be an array/);
  });

  it("an unknown intent in a script becomes an error event, not a crash", () => {
    const dir = workspace([
      { intent: "sqrt", x: 9 },
      { intent: "done_for_now", message: "cannot" },
    ]);
    const r = twelve(["run", calculator, "sqrt 9", "--model", "script:script.json"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/✗ error:[\s\S]*unknown_intent[\s\S]*sqrt/);
  });

  it("documents every command in --help", () => {
    const dir = workspace([]);
    const top = twelve(["--help"], { cwd: dir });
    expect(top.code).toBe(0);
    expect(top.out).toContain("run [options] <agent> [message]");
    const run = twelve(["run", "--help"], { cwd: dir });
    expect(run.out).toContain("--reject <feedback>");
    expect(run.out).toContain("Exit codes");
  });
});
