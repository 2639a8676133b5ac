import { z } from "zod";
import { defineIntent, doneForNow } from "../../src/intent/intent.js";
import { stepJsonSchema, toolSpecs } from "../../src/intent/schema-text.js";
import type { OutputMode, OutputSpec } from "../../src/model/types.js";

/** The calculator agent's intents, as the examples define them. */
const operands = z.object({ a: z.number(), b: z.number() });
export const calculatorIntents = [
  defineIntent("add", operands, { description: "Add two numbers" }),
  defineIntent("subtract", operands, { description: "Subtract b from a" }),
  defineIntent("multiply", operands, { description: "Multiply two numbers" }),
  defineIntent("divide", operands, { description: "Divide a by b" }),
  doneForNow,
];

export function calculatorOutput(mode: OutputMode): OutputSpec {
  return { mode, tools: toolSpecs(calculatorIntents), jsonSchema: stepJsonSchema(calculatorIntents) };
}
