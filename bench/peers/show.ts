/**
 * Reprints the tables and target checks of a saved run:
 *   npx tsx bench/peers/show.ts bench/results/peers-<time>.json
 */
import { readFileSync } from "node:fs";
import type { ChildResult } from "./child.js";
import { aggregate, table, targetList, targets } from "./report.js";

const file = process.argv[2];
if (!file) {
  console.error("usage: show.ts <bench/results/peers-….json>");
  process.exit(2);
}
const saved = JSON.parse(readFileSync(file, "utf8")) as {
  machine: string;
  versions: Record<string, string>;
  passes: number;
  disk?: string[];
  results: ChildResult[];
};
const rows = aggregate(saved.results);
console.log(`machine: ${saved.machine}`);
console.log(
  `versions: ${Object.entries(saved.versions)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ")}\n`,
);
if (saved.disk) console.log(`SQLite commit latency before each pass:\n${saved.disk.map((d) => `- ${d}`).join("\n")}\n`);
console.log(`## Framework overhead per model turn (median of ${saved.passes} full passes)\n`);
console.log(table(rows));
console.log("\n## Targets (ratios in this run)\n");
console.log(targetList(targets(rows)));
