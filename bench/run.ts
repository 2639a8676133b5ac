/**
 * `npm run bench`: every standalone suite in bench/suites/ (parse, models,
 * store, …) as its own process, back to back, with its output streamed;
 * then twelve's own per-turn overhead (in memory, with the SQLite store,
 * and the essay's hand-rolled loop as the floor). The comparison with other
 * frameworks is `npm run bench:peers`.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { ChildResult } from "./peers/child.js";
import { TWELVE_ONLY } from "./peers/registry.js";
import { aggregate, table, targetList, targets } from "./peers/report.js";
import { BENCH_DIR, compile, measure, runTs } from "./peers/spawn.js";
import type { WorkloadName } from "./peers/workload.js";

const suitesDir = join(BENCH_DIR, "suites");
let suites: string[] = [];
try {
  suites = readdirSync(suitesDir)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
    .sort();
} catch {
  // No suites yet.
}

const failed: string[] = [];
for (const file of suites) {
  console.log(`\n=== bench/suites/${file} ===\n`);
  try {
    process.stdout.write(await runTs(join(suitesDir, file), [], { stream: true }));
  } catch (error) {
    failed.push(file);
    console.error(`bench/suites/${file} failed: ${(error as Error).message}`);
  }
}

console.log("\n=== twelve: framework overhead per model turn ===\n");
compile();
const results: ChildResult[] = [];
for (const id of TWELVE_ONLY) {
  for (const w of ["calc", "long", "resume"] as WorkloadName[]) {
    const r = await measure(id, w);
    results.push(r);
    if (!r.ok) failed.push(`${id}/${w}`);
  }
}
const rows = aggregate(results);
console.log(table(rows));
console.log("");
console.log(
  targetList(targets(rows).filter((c) => c.target.startsWith("twelve: per-turn"))) ||
    "(no twelve in-memory rows to check)",
);
console.log("\nCompare with other frameworks: npm run bench:peers");

if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(", ")}`);
  process.exitCode = 1;
}
