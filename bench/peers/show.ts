/**
 * Reprints the tables and target checks of saved runs. With several files the
 * passes of all of them are pooled: each cell is the median over every pass.
 *   npx tsx bench/peers/show.ts bench/results/peers-<time>.json [more.json …]
 */
import { readFileSync } from "node:fs";
import type { ChildResult } from "./child.js";
import { aggregate, table, targetList, targets } from "./report.js";

interface Saved {
  machine: string;
  versions: Record<string, string>;
  passes: number;
  disk?: string[];
  results: ChildResult[];
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: show.ts <bench/results/peers-….json> [more.json …]");
  process.exit(2);
}
const runs = files.map((f) => JSON.parse(readFileSync(f, "utf8")) as Saved);
const first = runs[0] as Saved;
const passes = runs.reduce((n, r) => n + r.passes, 0);
const rows = aggregate(runs.flatMap((r) => r.results));
console.log(`machine: ${first.machine}`);
console.log(
  `versions: ${Object.entries(first.versions)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ")}\n`,
);
const disk = runs.flatMap((r) => r.disk ?? []);
if (disk.length > 0) console.log(`SQLite commit latency before each pass:\n${disk.map((d) => `- ${d}`).join("\n")}\n`);
const of = runs.length > 1 ? `${passes} full passes in ${runs.length} runs` : `${passes} full passes`;
console.log(`## Framework overhead per model turn (median of ${of})\n`);
console.log(table(rows));
console.log("\n## Targets (ratios in these runs)\n");
console.log(targetList(targets(rows)));
