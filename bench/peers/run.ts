/**
 * `npm run bench:peers`: every contender × workload in its own `node`
 * process, back to back, for N full passes (default 2); prints one table of
 * the medians over the passes, the issue's targets as measured ratios, and
 * the context-token table. Raw results go to bench/results/.
 *
 *   tsx bench/peers/run.ts [--passes 2] [--only twelve,ai-sdk] [--workloads calc,long] [--no-tokens]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { arch, cpus, platform, release, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { ChildResult } from "./child.js";
import { diskLine } from "./disk.js";
import { ALL, CONTENDERS } from "./registry.js";
import { aggregate, table, targetList, targets } from "./report.js";
import { BENCH_DIR, compile, measure, runTs } from "./spawn.js";
import { versions } from "./versions.js";
import type { WorkloadName } from "./workload.js";

const { values } = parseArgs({
  options: {
    passes: { type: "string", default: "2" },
    only: { type: "string" },
    workloads: { type: "string", default: "calc,long,resume" },
    "no-tokens": { type: "boolean", default: false },
  },
});

const passes = Math.max(1, Number(values.passes));
const only = values.only ? values.only.split(",") : ALL;
const workloads = values.workloads.split(",") as WorkloadName[];
for (const id of only) if (!CONTENDERS[id]) throw new Error(`unknown contender "${id}"; known: ${ALL.join(", ")}`);

export function machine(): string {
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  return `${cpu} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${platform()} ${release()} ${arch()}, Node ${process.version}`;
}

console.log(`# twelve vs peers — ${new Date().toISOString()}\n\nmachine: ${machine()}`);
console.log(
  `versions: ${Object.entries(versions())
    .map(([k, v]) => `${k} ${v}`)
    .join(", ")}\n`,
);
compile();

const results: ChildResult[] = [];
const disk: string[] = [];
for (let pass = 1; pass <= passes; pass++) {
  disk.push(`pass ${pass}: ${diskLine()}`);
  for (const id of only) {
    const contender = await CONTENDERS[id]?.();
    for (const w of workloads) {
      if (!contender?.workloads.includes(w)) continue;
      const r = await measure(id, w);
      results.push(r);
      const status = r.ok
        ? `median ${r.perTurnUs?.median.toFixed(1)} µs/turn, ${r.runs} runs`
        : `FAILED ${r.failures.join("; ")}`;
      console.error(`pass ${pass}/${passes}  ${id.padEnd(24)} ${w.padEnd(7)} ${status}`);
    }
  }
}

const rows = aggregate(results);
console.log(
  `\nSQLite commit latency of one small row in this machine's temp dir (WAL, median of 200), measured before each pass:\n${disk.map((d) => `- ${d}`).join("\n")}`,
);
console.log(`\n## Framework overhead per model turn (median of ${passes} full passes)\n`);
console.log(table(rows));
console.log("\n## Targets (ratios in this run)\n");
console.log(targetList(targets(rows)));

const dir = join(BENCH_DIR, "results");
mkdirSync(dir, { recursive: true });
const file = join(dir, `peers-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(
  file,
  `${JSON.stringify({ machine: machine(), versions: versions(), passes, disk, results, rows }, null, 2)}\n`,
);
console.log(`\nraw results: ${file}`);

if (!values["no-tokens"]) {
  console.log("\n## Context tokens (o200k)\n");
  try {
    console.log((await runTs(join(BENCH_DIR, "peers", "tokens.ts"))).trim());
  } catch (error) {
    console.log(`token counts failed: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
