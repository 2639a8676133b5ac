import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { liveLine } from "../../src/cli/live.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(root, "dist/cli/main.js");
const calculator = join(root, "examples/calculator/agent.ts");
const ERASE = "\r\x1b[2K";

describe("the live line", () => {
  it("rewrites one line as the arguments arrive, marks open strings, and erases itself", () => {
    const written: string[] = [];
    const live = liveLine(
      (t) => written.push(t),
      () => 80,
      false,
    );
    live.clear(); // nothing shown yet: nothing written
    live.partial({ value: {}, incomplete: [], complete: false }); // no intent yet: nothing to show
    live.partial({ intent: "note", value: { title: "Gro" }, incomplete: ["/title"], complete: false });
    live.partial({ intent: "note", value: { title: "Groceries", tags: ["a/b"] }, incomplete: [], complete: false });
    live.clear();
    live.clear();
    expect(written).toEqual([
      `${ERASE}… note {"title":"Gro…"}`,
      `${ERASE}… note {"title":"Groceries","tags":["a/b"]}`,
      ERASE,
    ]);
  });

  it("never wraps: cut to the terminal's width; dimmed when colour is on", () => {
    const written: string[] = [];
    const live = liveLine(
      (t) => written.push(t),
      () => 30,
      true,
    );
    live.partial({ intent: "note", value: { body: "x".repeat(100) }, incomplete: ["/body"], complete: false });
    const text = written[0]!.slice(ERASE.length);
    expect(text.startsWith("\x1b[2m… note")).toBe(true);
    const plain = text.replace("\x1b[2m", "").replace("\x1b[0m", "");
    expect(Array.from(plain)).toHaveLength(29);
    expect(plain.endsWith("…")).toBe(true);
  });
});

/** `twelve run` with --yes; under `script` (util-linux) its standard output is a terminal. */
function runCalculator(tty: boolean) {
  const dir = mkdtempSync(join(tmpdir(), "twelve-live-"));
  const message = "3 × 4 = 12, so the product of three and four is twelve. That is the answer.";
  writeFileSync(
    join(dir, "script.json"),
    JSON.stringify([
      { intent: "multiply", a: 3, b: 4 },
      { intent: "done_for_now", message },
    ]),
  );
  const args = [bin, "run", calculator, "multiply 3 and 4", "--model", "script:script.json", "--yes"];
  const env = { ...process.env, NO_COLOR: "1", TWELVE_MODEL: "", TWELVE_USER: "tester", TERM: "xterm" };
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const result = tty
    ? spawnSync(
        "script",
        ["-qefc", `stty cols 200 rows 50; ${[process.execPath, ...args].map(quote).join(" ")}`, "/dev/null"],
        {
          cwd: dir,
          env,
          encoding: "utf8",
          timeout: 30_000,
        },
      )
    : spawnSync(process.execPath, args, { cwd: dir, env, input: "", encoding: "utf8", timeout: 30_000 });
  return { code: result.status, out: result.stdout, err: result.stderr, message };
}

const scriptAvailable = spawnSync("script", ["--version"]).status === 0;
if (!scriptAvailable && process.env.CI) {
  throw new Error("CI is set but script (util-linux) is missing: the live-line test cannot run (.ci/run installs it)");
}

describe("twelve run shows a step's arguments filling in", () => {
  it.skipIf(!scriptAvailable)("on a terminal: one line rewritten as the arguments arrive, then the step", () => {
    const tty = runCalculator(true);
    expect(tty.code).toBe(0);
    // A terminal turns "\n" into "\r\n".
    const out = tty.out.replaceAll("\r\n", "\n");
    const pieces = out.split(ERASE);
    const lives = pieces.slice(1).flatMap((piece) => (piece.startsWith("… ") ? [piece.split(/[\r\n]/)[0]] : []));
    // The long message arrives in pieces: an open string first, then the whole step.
    expect(lives.some((t) => /^… done_for_now \{"message":"3 × 4 = 12[^"]*…"\}$/.test(t ?? ""))).toBe(true);
    expect(lives).toContain(`… done_for_now {"message":"${tty.message}"}`);
    expect(lives.some((t) => t?.startsWith("… multiply"))).toBe(true);

    // With the live line taken out, the terminal shows exactly what a pipe gets.
    const piped = runCalculator(false);
    expect(piped.code).toBe(0);
    const shown = pieces
      .map((piece, i) => (i > 0 && piece.startsWith("… ") ? piece.replace(/^… [^\r\n]*/, "") : piece))
      .join("");
    const normal = (text: string) => text.replace(/thr_\w+/g, "thr_X");
    expect(normal(shown)).toBe(normal(piped.out));
  });

  it("piped: nothing extra, no escape sequences", () => {
    const piped = runCalculator(false);
    expect(piped.code).toBe(0);
    expect(piped.out).not.toContain("\x1b");
    expect(piped.out).not.toContain("\r");
    expect(piped.out).not.toContain("…");
    expect(piped.out).toContain("✓ multiply_result: 12");
  });
});
