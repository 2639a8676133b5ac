import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { type AnyIntent, defineIntent } from "../../src/intent/intent.js";
import { ParseError, parseStep, parseToolCalls } from "../../src/intent/parse/index.js";
import { arbitraryOf, arbitrarySchema } from "./arbitrary.js";
import { schemas } from "./corpus/schemas.js";

const allIntents = Object.entries(schemas).flatMap(([set, intents]) => intents.map((intent) => ({ set, intent })));

/** A valid step for one of the corpus intent sets, with the value the parser must return (zod's output). */
const validStep = fc.constantFrom(...allIntents).chain(({ set, intent }) =>
  arbitraryOf(intent.schema).map((args) => ({
    set,
    step: { intent: intent.name, ...(args as Record<string, unknown>) },
    expected: { intent: intent.name, ...(intent.schema.parse(args) as Record<string, unknown>) },
  })),
);

/** Long sweeps need more than vitest's default 30 s per test. */
const longRun = process.env.PARSE_PROPERTY_RUNS ? 1_800_000 : undefined;

/** Default run counts; `PARSE_PROPERTY_RUNS=20000` runs every property that many times. */
function runs(fallback: number): number {
  const wanted = Number(process.env.PARSE_PROPERTY_RUNS);
  return Number.isInteger(wanted) && wanted > 0 ? wanted : fallback;
}

function intentsOf(set: string): AnyIntent[] {
  return schemas[set] as AnyIntent[];
}

/** Recoverable perturbations and the only repair kinds each may cause. */
interface Perturbation {
  shuffle: boolean;
  indent: number;
  singleQuotes: boolean;
  unquotedKeys: boolean;
  trailingComma: boolean;
  intentCase: boolean;
  /** Cut off the final `}` (a truncated answer: then no closing fence and no text after). */
  truncate: boolean;
  fence: boolean;
  before: string;
  after: string;
}

const prose = fc.constantFrom(
  "",
  "Here is my answer:",
  "Let me think step by step. The user's request is clear, so I'll answer now.",
  "Plan: check the inputs (they look fine) and choose the next step.",
  "Sure!",
);
const closing = fc.constantFrom("", "Let me know if that's not right.", "(This should work.)", "Done.");

const perturbation: fc.Arbitrary<Perturbation> = fc.record({
  shuffle: fc.boolean(),
  indent: fc.integer({ min: 0, max: 4 }),
  singleQuotes: fc.boolean(),
  unquotedKeys: fc.boolean(),
  trailingComma: fc.boolean(),
  intentCase: fc.boolean(),
  truncate: fc.boolean(),
  fence: fc.boolean(),
  before: prose,
  after: closing,
});

function allowedRepairs(p: Perturbation): Set<string> {
  const allowed = new Set<string>();
  if (p.singleQuotes) allowed.add("single_quotes");
  if (p.unquotedKeys) allowed.add("unquoted_keys");
  if (p.intentCase) allowed.add("intent_normalized");
  if (p.truncate) allowed.add("truncated");
  if (p.trailingComma) allowed.add("trailing_comma");
  if (p.fence) allowed.add("fence_stripped");
  if (p.before || p.after) allowed.add("text_dropped");
  return allowed;
}

function shuffleKeys(value: unknown, seed: { n: number }): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, seed));
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value).map(([k, v]) => [k, shuffleKeys(v, seed)] as const);
  // Deterministic rotation + reversal driven by a counter: enough to change key order.
  seed.n++;
  const rotated = entries
    .slice(seed.n % Math.max(1, entries.length))
    .concat(entries.slice(0, seed.n % Math.max(1, entries.length)));
  return Object.fromEntries(seed.n % 2 ? rotated.reverse() : rotated);
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** JavaScript-style serialization: single-quoted strings and/or bare identifier keys (what many models write). */
function serialize(value: unknown, p: Perturbation, depth = 0): string {
  const pad = p.indent ? `\n${" ".repeat(p.indent * (depth + 1))}` : "";
  const end = p.indent ? `\n${" ".repeat(p.indent * depth)}` : "";
  if (typeof value === "string") return quote(value, p.singleQuotes);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[${value.map((v) => pad + serialize(v, p, depth + 1)).join(",")}${end}]`;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 0) return "{}";
    const sep = p.indent ? ": " : ":";
    const key = (k: string) => (p.unquotedKeys && IDENTIFIER.test(k) ? k : quote(k, p.singleQuotes));
    return `{${entries.map(([k, v]) => pad + key(k) + sep + serialize(v, p, depth + 1)).join(",")}${end}}`;
  }
  return JSON.stringify(value);
}

function quote(text: string, single: boolean): string {
  if (!single) return JSON.stringify(text);
  return `'${JSON.stringify(text).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
}

function render(step: Record<string, unknown>, p: Perturbation): string {
  const named = p.intentCase ? { ...step, intent: String(step.intent).toUpperCase() } : step;
  const value = p.shuffle ? shuffleKeys(named, { n: 0 }) : named;
  let json = p.singleQuotes || p.unquotedKeys ? serialize(value, p) : JSON.stringify(value, null, p.indent);
  if (p.trailingComma) json = `${json.slice(0, json.lastIndexOf("}")).trimEnd()},}`;
  if (p.truncate) json = json.slice(0, json.lastIndexOf("}"));
  if (p.fence) json = p.truncate ? `\`\`\`json\n${json}` : `\`\`\`json\n${json}\n\`\`\``;
  return [p.before, json, p.truncate ? "" : p.after].filter(Boolean).join("\n");
}

describe("parseStep properties", () => {
  it(
    "a valid step serialized as plain JSON parses back with no repairs",
    () => {
      fc.assert(
        fc.property(validStep, ({ set, step, expected }) => {
          const parsed = parseStep(JSON.stringify(step), intentsOf(set));
          expect(parsed.value).toEqual(expected);
          expect(parsed.repairs).toEqual([]);
        }),
        { numRuns: runs(400) },
      );
    },
    longRun,
  );

  it(
    "a valid step under recoverable perturbations parses back to the same value, reporting only those repairs",
    () => {
      fc.assert(
        fc.property(validStep, perturbation, ({ set, step, expected }, p) => {
          const text = render(step, p);
          const parsed = parseStep(text, intentsOf(set));
          expect(parsed.value).toEqual(expected);
          const allowed = allowedRepairs(p);
          for (const repair of parsed.repairs) expect(allowed, JSON.stringify(repair)).toContain(repair.kind);
        }),
        { numRuns: runs(600) },
      );
    },
    longRun,
  );

  it(
    "a valid step as native tool-call arguments (object or JSON string) parses back with no repairs",
    () => {
      fc.assert(
        fc.property(validStep, fc.boolean(), ({ set, step, expected }, asString) => {
          const { intent, ...args } = step;
          const parsed = parseToolCalls(
            [{ id: "c1", name: intent, arguments: asString ? JSON.stringify(args) : args }],
            intentsOf(set),
          );
          expect(parsed.value).toEqual(expected);
          expect(parsed.repairs).toEqual([]);
        }),
        { numRuns: runs(300) },
      );
    },
    longRun,
  );

  it(
    "arbitrary text never throws anything but ParseError",
    () => {
      const intents = schemas.calculator as AnyIntent[];
      const junk = fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.string({ unit: "binary", maxLength: 200 }),
        fc.json().map((j) => j.slice(0, Math.max(1, j.length - 1))),
        fc
          .array(
            fc.constantFrom("{", "}", "[", "]", '"', "'", ",", ":", "```", "\\", "/*", "//", "\n", "intent", "a", "1"),
            {
              maxLength: 80,
            },
          )
          .map((parts) => parts.join("")),
      );
      fc.assert(
        fc.property(junk, (text) => {
          try {
            parseStep(text, intents);
          } catch (error) {
            expect(error).toBeInstanceOf(ParseError);
          }
        }),
        { numRuns: runs(1500) },
      );
    },
    longRun,
  );

  it(
    "a valid answer cut at any point either parses to a valid step or throws ParseError",
    () => {
      fc.assert(
        fc.property(validStep, fc.double({ min: 0, max: 1, noNaN: true }), ({ set, step }, cut) => {
          const full = JSON.stringify(step);
          const text = full.slice(0, Math.floor(full.length * cut));
          const intents = intentsOf(set);
          try {
            const parsed = parseStep(text, intents);
            expect(intents.map((i) => i.name)).toContain(parsed.value.intent);
          } catch (error) {
            expect(error).toBeInstanceOf(ParseError);
          }
        }),
        { numRuns: runs(500) },
      );
    },
    longRun,
  );
});

describe("parseStep on random schemas", () => {
  // Counterexamples print the schema as JSON Schema rather than as zod internals.
  const schemaAndValue = arbitrarySchema.chain((schema) =>
    arbitraryOf(schema).map((args) => ({
      schema,
      args: args as Record<string, unknown>,
      [fc.toStringMethod]: () =>
        `schema ${JSON.stringify(z.toJSONSchema(schema, { unrepresentable: "any" }))} args ${JSON.stringify(args)}`,
    })),
  );

  it(
    "never changes a valid value and reports no repairs, whatever the schema",
    () => {
      fc.assert(
        fc.property(schemaAndValue, ({ schema, args }) => {
          const intents = [
            defineIntent("target", schema, { description: "the intent under test" }),
            defineIntent("other", z.object({ unrelated: z.string() }), { description: "another intent" }),
          ];
          const parsed = parseStep(JSON.stringify({ intent: "target", ...args }), intents);
          expect(parsed.value).toEqual({ intent: "target", ...(schema.parse(args) as Record<string, unknown>) });
          expect(parsed.repairs).toEqual([]);
        }),
        { numRuns: runs(400) },
      );
    },
    longRun,
  );

  it(
    "recovers a valid value from a fenced, single-quoted, trailing-comma answer, whatever the schema",
    () => {
      fc.assert(
        fc.property(schemaAndValue, perturbation, ({ schema, args }, p) => {
          const intents = [defineIntent("target", schema, { description: "the intent under test" })];
          const parsed = parseStep(render({ intent: "target", ...args }, p), intents);
          expect(parsed.value).toEqual({ intent: "target", ...(schema.parse(args) as Record<string, unknown>) });
          const allowed = allowedRepairs(p);
          for (const repair of parsed.repairs) expect(allowed, JSON.stringify(repair)).toContain(repair.kind);
        }),
        { numRuns: runs(400) },
      );
    },
    longRun,
  );
});
