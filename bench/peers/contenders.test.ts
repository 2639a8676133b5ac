import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Meter } from "./meter.js";
import { CONTENDERS, TWELVE_ONLY } from "./registry.js";
import { WORKLOADS } from "./workload.js";

const peersInstalled = existsSync(fileURLToPath(new URL("../node_modules/@openai/agents", import.meta.url)));
const peers = Object.keys(CONTENDERS).filter((id) => !TWELVE_ONLY.includes(id));

/** Every contender must pass the checks on every workload it claims, twice in a row (state must not leak). */
async function check(id: string) {
  const contender = await (CONTENDERS[id] as () => ReturnType<(typeof CONTENDERS)[string]>)();
  for (const name of contender.workloads) {
    const meter = new Meter(WORKLOADS[name]);
    meter.measure(true);
    const runner = await contender.prepare(name, meter);
    try {
      for (let i = 0; i < 2; i++) {
        meter.startRun();
        const outcome = await runner.run();
        expect(meter.endRun(outcome.finalText), `${id}/${name}`).toEqual([]);
        expect(await outcome.stateBytes()).toBeGreaterThan(0);
        if (WORKLOADS[name].approval) expect(await outcome.writtenBytes?.()).toBeGreaterThan(0);
        await runner.cleanup?.();
      }
    } finally {
      await runner.close?.();
    }
    expect(meter.samplesUs).toHaveLength(2 * meter.turnsPerRun);
  }
}

describe("twelve's contenders run every workload correctly", () => {
  for (const id of TWELVE_ONLY) it(id, () => check(id));
});

describe.skipIf(!peersInstalled)("framework peers run every workload correctly (npm --prefix bench install)", () => {
  for (const id of peers) it(id, () => check(id));
});
