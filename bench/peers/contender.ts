import type { Meter } from "./meter.js";
import type { WorkloadName } from "./workload.js";

/** What one run leaves behind, for the checks and the state-size columns. */
export interface RunOutcome {
  /** The final answer as the framework reports it (checked against the script). */
  finalText: string | undefined;
  /**
   * Bytes of the run's state as one serialized snapshot at the end (what you would keep to
   * resume or inspect it). Called after the run's timing stops.
   */
  stateBytes: () => number | Promise<number>;
  /**
   * Bytes of state that left the process during the run: every snapshot taken at a pause
   * ("resume"), or what a durable store/checkpointer holds for the run. Called after the
   * run's timing stops; undefined for in-memory runs that never pause.
   */
  writtenBytes?: () => number | Promise<number>;
}

export interface Runner {
  run(): Promise<RunOutcome>;
  /** Untimed housekeeping after a run is checked (e.g. dropping a finished thread from a checkpointer). */
  cleanup?(): Promise<void> | void;
  close?(): Promise<void> | void;
}

/**
 * One framework configuration. `prepare` builds the agent/graph once per
 * process (outside the timing, as an application would at startup);
 * `run` executes one whole workload run.
 */
export interface Contender {
  id: string;
  label: string;
  workloads: readonly WorkloadName[];
  prepare(workload: WorkloadName, meter: Meter): Promise<Runner>;
}

export const utf8Bytes = (s: string): number => Buffer.byteLength(s, "utf8");
