import { describe, expect, it } from "vitest";
import { Meter } from "./meter.js";
import { aggregate, type Row, targets } from "./report.js";
import { quantile, summarize } from "./stats.js";
import { expectedToolCounts, script, WORKLOADS } from "./workload.js";

/** A well-behaved loop: model → tool → result in the next input, until the final answer. */
function honestRun(meter: Meter, options: { skipTool?: number; dropResult?: number; extraCall?: boolean } = {}) {
  meter.startRun();
  const context: string[] = [];
  let final: string | undefined;
  for (let turn = 0; ; turn++) {
    const step = meter.modelStart(() => context.join("\n"));
    meter.modelEnd();
    if (step.kind === "final") {
      final = step.message;
      if (options.extraCall) {
        meter.modelStart(() => context.join("\n"));
        meter.modelEnd();
      }
      break;
    }
    if (turn === options.skipTool) continue;
    const value = meter.tool(step.tool, step.a, step.b);
    if (turn !== options.dropResult) context.push(`${step.tool}_result: ${value}`);
  }
  return meter.endRun(final);
}

describe("workload script", () => {
  it("alternates add and multiply with distinct results, then a final answer", () => {
    const steps = script(WORKLOADS.calc);
    expect(steps).toHaveLength(11);
    expect(steps.slice(0, 10).map((s) => (s.kind === "tool" ? s.tool : s.kind))).toEqual([
      "add",
      "multiply",
      "add",
      "multiply",
      "add",
      "multiply",
      "add",
      "multiply",
      "add",
      "multiply",
    ]);
    const results = steps.flatMap((s) => (s.kind === "tool" ? [s.expected] : []));
    expect(new Set(results).size).toBe(10);
    for (const s of steps) if (s.kind === "tool") expect(s.expected).toBe(s.tool === "add" ? s.a + s.b : s.a * s.b);
    expect(steps.at(-1)).toEqual({ kind: "final", message: `The last result is ${results.at(-1)}.` });
    expect(expectedToolCounts(WORKLOADS.long)).toEqual({ add: 25, multiply: 25 });
  });
});

describe("Meter: a framework that cuts corners fails the run", () => {
  it("accepts an honest run and records one sample per model turn", () => {
    const meter = new Meter(WORKLOADS.calc);
    meter.measure(true);
    expect(honestRun(meter)).toEqual([]);
    expect(meter.samplesUs).toHaveLength(11);
    expect(meter.samplesUs.every((s) => s >= 0)).toBe(true);
  });

  it("fails a run that skips a tool", () => {
    const meter = new Meter(WORKLOADS.calc);
    meter.measure(true);
    const failures = honestRun(meter, { skipTool: 3 });
    expect(failures.join("\n")).toMatch(/missing from the model input/);
    expect(failures.join("\n")).toMatch(/tools ran add×5 multiply×4; expected add×5 multiply×5/);
    expect(meter.samplesUs).toHaveLength(0);
  });

  it("fails a run whose tool result never reaches the model", () => {
    const meter = new Meter(WORKLOADS.calc);
    const failures = honestRun(meter, { dropResult: 6 });
    expect(failures).toEqual([`turn 8: result ${1017 + 6} of add missing from the model input`]);
  });

  it("fails a run that calls the model more often than the script", () => {
    const meter = new Meter(WORKLOADS.calc);
    const failures = honestRun(meter, { extraCall: true });
    expect(failures.join("\n")).toMatch(/model called 12 times/);
  });

  it("fails a run without the scripted final answer", () => {
    const meter = new Meter(WORKLOADS.calc);
    meter.startRun();
    const failures = meter.endRun("done");
    expect(failures.join("\n")).toMatch(/final answer missing/);
    expect(failures.join("\n")).toMatch(/model called 0 times, expected 11/);
  });

  it("keeps samples only while measuring (warm-up runs are dropped)", () => {
    const meter = new Meter(WORKLOADS.calc);
    honestRun(meter);
    expect(meter.samplesUs).toHaveLength(0);
    meter.measure(true);
    honestRun(meter);
    honestRun(meter);
    expect(meter.samplesUs).toHaveLength(22);
  });
});

describe("stats", () => {
  it("interpolates quantiles linearly", () => {
    expect(quantile([1, 2, 3, 4, 5], 0.5)).toBe(3);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10, 20], 0.1)).toBe(11);
    expect(summarize([5, 1, 4, 2, 3])).toEqual({ n: 5, mean: 3, median: 3, p10: 1.4, p90: 4.6 });
  });
});

describe("targets", () => {
  const row = (contender: string, workload: Row["workload"], medianUs: number, extra: Partial<Row> = {}): Row => ({
    contender,
    label: contender,
    workload,
    ok: true,
    failures: [],
    passes: 1,
    turnsPerRun: workload === "long" ? 51 : 11,
    medianUs,
    meanUs: medianUs,
    p10Us: medianUs,
    p90Us: medianUs,
    runPerTurnUs: medianUs,
    cpuPerTurnUs: medianUs,
    peakRssMb: 50,
    ...extra,
  });

  it("compares twelve with the fastest in-memory peer and checks flat per-turn cost", () => {
    const rows = [
      row("twelve", "calc", 30),
      row("ai-sdk", "calc", 100),
      row("openai-agents", "calc", 900),
      row("twelve", "long", 40, { cpuPerTurnUs: 46 }),
      row("ai-sdk", "long", 110),
    ];
    const checks = targets(rows);
    const calc = checks.find((c) => c.target.startsWith("calc: twelve in memory"));
    const long = checks.find((c) => c.target.startsWith("long: twelve in memory"));
    const flat = checks.find((c) => c.target.startsWith("twelve: per-turn"));
    expect(calc?.met).toBe(true); // 30 × 3 ≤ 100
    expect(long?.met).toBe(false); // 40 × 3 > 110
    expect(flat?.met).toBe(false); // 46 > 1.5 × 30
    expect(calc?.measured).toBe("twelve 30.0 µs vs ai-sdk 100 µs → 0.30 of it");
  });

  it("aggregates passes by median and marks a failed pass", () => {
    const base = {
      contender: "twelve",
      label: "twelve",
      workload: "calc" as const,
      failures: [],
      runs: 10,
      turnsPerRun: 11,
      runUs: 110,
      peakRssMb: 50,
      node: "v20",
    };
    const summary = (median: number) => ({ n: 1, mean: median, median, p10: median, p90: median });
    const rows = aggregate([
      { ...base, ok: true, perTurnUs: summary(10) },
      { ...base, ok: true, perTurnUs: summary(30) },
      { ...base, ok: true, perTurnUs: summary(20) },
    ]);
    expect(rows[0]?.medianUs).toBe(20);
    expect(rows[0]?.ok).toBe(true);
    const failed = aggregate([
      { ...base, ok: true, perTurnUs: summary(10) },
      { ...base, ok: false, failures: ["tools ran add×4"] },
    ]);
    expect(failed[0]?.ok).toBe(false);
    expect(failed[0]?.failures).toEqual(["tools ran add×4"]);
  });
});
