import { performance } from "node:perf_hooks";
import type { ScriptStep, ToolName, Workload } from "./workload.js";
import { expectedToolCounts, script } from "./workload.js";

/**
 * Measures framework overhead per model turn: the wall time of a run minus
 * the time spent inside the fake model, cut at each model call. Turn i is
 * everything the framework (and the caller's resume code) did between the
 * end of model call i-1 (or the start of the run) and the start of model
 * call i: rendering, validation, tool dispatch, persistence, serialization.
 * What happens after the last model call is added to the last turn.
 *
 * The meter also owns the script: `next()` hands the fake model its answer
 * and checks that the previous tool result reached the model's input.
 */
export class Meter {
  readonly samplesUs: number[] = [];
  private readonly steps: ScriptStep[];
  private turn = 0;
  private mark = 0;
  private runSamples: number[] = [];
  private toolCalls: Record<ToolName, number> = { add: 0, multiply: 0 };
  private failures: string[] = [];
  private measuring = false;

  constructor(readonly workload: Workload) {
    this.steps = script(workload);
  }

  get turnsPerRun(): number {
    return this.steps.length;
  }

  startRun(): void {
    this.turn = 0;
    this.runSamples = [];
    this.toolCalls = { add: 0, multiply: 0 };
    this.failures = [];
    this.mark = performance.now();
  }

  /**
   * Called by the fake model when it is invoked. `input` is the part of the
   * model's input where the previous tool result must appear.
   */
  modelStart(input: () => string): ScriptStep {
    const t = performance.now();
    this.runSamples.push((t - this.mark) * 1000);
    const step = this.steps[this.turn];
    if (!step) {
      this.failures.push(`model called ${this.turn + 1} times; the script has ${this.steps.length} turns`);
      return this.steps[this.steps.length - 1] as ScriptStep;
    }
    const previous = this.steps[this.turn - 1];
    if (previous?.kind === "tool") {
      const text = input();
      if (!text.includes(String(previous.expected))) {
        this.failures.push(
          `turn ${this.turn + 1}: result ${previous.expected} of ${previous.tool} missing from the model input`,
        );
      }
    }
    this.turn++;
    return step;
  }

  /** Called by the fake model just before it returns. */
  modelEnd(): void {
    this.mark = performance.now();
  }

  /** Called by every tool implementation. */
  tool(name: ToolName, a: number, b: number): number {
    this.toolCalls[name]++;
    return name === "add" ? a + b : a * b;
  }

  /** Ends a run: checks it and keeps its samples when measuring. Returns the failures. */
  endRun(finalText: string | undefined): string[] {
    const tail = (performance.now() - this.mark) * 1000;
    const n = this.runSamples.length;
    if (n > 0) this.runSamples[n - 1] = (this.runSamples[n - 1] as number) + tail;
    const expected = expectedToolCounts(this.workload);
    if (this.toolCalls.add !== expected.add || this.toolCalls.multiply !== expected.multiply) {
      this.failures.push(
        `tools ran add×${this.toolCalls.add} multiply×${this.toolCalls.multiply}; expected add×${expected.add} multiply×${expected.multiply}`,
      );
    }
    if (this.turn !== this.steps.length)
      this.failures.push(`model called ${this.turn} times, expected ${this.steps.length}`);
    const final = this.steps[this.steps.length - 1];
    if (final?.kind === "final" && !(finalText ?? "").includes(final.message)) {
      this.failures.push(`final answer missing: got ${JSON.stringify(finalText)?.slice(0, 120)}`);
    }
    if (this.measuring && this.failures.length === 0) this.samplesUs.push(...this.runSamples);
    return this.failures;
  }

  measure(on: boolean): void {
    this.measuring = on;
  }
}
