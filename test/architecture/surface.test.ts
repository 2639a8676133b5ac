import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  exports: Record<string, string | { types: string; import: string }>;
};

/** Each package entry point, as the source file its dist/ build comes from. */
const entries = Object.entries(manifest.exports)
  .filter(([, target]) => typeof target !== "string")
  .map(([subpath, target]) => {
    const built = (target as { import: string }).import;
    return { subpath, source: join(root, built.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts")) };
  });

function exportedNames(files: string[]): Map<string, string[]> {
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const out = new Map<string, string[]>();
  for (const file of files) {
    const source = program.getSourceFile(file);
    const symbol = source && checker.getSymbolAtLocation(source);
    out.set(file, symbol ? checker.getExportsOfModule(symbol).map((s) => s.name) : []);
  }
  return out;
}

describe("the public surface", () => {
  const names = exportedNames(entries.map((e) => e.source));
  const rootNames = new Set(names.get(join(root, "src/index.ts")));

  it("has the entry points the docs name", () => {
    expect(entries.map((e) => e.subpath)).toEqual(
      expect.arrayContaining([".", "./testing", "./model", "./store", "./runtime"]),
    );
  });

  it("the root exports what an agent author writes with, and none of the subpaths' own things", () => {
    for (const name of ["defineAgent", "defineIntent", "run", "resume", "approve", "xmlYaml", "TwelveError"]) {
      expect(rootNames.has(name), name).toBe(true);
    }
    for (const name of ["openStore", "createRuntime", "resolveModel", "scriptedModel", "memoryStore", "Model"]) {
      expect(rootNames.has(name), name).toBe(false);
    }
  });

  it("no subpath repeats a name of the root", () => {
    for (const { subpath, source } of entries) {
      if (subpath === ".") continue;
      const repeated = (names.get(source) ?? []).filter((n) => rootNames.has(n));
      expect(repeated, subpath).toEqual([]);
    }
  });

  it("test helpers (the GGUF writer, the tiny model) are not shipped", () => {
    const { files } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { files: string[] };
    expect(files).toContain("dist");
    for (const name of ["gguf-writer", "tiny-model"]) {
      const shipped = ts.sys
        .readDirectory(join(root, "src"), [".ts"], undefined, undefined)
        .filter((f) => f.includes(name));
      expect(shipped, name).toEqual([]);
    }
  });
});
