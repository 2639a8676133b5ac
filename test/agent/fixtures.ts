import { z } from "zod";
import { createThread, defineAgent, defineIntent, makeEvent, type Thread } from "../../src/index.js";
import { deterministicRuntime } from "../../src/testing.js";

export const add = defineIntent("add", z.object({ a: z.number(), b: z.number() }), {
  description: "Add a and b",
  handler: ({ a, b }) => a + b,
});

export const flaky = defineIntent("flaky", z.object({ n: z.number() }), {
  description: "Always fails",
  handler: () => {
    throw new Error("service unavailable");
  },
});

export const lookup = defineIntent("lookup", z.object({ id: z.string() }), {
  description: "Ask an external system; the answer arrives later",
  policy: "async",
});

export const charge = defineIntent("charge", z.object({ cents: z.number().int() }), {
  description: "Charge a card",
  policy: ({ cents }) => (cents > 1000 ? "approve" : "run"),
  handler: ({ cents }) => ({ charged: cents }),
});

export const testAgent = (overrides: Partial<Parameters<typeof defineAgent>[0]> = {}) =>
  defineAgent({ name: "test", intents: [add, flaky, lookup, charge], ...overrides });

export function newThread(
  text = "hello",
  runtime = deterministicRuntime(),
): { thread: Thread; runtime: typeof runtime } {
  return { runtime, thread: createThread("test", [makeEvent(runtime, "user_message", text)], { runtime }) };
}

export const types = (t: Thread) => t.events.map((e) => e.type);
