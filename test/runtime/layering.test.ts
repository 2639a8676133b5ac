import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const src = join(import.meta.dirname, "../../src");

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory()
      ? files(join(dir, d.name))
      : d.name.endsWith(".ts") && !d.name.endsWith(".test.ts")
        ? [join(dir, d.name)]
        : [],
  );
}

/** The top-level folders of src/ a folder's files import (value and type imports alike). */
function importedFolders(folder: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of files(join(src, folder))) {
    const source = readFileSync(file, "utf8");
    for (const [, specifier] of source.matchAll(/(?:from|import)\s*\(?\s*"(\.[^"]+)"/g)) {
      const target = relative(src, resolve(dirname(file), specifier as string)).split("/")[0] as string;
      if (target === folder) continue;
      out.set(target, [...(out.get(target) ?? []), relative(src, file)]);
    }
  }
  return out;
}

// The slice of DESIGN.md's import direction that the runtime issue settles; the package issue grows
// this into the full table of allowed arrows.
describe("layering around runtime/", () => {
  it("store/ imports only thread/ and errors/ (it no longer runs the agent loop)", () => {
    const seen = [...importedFolders("store").keys()].sort();
    expect(seen.filter((f) => !["errors", "thread"].includes(f))).toEqual([]);
  });

  it("agent/ never imports store/, runtime/, server/, channel/ or cli/", () => {
    const seen = [...importedFolders("agent").keys()];
    expect(seen.filter((f) => ["store", "runtime", "server", "channel", "cli"].includes(f))).toEqual([]);
  });

  it("the CLI never appends to a store or runs the loop itself: it goes through runtime/", () => {
    for (const file of files(join(src, "cli"))) {
      const source = readFileSync(file, "utf8");
      expect(source, relative(src, file)).not.toMatch(/\.append\(|from "\.\.\/(\.\.\/)?agent\/(run|resume|step)\.js"/);
    }
  });

  it("the checker sees a forbidden arrow (store/ importing agent/)", () => {
    // The same scan over a folder that does import agent/: runtime/.
    expect(importedFolders("runtime").has("agent")).toBe(true);
  });
});
