import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ChildResult } from "./child.js";
import type { WorkloadName } from "./workload.js";

export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");
export const REPO_DIR = join(BENCH_DIR, "..");
const CHILD_JS = join(BENCH_DIR, ".build", "bench", "peers", "child.js");

/**
 * Compiles the contenders (and the twelve sources they import) to plain JS
 * with tsc, so every measured process runs on plain `node`: no TypeScript
 * loader hooks on any framework's hot path.
 */
export function compile(): void {
  const tsc = join(REPO_DIR, "node_modules", "typescript", "bin", "tsc");
  const out = spawnSync(process.execPath, [tsc, "-p", join(BENCH_DIR, "tsconfig.build.json")], { encoding: "utf8" });
  if (out.status !== 0) {
    // Without `npm --prefix bench install` the peers' modules are missing; twelve's own contenders still build.
    if (peersInstalled()) process.stderr.write(out.stdout + out.stderr);
    if (!existsSync(CHILD_JS)) throw new Error("bench: compiling the contenders failed");
    else
      process.stderr.write(
        "bench: framework peers not installed (npm run bench:peers installs them); measuring twelve only\n",
      );
    if (peersInstalled())
      process.stderr.write("bench: tsc reported type errors (above); measuring the emitted JS anyway\n");
  }
}

/** Runs one contender × workload in a fresh `node` process; its stderr streams through. */
export function measure(contender: string, workload: WorkloadName, env: NodeJS.ProcessEnv = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD_JS, contender, workload], {
      cwd: REPO_DIR,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const line = stdout.trim().split("\n").at(-1) ?? "";
      try {
        resolve(JSON.parse(line) as ChildResult);
      } catch {
        reject(
          new Error(`bench: ${contender}/${workload} exited with code ${code} and no result: ${stdout.slice(-500)}`),
        );
      }
    });
  });
}

/**
 * Runs a TypeScript script under tsx in its own process with the repo's check
 * tsconfig, whose `paths` map the examples' `import "twelve"` to the sources.
 * Returns its stdout (unless streamed straight through); its stderr streams through.
 */
export function runTs(script: string, args: string[] = [], options: { stream?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
      cwd: REPO_DIR,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(REPO_DIR, "tsconfig.check.json") },
      stdio: ["ignore", options.stream ? "inherit" : "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`${script} exited with code ${code}`)),
    );
  });
}

export function peersInstalled(): boolean {
  return existsSync(join(BENCH_DIR, "node_modules", "@openai", "agents"));
}
