import { z } from "zod";
import { defineIntent } from "../../src/intent/intent.js";

/**
 * A recursive union whose members nothing tells apart (no literal field),
 * and a 60-deep value that fits neither: the worst case for union
 * coercion, shared by the tests and the benchmark.
 */
export interface Loose {
  kids: Loose[];
  a?: string;
  b?: number;
}

export const looseTree: z.ZodType<Loose> = z.lazy(() =>
  z.union([
    z.object({ kids: z.array(looseTree), a: z.string() }),
    z.object({ kids: z.array(looseTree), b: z.number() }),
  ]),
);

export const growIntent = defineIntent("grow", z.object({ root: looseTree }), { description: "grow a tree" });

export function deepInvalidTree(depth: number): unknown {
  let value: unknown = { kids: [], a: "leaf" };
  for (let i = 0; i < depth; i++) value = { kids: [value], c: 1 };
  return value;
}
