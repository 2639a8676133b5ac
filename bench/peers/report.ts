import type { ChildResult } from "./child.js";
import { median } from "./stats.js";
import type { WorkloadName } from "./workload.js";

/** One contender × workload, as the median over the full passes. */
export interface Row {
  contender: string;
  label: string;
  workload: WorkloadName;
  ok: boolean;
  failures: string[];
  passes: number;
  turnsPerRun: number;
  medianUs: number;
  meanUs: number;
  p10Us: number;
  p90Us: number;
  /** Median wall time of a whole run divided by its model turns. */
  runPerTurnUs: number;
  /** Process CPU time of the measured runs per model turn (immune to time the OS gave others). */
  cpuPerTurnUs: number;
  peakRssMb: number;
  stateBytes?: number;
  writtenBytes?: number;
}

/** In-memory framework peers: the "fastest peer" of a workload is the fastest of these. */
export const PEERS = ["openai-agents", "ai-sdk", "ai-sdk6", "langgraph", "langgraph-memory"];

/** The framework each peer contender belongs to (two AI SDK majors, two LangGraph set-ups). */
const FRAMEWORK: Record<string, string> = {
  "openai-agents": "OpenAI Agents SDK",
  "ai-sdk": "Vercel AI SDK",
  "ai-sdk6": "Vercel AI SDK",
  langgraph: "LangGraph",
  "langgraph-memory": "LangGraph",
};

export function aggregate(results: readonly ChildResult[]): Row[] {
  const groups = new Map<string, ChildResult[]>();
  for (const r of results) {
    const key = `${r.contender}\u0000${r.workload}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const rows: Row[] = [];
  for (const group of groups.values()) {
    const first = group[0] as ChildResult;
    const good = group.filter((r) => r.ok && r.perTurnUs);
    const pick = (f: (r: ChildResult) => number | undefined) => {
      const values = good.map(f).filter((v): v is number => v !== undefined);
      return values.length ? median(values) : Number.NaN;
    };
    const row: Row = {
      contender: first.contender,
      label: first.label,
      workload: first.workload,
      ok: good.length === group.length,
      failures: group.flatMap((r) => r.failures),
      passes: group.length,
      turnsPerRun: first.turnsPerRun,
      medianUs: pick((r) => r.perTurnUs?.median),
      meanUs: pick((r) => r.perTurnUs?.mean),
      p10Us: pick((r) => r.perTurnUs?.p10),
      p90Us: pick((r) => r.perTurnUs?.p90),
      runPerTurnUs: pick((r) => (r.runUs === undefined ? undefined : r.runUs / r.turnsPerRun)),
      cpuPerTurnUs: pick((r) => r.cpuPerTurnUs),
      peakRssMb: median(group.map((r) => r.peakRssMb)),
    };
    const state = pick((r) => r.stateBytes);
    const written = pick((r) => r.writtenBytes);
    if (!Number.isNaN(state)) row.stateBytes = state;
    if (!Number.isNaN(written)) row.writtenBytes = written;
    rows.push(row);
  }
  return rows;
}

const us = (v: number) => (Number.isNaN(v) ? "—" : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const num = (v: number | undefined) =>
  v === undefined || Number.isNaN(v) ? "—" : Math.round(v).toLocaleString("en-US");
const ratio = (v: number) => (Number.isFinite(v) ? (v >= 10 ? `${v.toFixed(0)}×` : `${v.toFixed(1)}×`) : "—");

export function find(rows: readonly Row[], contender: string, workload: WorkloadName): Row | undefined {
  return rows.find((r) => r.contender === contender && r.workload === workload && r.ok);
}

/** The one table: every contender × workload, overhead per model turn in µs. */
export function table(rows: readonly Row[]): string {
  const head =
    "| contender | workload | turns | median µs/turn | mean | p10 | p90 | run ÷ turns µs | CPU µs/turn | median vs twelve | peak RSS MB | state B | written B |";
  const sep = "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|";
  const order: WorkloadName[] = ["calc", "long", "resume"];
  const sorted = [...rows].sort((a, b) => order.indexOf(a.workload) - order.indexOf(b.workload));
  const lines = sorted.map((r) => {
    if (!r.ok)
      return `| ${r.label} | ${r.workload} | ${r.turnsPerRun} | FAILED: ${r.failures[0]?.split("\n")[0] ?? "?"} ||||||||||`;
    const base = find(rows, "twelve", r.workload);
    const vs = base ? ratio(r.medianUs / base.medianUs) : "—";
    return `| ${r.label} | ${r.workload} | ${r.turnsPerRun} | ${us(r.medianUs)} | ${us(r.meanUs)} | ${us(r.p10Us)} | ${us(r.p90Us)} | ${us(r.runPerTurnUs)} | ${us(r.cpuPerTurnUs)} | ${vs} | ${r.peakRssMb.toFixed(0)} | ${num(r.stateBytes)} | ${num(r.writtenBytes)} |`;
  });
  return [head, sep, ...lines].join("\n");
}

export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | undefined;
}

/**
 * twelve's store against LangGraph's SqliteSaver: twelve's default (fsync before side
 * effects and before returning) against SqliteSaver fsyncing every checkpoint (its only
 * setting that survives power loss), then both fsyncing every commit, then neither
 * (SqliteSaver's own default is NORMAL: no fsync per commit).
 */
const SQLITE_PAIRS = [
  ["twelve-sqlite", "langgraph-sqlite"],
  ["twelve-sqlite-full", "langgraph-sqlite"],
  ["twelve-sqlite-normal", "langgraph-sqlite-normal"],
] as const;

/** The issue's targets, as ratios measured in the same run. `met: undefined` = a contender is missing. */
export function targets(rows: readonly Row[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const fastestPeer = (w: WorkloadName) =>
    PEERS.map((p) => find(rows, p, w))
      .filter((r): r is Row => r !== undefined)
      .sort((a, b) => a.medianUs - b.medianUs)[0];

  for (const w of ["calc", "long"] as const) {
    const t = find(rows, "twelve", w);
    const peer = fastestPeer(w);
    checks.push(
      t && peer
        ? {
            target: `${w}: twelve in memory ≤ 1/3 of the fastest peer's median µs/turn`,
            measured: `twelve ${us(t.medianUs)} µs vs ${peer.label} ${us(peer.medianUs)} µs → ${(t.medianUs / peer.medianUs).toFixed(2)} of it`,
            met: t.medianUs * 3 <= peer.medianUs,
          }
        : { target: `${w}: twelve ≤ 1/3 of the fastest peer`, measured: "missing contender", met: undefined },
    );
  }
  const calc = find(rows, "twelve", "calc");
  const long = find(rows, "twelve", "long");
  checks.push(
    calc && long
      ? {
          target: "twelve: per-turn cost of a 51-turn run ≤ 1.5× that of an 11-turn run (CPU time ÷ turns)",
          measured: `${us(long.cpuPerTurnUs)} vs ${us(calc.cpuPerTurnUs)} µs → ${(long.cpuPerTurnUs / calc.cpuPerTurnUs).toFixed(2)}× (wall-clock run ÷ turns: ${us(long.runPerTurnUs)} vs ${us(calc.runPerTurnUs)} µs)`,
          met: long.cpuPerTurnUs <= 1.5 * calc.cpuPerTurnUs,
        }
      : { target: "twelve: per-turn cost flat in thread length", measured: "missing contender", met: undefined },
  );

  for (const [store, peerStore] of SQLITE_PAIRS) {
    for (const w of ["calc", "long"] as const) {
      const s = find(rows, store, w);
      const peer = fastestPeer(w);
      if (!s || !peer) continue;
      // "Every framework peer except the fastest": the fastest framework's other major
      // version or set-up is the same framework, so it is left out too.
      const others = PEERS.filter((p) => FRAMEWORK[p] !== FRAMEWORK[peer.contender])
        .map((p) => find(rows, p, w))
        .filter((r): r is Row => r !== undefined);
      const slowestBeaten = others.every((o) => s.medianUs < o.medianUs);
      checks.push({
        target: `${w}: ${s.label} below the in-memory overhead of every framework peer except the fastest (${FRAMEWORK[peer.contender]})`,
        measured: `${us(s.medianUs)} µs vs ${others.map((o) => `${o.label} ${us(o.medianUs)}`).join(", ")}`,
        met: slowestBeaten,
      });
      const lg = find(rows, peerStore, w);
      if (lg) {
        checks.push({
          target: `${w}: ${s.label} ≥ 10× faster per turn than ${lg.label}`,
          measured: `${us(s.medianUs)} vs ${us(lg.medianUs)} µs → ${(lg.medianUs / s.medianUs).toFixed(1)}×`,
          met: lg.medianUs >= 10 * s.medianUs,
        });
      }
    }
  }

  const resume = find(rows, "twelve", "resume");
  for (const other of ["openai-agents", "langgraph-memory", "langgraph-sqlite"]) {
    const o = find(rows, other, "resume");
    if (!resume || !o) continue;
    checks.push({
      target: `resume: twelve ≥ 10× less time per turn than ${o.label}`,
      measured: `${us(resume.medianUs)} vs ${us(o.medianUs)} µs → ${(o.medianUs / resume.medianUs).toFixed(1)}×`,
      met: o.medianUs >= 10 * resume.medianUs,
    });
    if (resume.writtenBytes !== undefined && o.writtenBytes !== undefined) {
      checks.push({
        target: `resume: twelve ≥ 10× fewer state bytes per run than ${o.label}`,
        measured: `${num(resume.writtenBytes)} vs ${num(o.writtenBytes)} B → ${(o.writtenBytes / resume.writtenBytes).toFixed(1)}×`,
        met: o.writtenBytes >= 10 * resume.writtenBytes,
      });
    }
  }
  // The durable analogue: twelve's store against LangGraph's SqliteSaver, and the store's
  // bytes against the RunState round trip (what an Agents SDK user persists at each pause).
  for (const [store, peerStore] of [...SQLITE_PAIRS, ["twelve-sqlite", "openai-agents"] as const]) {
    const s = find(rows, store, "resume");
    const o = find(rows, peerStore, "resume");
    if (!s || !o) continue;
    // Time against the RunState round trip is the in-memory target above; here only bytes.
    if (peerStore !== "openai-agents")
      checks.push({
        target: `resume (durable): ${s.label} ≥ 10× less time per turn than ${o.label}`,
        measured: `${us(s.medianUs)} vs ${us(o.medianUs)} µs → ${(o.medianUs / s.medianUs).toFixed(1)}×`,
        met: o.medianUs >= 10 * s.medianUs,
      });
    if (s.writtenBytes !== undefined && o.writtenBytes !== undefined) {
      checks.push({
        target: `resume (durable): ${s.label} ≥ 10× fewer bytes stored per run than ${o.label}`,
        measured: `${num(s.writtenBytes)} vs ${num(o.writtenBytes)} B → ${(o.writtenBytes / s.writtenBytes).toFixed(1)}×`,
        met: o.writtenBytes >= 10 * s.writtenBytes,
      });
    }
  }
  return checks;
}

export function targetList(checks: readonly TargetCheck[]): string {
  return checks
    .map((c) => `- ${c.met === undefined ? "n/a " : c.met ? "MET " : "MISSED"} ${c.target}: ${c.measured}`)
    .join("\n");
}
