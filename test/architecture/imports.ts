import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** One import statement of a source file: what it names and how (type-only, static value, or dynamic). */
export interface ImportEdge {
  file: string;
  specifier: string;
  kind: "type" | "value" | "dynamic";
}

const STATIC = /^(?:import|export)\s+(type\s+)?[^;]*?\sfrom\s+"([^"]+)";?|^import\s+"([^"]+)";?/gm;
const DYNAMIC = /\bimport\(\s*"([^"]+)"\s*\)/g;

export function importsOf(file: string): ImportEdge[] {
  const source = readFileSync(file, "utf8");
  const out: ImportEdge[] = [];
  for (const m of source.matchAll(STATIC)) {
    out.push({ file, specifier: (m[2] ?? m[3]) as string, kind: m[1] ? "type" : "value" });
  }
  for (const m of source.matchAll(DYNAMIC)) out.push({ file, specifier: m[1] as string, kind: "dynamic" });
  return out;
}

export function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(path);
    return d.name.endsWith(".ts") && !d.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** The top-level folder of `src/` a path is in (`(root)` for src/index.ts and friends). */
export function folderOf(src: string, path: string): string {
  const rel = relative(src, path);
  return rel.includes("/") ? (rel.split("/")[0] as string) : "(root)";
}

/** Every import from one folder of `src/` into another, with its kind. */
export function folderArrows(src: string): { from: string; to: string; kind: ImportEdge["kind"]; file: string }[] {
  const arrows: { from: string; to: string; kind: ImportEdge["kind"]; file: string }[] = [];
  for (const file of sourceFiles(src)) {
    const from = folderOf(src, file);
    for (const edge of importsOf(file)) {
      if (!edge.specifier.startsWith(".")) continue;
      const to = folderOf(src, resolve(dirname(file), edge.specifier));
      if (to !== from) arrows.push({ from, to, kind: edge.kind, file: relative(src, file) });
    }
  }
  return arrows;
}

/**
 * Every package a module loads eagerly: static value imports, followed
 * through relative files; `import type` and `import()` are skipped.
 */
export function eagerPackages(entry: string, seen = new Set<string>(), found = new Set<string>()): Set<string> {
  if (seen.has(entry)) return found;
  seen.add(entry);
  for (const edge of importsOf(entry)) {
    if (edge.kind !== "value") continue;
    if (edge.specifier.startsWith(".")) {
      eagerPackages(resolve(dirname(entry), edge.specifier.replace(/\.js$/, ".ts")), seen, found);
    } else {
      const s = edge.specifier;
      found.add(s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : (s.split("/")[0] as string));
    }
  }
  return found;
}
