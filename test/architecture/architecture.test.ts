import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { eagerPackages, folderArrows, sourceFiles } from "./imports.js";

const src = join(import.meta.dirname, "../../src");

/**
 * The import direction of shared/DESIGN.md, as a table: for each folder of
 * src/, the folders it may import values from. `model/` types may be
 * imported from anywhere (type-only); nothing imports `cli/`. A new arrow
 * against this table is a design question, not a quick fix.
 */
const CORE = ["errors", "thread", "intent", "context", "agent"];
const ALLOWED: Record<string, readonly string[]> = {
  errors: [],
  thread: ["errors"],
  model: ["errors"],
  intent: ["errors", "thread"],
  context: ["errors", "thread", "intent"],
  agent: ["errors", "thread", "intent", "context"],
  store: ["errors", "thread"],
  runtime: [...CORE, "model", "store"],
  // The config module names agents, models and stores by type only; its one value import is errors/.
  config: ["errors", "agent", "store"],
  channel: [...CORE, "model", "runtime"],
  trigger: [...CORE, "model", "runtime"],
  server: [...CORE, "model", "store", "runtime", "channel", "trigger", "config"],
  telemetry: [...CORE, "model"],
  mcp: [...CORE, "model"],
  eval: [...CORE, "model", "store", "runtime"],
  cli: [...CORE, "model", "store", "runtime", "channel", "trigger", "server", "telemetry", "mcp", "eval", "config"],
  // The package entry points (index.ts, testing.ts) re-export everything but the CLI.
  "(root)": [
    ...CORE,
    "model",
    "store",
    "runtime",
    "channel",
    "trigger",
    "server",
    "telemetry",
    "mcp",
    "eval",
    "config",
  ],
};
function violations(root: string): string[] {
  const out: string[] = [];
  for (const a of folderArrows(root)) {
    const allowed = ALLOWED[a.from];
    if (!allowed) out.push(`${a.file}: folder "${a.from}" is not in the architecture table`);
    else if (a.to === "cli") out.push(`${a.file} imports cli/ (nothing may)`);
    else if (allowed.includes(a.to)) continue;
    // Type-only: model/ types from anywhere, and thread/ types into model/.
    else if (a.kind === "type" && (a.to === "model" || (a.from === "model" && a.to === "thread"))) continue;
    else out.push(`${a.file}: ${a.from}/ → ${a.to}/ (${a.kind}) is against the import direction`);
  }
  return out;
}

describe("architecture: the import direction", () => {
  it("src/ has no arrow against the table", () => {
    expect(violations(src)).toEqual([]);
  });

  it("the CLI never appends to a store or runs the loop itself: it goes through runtime/", () => {
    for (const file of sourceFiles(join(src, "cli"))) {
      const source = readFileSync(file, "utf8");
      expect(source, file).not.toMatch(/\.append\(|from "\.\.\/(\.\.\/)?agent\/(run|resume|step)\.js"/);
    }
  });

  it("catches deliberately wrong imports in a fixture (store/ running the loop, model/ importing values)", () => {
    const found = violations(join(import.meta.dirname, "fixture/src"));
    expect(found).toEqual([
      "model/model.ts: model/ → agent/ (value) is against the import direction",
      "store/store.ts: store/ → agent/ (value) is against the import direction",
    ]);
  });
});

describe("architecture: heavy dependencies load lazily", () => {
  const HEAVY = ["openai", "@anthropic-ai/sdk", "node-llama-cpp", "ai", "better-sqlite3", "pg"];
  const heavyIn = (entry: string) => [...eagerPackages(join(src, entry))].filter((p) => HEAVY.includes(p));

  it("the core entry, the model barrel and resolveModel load no provider SDK, node-llama-cpp or ai", () => {
    for (const entry of [
      "index.ts",
      "model/index.ts",
      "model/resolve.ts",
      "model/cassette.ts",
      "model/resilience.ts",
      "model/local/index.ts",
      "model/ai-sdk.ts",
      "runtime/index.ts",
    ]) {
      expect(heavyIn(entry), entry).toEqual([]);
    }
  });

  it("the core entry loads nothing beyond its small dependencies and Node's own modules", () => {
    const packages = [...eagerPackages(join(src, "index.ts"))].filter((p) => !p.startsWith("node:"));
    expect(packages.sort()).toEqual(["jsonrepair", "yaml", "zod"]);
  });

  it("stores load their drivers only when opened", () => {
    for (const entry of ["store/index.ts", "store/open.ts"]) expect(heavyIn(entry), entry).toEqual([]);
  });

  it("the detector does see the adapters' own SDK imports", () => {
    expect(eagerPackages(join(src, "model/openai.ts")).has("openai")).toBe(true);
    expect(eagerPackages(join(src, "model/anthropic.ts")).has("@anthropic-ai/sdk")).toBe(true);
  });
});
