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
    env: { ...process.env, NO_COLOR: "1", TWELVE_MODEL: "", TWELVE_USER: "tester", ...options.env },
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

/** The request id and digest from the pause hint the CLI printed. */
function hint(out: string): { request: string; digest: string } {
  const line = out.split("\n").find((l) => l.startsWith("resume with:") || l.startsWith("decide with:")) ?? "";
  return {
    request: /--request (\S+)/.exec(line)?.[1] ?? "",
    digest: /--digest (\S+)/.exec(line)?.[1] ?? "",
  };
}

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

  it("pauses for approval (exit 3), then resumes from another process with the printed request and digest", () => {
    const dir = workspace([{ intent: "divide", a: 3, b: 4 }]);
    const first = twelve(["run", calculator, "divide 3 by 4", "--model", "script:script.json", "--no-input"], {
      cwd: dir,
    });
    expect(first.code).toBe(3);
    expect(first.out).toContain("paused: awaiting_approval");
    const { request, digest } = hint(first.out);
    expect(first.out).toContain(`--request ${request} --digest ${digest} --approve`);
    writeFileSync(
      join(dir, "rest.json"),
      JSON.stringify([
        { intent: "divide", a: 3, b: 5 },
        { intent: "done_for_now", message: "0.6" },
      ]),
    );
    // The rejection answers the printed request; --yes approves only what this invocation raises next.
    const second = twelve(
      [
        "run",
        calculator,
        "--model",
        "script:rest.json",
        "--request",
        request,
        "--reject",
        "use 5 instead of 4",
        "--yes",
      ],
      { cwd: dir },
    );
    expect(second.err).toBe("");
    expect(second.code).toBe(0);
    expect(second.out).toContain('approval: {"approved":false,"feedback":"use 5 instead of 4"}');
    expect(second.out).toContain("✓ divide_result: 0.6");
  });

  it("refuses answers that name no request, or could approve something nobody saw", () => {
    const dir = workspace([{ intent: "divide", a: 3, b: 4 }]);
    const first = twelve(["run", calculator, "divide 3 by 4", "--model", "script:script.json", "--no-input"], {
      cwd: dir,
    });
    const id = threadId(first.out);
    const { request, digest } = hint(first.out);
    const refused: [string[], RegExp][] = [
      [["--thread", id, "--approve"], /--approve needs --request <id>/],
      [["--thread", id, "--answer", "42"], /--answer needs --request <id>/],
      [["--thread", id, "--yes"], /--yes on a --thread resume needs --request/],
      [["--thread", id, "--stdin"], /--stdin on a --thread resume needs --request/],
      [["--request", request, "--digest", digest, "--approve", "--reject", "no"], /--approve and --reject conflict/],
      [
        ["--request", request, "--digest", digest, "--answer", "42"],
        /"respond" is not allowed here; allowed: approve, edit, reject \[invalid_decision\]/,
      ],
      [["--request", request, "--approve"], /must carry the digest of the arguments shown/],
      [["--request", request, "--digest", "stale", "--approve"], /not the ones shown.*\[request_changed\]/],
      [["--request", "rq_garbage", "--approve"], /not a request id \[request_not_found\]/],
      [["--thread", "thr_other", "--request", request, "--digest", digest, "--approve"], /belongs to thread/],
    ];
    for (const [args, message] of refused) {
      const r = twelve(["run", calculator, "--model", "script:script.json", ...args], { cwd: dir });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err, args.join(" ")).toMatch(message);
    }
    // Nothing was appended by any refused answer.
    const exported = JSON.parse(twelve(["threads", "export", id], { cwd: dir }).out);
    expect(exported.events.map((e: { type: string }) => e.type)).toEqual(["user_message", "divide"]);
  }, 120_000); // about 20 CLI processes, one after another

  it("an approval repeated after the thread moved on is already answered, and never approves the next request", () => {
    const dir = workspace([{ intent: "divide", a: 5, b: 1 }]);
    const first = twelve(["run", calculator, "charge twice", "--model", "script:script.json", "--no-input"], {
      cwd: dir,
    });
    const approveFirst = hint(first.out);
    writeFileSync(join(dir, "next.json"), JSON.stringify([{ intent: "divide", a: 500, b: 1 }]));
    const args = ["--request", approveFirst.request, "--digest", approveFirst.digest, "--approve"];
    const second = twelve(["run", calculator, "--model", "script:next.json", ...args], { cwd: dir });
    expect(second.code).toBe(3);
    expect(second.out).toContain("✓ divide_result: 5");
    expect(second.out).toContain('approve divide {"a":500,"b":1}?');
    const again = twelve(["run", calculator, "--model", "script:next.json", ...args], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.err).toMatch(
      /was already answered by tester via cli at .* \(approve, event evt_\w+\) \[already_answered\]/,
    );
    const exported = JSON.parse(twelve(["threads", "export", threadId(first.out)], { cwd: dir }).out);
    expect(exported.events.filter((e: { type: string }) => e.type === "divide_result")).toHaveLength(1);
    expect(exported.events.at(-1).data).toEqual({ intent: "divide", a: 500, b: 1 });
  });

  it("shows a step that may or may not have run as a warning with its own three choices", () => {
    const dir = workspace([{ intent: "done_for_now", message: "ok" }]);
    const at = "2026-01-01T00:00:00.000Z";
    const thread = {
      id: "thr_uncertain",
      agent: "calculator",
      schemaVersion: 1,
      events: [
        { id: "e1", type: "user_message", data: "divide 8 by 2", at },
        {
          id: "e2",
          type: "divide",
          data: { intent: "divide", a: 8, b: 2 },
          at,
          meta: { kind: "step", intent: "divide", policy: "approve" },
        },
        { id: "e3", type: "approval", data: { approved: true }, at, meta: { stepId: "e2" } },
        {
          id: "e4",
          type: "divide_started",
          data: { arguments: { a: 8, b: 2 } },
          at,
          meta: { kind: "started", stepId: "e2", intent: "divide" },
        },
      ],
    };
    writeFileSync(join(dir, "uncertain.json"), JSON.stringify(thread));
    expect(twelve(["threads", "import", "uncertain.json"], { cwd: dir }).code).toBe(0);
    const shown = twelve(["run", calculator, "--thread", "thr_uncertain", "--model", "script:script.json"], {
      cwd: dir,
    });
    expect(shown.code).toBe(3);
    expect(shown.out).toMatch(/⚠ request rq_\S+: divide \{"a":8,"b":2\} may or may not have run/);
    expect(shown.out).toMatch(/decide with: .* --mark-done \['<result json>'\] \| --run-again \| --abandon "<reason>"/);
    expect(shown.out).not.toContain("--approve");
    const { request, digest } = hint(shown.out);
    // Approving is not a decision an uncertain step takes; running it again is, with the digest shown.
    const wrong = twelve(
      ["run", calculator, "--model", "script:script.json", "--request", request, "--digest", digest, "--approve"],
      { cwd: dir },
    );
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/\[invalid_decision\]/);
    const again = twelve(
      ["run", calculator, "--model", "script:script.json", "--request", request, "--digest", digest, "--run-again"],
      { cwd: dir },
    );
    expect(again.err).toBe("");
    expect(again.code).toBe(0);
    expect(again.out).toContain("✓ divide_result: 4");
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
    // A network failure is worth retrying: exit 4 by the error table (docs/errors.md), with the way out named.
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/local:hf:Qwen\/.*made no progress.*local:\.\/path\/to\/file\.gguf.*\[network\]/);
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
