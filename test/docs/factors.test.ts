// docs/factors.md cannot rot: every ```ts block in it is type-checked and
// run as a program (importing "twelve-agents" from the sources), and every path and
// API name the page points to must exist.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const markdown = readFileSync(join(root, "docs/factors.md"), "utf8");

/** The ```ts blocks, each named after the section it is in. */
function snippets(text: string): { name: string; code: string }[] {
  const found: { name: string; code: string }[] = [];
  let section = "intro";
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith("## ")) section = line.slice(3).trim();
    if (line.trim() !== "```ts") continue;
    const start = i + 1;
    while (i + 1 < lines.length && (lines[i + 1] as string).trim() !== "```") i++;
    found.push({ name: section, code: lines.slice(start, i + 1).join("\n") });
    i++;
  }
  return found;
}

const blocks = snippets(markdown);

// A scratch project outside the repository: "twelve-agents" maps to the sources,
// other packages resolve through a link to the repository's node_modules.
const dir = mkdtempSync(join(tmpdir(), "twelve-docs-"));
symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
writeFileSync(
  join(dir, "tsconfig.json"),
  JSON.stringify({
    extends: join(root, "tsconfig.check.json"),
    compilerOptions: {
      rootDir: "/",
      noEmit: true,
      paths: {
        "twelve-agents": [join(root, "src/index.ts")],
        "twelve-agents/testing": [join(root, "src/testing.ts")],
        "twelve-agents/model": [join(root, "src/model/index.ts")],
        "twelve-agents/store": [join(root, "src/store/index.ts")],
        "twelve-agents/runtime": [join(root, "src/runtime/index.ts")],
      },
    },
    include: ["*.ts"],
  }),
);
// Every name in the table's API column must be an export of "twelve-agents" — except
// policy and option names, which are listed here and appear as such in the sources.
const OPTION_NAMES = ["human", "async", "done", "maxSteps", "output", "hooks", "hooks.prefetch", "errors"];
const tableRows = markdown.split("\n").filter((l) => /^\|\s*\d+\s*\|/.test(l));
const apiNames = [
  ...new Set(
    tableRows
      .flatMap((row) => [...(row.split("|")[3] ?? "").matchAll(/`([A-Za-z][\w.]*)`/g)].map((m) => m[1] as string))
      .filter((name) => !OPTION_NAMES.includes(name)),
  ),
];
writeFileSync(join(dir, "api-names.ts"), `export type { ${apiNames.join(", ")} } from "twelve-agents";\n`);

async function attempt(command: string, args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await exec(command, args, {
      cwd: dir,
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: e.code ?? 1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` || e.message };
  }
}

const files = blocks.map((b, i) => {
  const file = join(dir, `snippet-${String(i + 1).padStart(2, "0")}.ts`);
  writeFileSync(file, `${b.code}\n`);
  return { ...b, file };
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// All snippets run in one Node process (sources compiled once), each imported
// as its own module, in order; a failure is recorded and the next one runs.
writeFileSync(
  join(dir, "run-all.mjs"),
  `import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const results = {};
for (const file of process.argv.slice(2)) {
  try {
    await import(pathToFileURL(file).href);
    results[file] = "ok";
  } catch (error) {
    results[file] = String(error?.stack ?? error);
  }
}
writeFileSync(${JSON.stringify(join(dir, "results.json"))}, JSON.stringify(results));
`,
);
const ran = attempt(process.execPath, ["--import", "tsx", "run-all.mjs", ...files.map((f) => f.file)], {
  TSX_TSCONFIG_PATH: join(dir, "tsconfig.json"),
}).then(({ output }) => ({
  output,
  results: existsSync(join(dir, "results.json"))
    ? (JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as Record<string, string>)
    : {},
}));

describe("docs/factors.md", () => {
  it("has one runnable snippet for each of the twelve factors and the appendix's pre-fetch", () => {
    const sections = markdown.match(/^## \d+\. .+$/gm) ?? [];
    expect(sections.map((s) => Number(/^## (\d+)\./.exec(s)?.[1]))).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
    ]);
    expect(tableRows.map((row) => Number(/^\|\s*(\d+)/.exec(row)?.[1]))).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
    ]);
    expect(blocks.map((b) => Number(/^(\d+)\./.exec(b.name)?.[1]))).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
    ]);
  });

  it("type-checks every snippet against the sources", async () => {
    const tsc = join(root, "node_modules/typescript/bin/tsc");
    const result = await attempt(process.execPath, [tsc, "-p", join(dir, "tsconfig.json")]);
    expect(result.output).toBe("");
    expect(result.code).toBe(0);
  }, 120_000);

  describe("runs every snippet", () => {
    for (const snippet of files) {
      it(snippet.name, async () => {
        const { results, output } = await ran;
        expect(results[snippet.file], output).toBe("ok");
      });
    }
  });

  it("points only at files that exist", () => {
    const paths = new Set(markdown.match(/`((?:src|examples|test|docs)\/[^`\s]*)`/g)?.map((p) => p.slice(1, -1)));
    expect(paths.size).toBeGreaterThan(10);
    for (const path of paths) expect(existsSync(join(root, path)), path).toBe(true);
  });

  it("names only APIs that twelve exports (checked by the type-check above) or documented option names", () => {
    expect(apiNames.length).toBeGreaterThanOrEqual(25);
    expect(apiNames).toContain("step");
    const sources = ["src/thread/event.ts", "src/thread/meta.ts", "src/agent/agent.ts"]
      .map((f) => readFileSync(join(root, f), "utf8"))
      .join("");
    for (const option of OPTION_NAMES) {
      const last = option.split(".").at(-1) as string;
      expect(new RegExp(`"${last}"|\\b${last}\\?:`).test(sources), option).toBe(true);
    }
  });
});
