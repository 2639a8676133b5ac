import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const HEAVY = ["openai", "@anthropic-ai/sdk", "node-llama-cpp", "ai", "better-sqlite3", "pg"];

/** Every package a module loads eagerly: static value imports, followed through relative files; `import type` and `import()` are skipped. */
function eagerPackages(entry: string, seen = new Set<string>(), found = new Set<string>()): Set<string> {
  if (seen.has(entry)) return found;
  seen.add(entry);
  const source = readFileSync(entry, "utf8");
  const statements =
    source.match(/^(?:import|export)\s+(?!type\b)[^;]*?\sfrom\s+"([^"]+)";?|^import\s+"([^"]+)";?/gm) ?? [];
  for (const statement of statements) {
    const specifier = /"([^"]+)"/.exec(statement)![1]!;
    if (specifier.startsWith(".")) {
      eagerPackages(resolve(dirname(entry), specifier.replace(/\.js$/, ".ts")), seen, found);
    } else {
      found.add(specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]!);
    }
  }
  return found;
}

describe("heavy dependencies load lazily", () => {
  const root = join(import.meta.dirname, "../../src/model");

  it("the core entry, the model barrel and resolveModel load no provider SDK, node-llama-cpp or ai", () => {
    for (const entry of [
      "../index.ts",
      "index.ts",
      "resolve.ts",
      "cassette.ts",
      "resilience.ts",
      "local/index.ts",
      "ai-sdk.ts",
    ]) {
      const packages = eagerPackages(join(root, entry));
      expect(
        [...packages].filter((p) => HEAVY.includes(p)),
        entry,
      ).toEqual([]);
    }
  });

  it("the core entry loads nothing beyond its three small dependencies and Node's own modules", () => {
    const packages = [...eagerPackages(join(root, "../index.ts"))].filter((p) => !p.startsWith("node:"));
    expect(packages.sort()).toEqual(["jsonrepair", "yaml", "zod"]);
  });

  it("stores load their drivers only when opened", () => {
    for (const entry of ["../store/index.ts", "../store/open.ts"]) {
      expect(
        [...eagerPackages(join(root, entry))].filter((p) => HEAVY.includes(p)),
        entry,
      ).toEqual([]);
    }
  });

  it("the detector does see the adapters' own SDK imports", () => {
    expect(eagerPackages(join(root, "openai.ts")).has("openai")).toBe(true);
    expect(eagerPackages(join(root, "anthropic.ts")).has("@anthropic-ai/sdk")).toBe(true);
  });
});
