// Golden files of the exact prompts the calculator example sends, so prompt
// changes are reviewed as diffs (update with `npx vitest run -u` once intended).
import { describe, expect, it } from "vitest";
import { calculator } from "../../examples/calculator/agent.js";
import {
  acceptAnswer,
  appendEvents,
  approve,
  defineAgent,
  humanRequest,
  json,
  reject,
  renderPrompt,
  resume,
  run,
  startThread,
} from "../../src/index.js";
import { deterministicRuntime, scriptedModel } from "../../src/testing.js";
import { promptText } from "./prompt-text.js";

describe("calculator prompt (golden files)", () => {
  it("the prompts of a whole run, as the model received them, equal renderPrompt of each thread prefix", async () => {
    const runtime = deterministicRuntime();
    const model = scriptedModel([
      'I\'ll multiply first.\n```json\n{"intent": "multiply", "a": 3, "b": 4}\n```',
      { intent: "divide", a: 12, b: 2 },
      { intent: "add", a: 6, b: 12 },
      { intent: "done_for_now", message: "The answer is 18." },
    ]);
    let thread = startThread(calculator, "multiply 3 and 4, then divide by 2, then add 12", { runtime });
    thread = await run(calculator, thread, { model, runtime });
    thread = await resume(calculator, thread, approve(humanRequest(thread)), { model, runtime });
    model.assertDone();
    // The last call saw everything up to the add result.
    const beforeLast = { ...thread, events: thread.events.slice(0, -1), version: thread.version - 1 };
    expect(model.calls[3]?.messages).toEqual(renderPrompt(calculator, beforeLast));
    await expect(promptText(model.calls[3]?.messages ?? [])).toMatchFileSnapshot(
      "./__golden__/calculator-before-done.txt",
    );
  });

  it("after a rejected division (the feedback is in the context)", async () => {
    const runtime = deterministicRuntime();
    const model = scriptedModel([{ intent: "divide", a: 3, b: 4 }]);
    const paused = await run(calculator, startThread(calculator, "divide 3 by 4", { runtime }), { model, runtime });
    // Exactly what resume() appends before the next model call.
    const answer = reject(humanRequest(paused), "use 5 instead of 4");
    const rejected = appendEvents(paused, [acceptAnswer(calculator, paused, answer, { clock: runtime }).event]);
    await expect(promptText(renderPrompt(calculator, rejected))).toMatchFileSnapshot(
      "./__golden__/calculator-after-rejection.txt",
    );
  });

  it("the same run with the json context renderer and json output mode", async () => {
    const jsonCalculator = defineAgent({
      name: "calculator",
      instructions: calculator.instructions,
      intents: calculator.intents,
      context: json({ pretty: true }),
      output: "json",
    });
    const runtime = deterministicRuntime();
    const model = scriptedModel([
      { intent: "multiply", a: 3, b: 4 },
      { intent: "done_for_now", message: "12" },
    ]);
    const thread = await run(jsonCalculator, startThread(jsonCalculator, "multiply 3 and 4", { runtime }), {
      model,
      runtime,
    });
    await expect(promptText(model.calls[1]?.messages ?? [])).toMatchFileSnapshot(
      "./__golden__/calculator-json-mode.txt",
    );
    expect(thread.events.at(-1)?.type).toBe("done_for_now");
  });
});
