import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { BENCH_DIR, REPO_DIR } from "./spawn.js";

const PACKAGES = [
  "@openai/agents",
  "ai",
  "ai6",
  "@langchain/langgraph",
  "@langchain/core",
  "@langchain/langgraph-checkpoint-sqlite",
  "zod",
  "better-sqlite3",
  "gpt-tokenizer",
];

/** Installed versions of twelve and every peer, read from their package.json files. */
export function versions(): Record<string, string> {
  const out: Record<string, string> = {
    twelve: (JSON.parse(readFileSync(join(REPO_DIR, "package.json"), "utf8")) as { version: string }).version,
  };
  const require = createRequire(join(BENCH_DIR, "package.json"));
  for (const name of PACKAGES) {
    try {
      const dir = require.resolve(`${name}/package.json`);
      out[name] = (JSON.parse(readFileSync(dir, "utf8")) as { version: string }).version;
    } catch {
      out[name] = findUp(name) ?? "not installed";
    }
  }
  return out;
}

/** Some packages do not export their package.json; read it from node_modules directly. */
function findUp(name: string): string | undefined {
  for (const base of [join(BENCH_DIR, "node_modules"), join(REPO_DIR, "node_modules")]) {
    try {
      return (JSON.parse(readFileSync(join(base, name, "package.json"), "utf8")) as { version: string }).version;
    } catch {}
  }
  return undefined;
}
