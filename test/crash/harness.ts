import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");

/**
 * Bundles a TypeScript entry (worker) into one ESM file with esbuild so each
 * restart costs a plain `node` start instead of a TypeScript loader: that is
 * what lets 50+ kills fit in the time budget. The bundle lives under the
 * project's node_modules so the external drivers resolve from there.
 */
export async function bundle(entry: string, name: string): Promise<string> {
  const { build } = await import("esbuild");
  const outDir = join(root, "node_modules", ".cache", "twelve-tests");
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, `${name}-${process.pid}.mjs`);
  await build({
    entryPoints: [join(here, entry)],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Native and driver packages stay external; everything else is inlined so start-up reads one file.
    external: ["better-sqlite3", "better-sqlite3-13", "pg"],
    // CommonJS dependencies bundled into ESM need a real `require` for node builtins.
    banner: {
      js: 'import { createRequire as __twelveRequire } from "node:module"; const require = __twelveRequire(import.meta.url);',
    },
    logLevel: "error",
  });
  return outfile;
}

/** A small seeded PRNG (mulberry32) so a failing run can be replayed with its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Started {
  child: ChildProcess;
  ready: Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }>;
}

export function startWorker(script: string, args: string[], options: { stdin?: boolean } = {}): Started {
  const child = spawn(process.execPath, [script, ...args], {
    stdio: [options.stdin ? "pipe" : "ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes("ready\n")) markReady();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }>(
    (resolve) => {
      child.on("exit", (code, signal) => {
        markReady();
        resolve({ code, signal, stderr, stdout });
      });
    },
  );
  return { child, ready, exit };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
