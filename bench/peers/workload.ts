/**
 * The three workloads every contender runs, and the script its fake model
 * follows. The script is the same for everyone: tool steps alternating
 * add / multiply, then a final answer. Each tool result is a distinct number
 * the next model turn checks for in its input, so a framework that skips a
 * tool or drops its result from the context fails the run instead of winning.
 */
export type WorkloadName = "calc" | "long" | "resume";

export interface Workload {
  name: WorkloadName;
  /** Tool steps per run; model turns = toolSteps + 1 (the final answer). */
  toolSteps: number;
  /** Every tool step pauses for approval; the state leaves the process as a string. */
  approval: boolean;
}

export const WORKLOADS: Record<WorkloadName, Workload> = {
  calc: { name: "calc", toolSteps: 10, approval: false },
  long: { name: "long", toolSteps: 50, approval: false },
  resume: { name: "resume", toolSteps: 10, approval: true },
};

export type ToolName = "add" | "multiply";

export type ScriptStep =
  | { kind: "tool"; tool: ToolName; a: number; b: number; expected: number }
  | { kind: "final"; message: string };

export const TASK = "Run the benchmark calculation, one operation per step, then report the last result.";

/** The scripted answers: step i is add (even i) or multiply (odd i), then a final message. */
export function script(workload: Workload): ScriptStep[] {
  const steps: ScriptStep[] = [];
  for (let i = 0; i < workload.toolSteps; i++) {
    if (i % 2 === 0) steps.push({ kind: "tool", tool: "add", a: 1000 + i, b: 17, expected: 1017 + i });
    else steps.push({ kind: "tool", tool: "multiply", a: 300 + i, b: 3, expected: (300 + i) * 3 });
  }
  const last = steps.at(-1);
  const answer = last?.kind === "tool" ? last.expected : 0;
  steps.push({ kind: "final", message: `The last result is ${answer}.` });
  return steps;
}

export function expectedToolCounts(workload: Workload): Record<ToolName, number> {
  const add = Math.ceil(workload.toolSteps / 2);
  return { add, multiply: workload.toolSteps - add };
}
