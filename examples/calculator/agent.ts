// The essay's workshop calculator: four intents, and divide needs a human's approval.
import { defineAgent, defineIntent } from "twelve-agents";
import { z } from "zod";

const operands = z.object({ a: z.number(), b: z.number() });

export const add = defineIntent("add", operands, { description: "Add a and b", handler: ({ a, b }) => a + b });
export const subtract = defineIntent("subtract", operands, {
  description: "Subtract b from a",
  handler: ({ a, b }) => a - b,
});
export const multiply = defineIntent("multiply", operands, {
  description: "Multiply a by b",
  handler: ({ a, b }) => a * b,
});
export const divide = defineIntent("divide", operands, {
  description: "Divide a by b (a human approves every division)",
  policy: "approve",
  handler: ({ a, b }) => {
    if (b === 0) throw new Error("division by zero");
    return a / b;
  },
});

export const calculator = defineAgent({
  name: "calculator",
  instructions: "You are a careful calculator. Do one operation per step, then report the final result.",
  intents: [add, subtract, multiply, divide],
});

export default calculator;
