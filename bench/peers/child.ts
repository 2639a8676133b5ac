/**
 * One measurement process: `child.ts <contender> <workload>`. Builds the
 * contender once, warms it up, then runs the workload back to back for a
 * fixed time and prints one JSON line with the per-turn overhead summary,
 * peak RSS and state sizes. Any run that fails its checks fails the process.
 */
import { performance } from "node:perf_hooks";
import { Meter } from "./meter.js";
import { CONTENDERS } from "./registry.js";
import { type Summary, summarize } from "./stats.js";
import { WORKLOADS, type WorkloadName } from "./workload.js";

export interface ChildResult {
  contender: string;
  label: string;
  workload: WorkloadName;
  ok: boolean;
  failures: string[];
  runs: number;
  turnsPerRun: number;
  perTurnUs?: Summary;
  /** Median wall time of a whole run, in microseconds (model time included; it is ~0). */
  runUs?: number;
  /**
   * Process CPU time (user + system, all threads) of the measured runs divided by their model
   * turns: unlike wall time, it does not count time the OS gave to other processes.
   */
  cpuPerTurnUs?: number;
  peakRssMb: number;
  stateBytes?: number;
  writtenBytes?: number;
  node: string;
}

const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 500);
const MEASURE_MS = Number(process.env.BENCH_MEASURE_MS ?? 2500);
const MIN_RUNS = 5;
const MAX_RUNS = Number(process.env.BENCH_MAX_RUNS ?? 3000);

async function main(): Promise<void> {
  const [id, workloadName] = process.argv.slice(2) as [string, WorkloadName];
  const load = CONTENDERS[id];
  const workload = WORKLOADS[workloadName];
  if (!load || !workload) {
    console.error(`usage: child.ts <${Object.keys(CONTENDERS).join("|")}> <calc|long|resume>`);
    process.exit(2);
  }
  const contender = await load();
  const meter = new Meter(workload);
  const result: ChildResult = {
    contender: id,
    label: contender.label,
    workload: workloadName,
    ok: true,
    failures: [],
    runs: 0,
    turnsPerRun: meter.turnsPerRun,
    peakRssMb: 0,
    node: process.version,
  };
  const runner = await contender.prepare(workloadName, meter);
  let last: { state: number; written: number | undefined } | undefined;
  const runTimes: number[] = [];

  let cpuUs = 0;
  const once = async (): Promise<boolean> => {
    const cpu0 = process.cpuUsage();
    meter.startRun();
    const t0 = performance.now();
    const outcome = await runner.run();
    const elapsed = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    cpuUs += cpu.user + cpu.system;
    const failures = meter.endRun(outcome.finalText);
    if (failures.length > 0) {
      result.ok = false;
      result.failures = failures;
      return false;
    }
    last = { state: await outcome.stateBytes(), written: await outcome.writtenBytes?.() };
    await runner.cleanup?.();
    return elapsed >= 0 && runTimes.push(elapsed * 1000) > 0;
  };

  try {
    meter.measure(false);
    const warmStart = performance.now();
    for (let i = 0; i < MAX_RUNS && (i < MIN_RUNS || performance.now() - warmStart < WARMUP_MS); i++) {
      if (!(await once())) break;
    }
    runTimes.length = 0;
    cpuUs = 0;
    if (result.ok) {
      meter.measure(true);
      const start = performance.now();
      for (let i = 0; i < MAX_RUNS && (i < MIN_RUNS || performance.now() - start < MEASURE_MS); i++) {
        if (!(await once())) break;
        result.runs++;
      }
    }
  } catch (error) {
    result.ok = false;
    result.failures.push(`threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    await runner.close?.();
  }

  if (result.ok) {
    result.perTurnUs = summarize(meter.samplesUs);
    result.runUs = summarize(runTimes).median;
    result.cpuPerTurnUs = cpuUs / (result.runs * meter.turnsPerRun);
    if (last) {
      result.stateBytes = last.state;
      if (last.written !== undefined) result.writtenBytes = last.written;
    }
  }
  result.peakRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exitCode = result.ok ? 0 : 1;
}

await main();
