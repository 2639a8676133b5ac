import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { z } from "zod";
import type * as zc from "zod/v4/core";

type Def = zc.$ZodTypeDef & Record<string, unknown>;

/** Strings that stress extraction and repair: quotes, braces, fences, escapes, unicode. */
const tricky = fc.constantFrom(
  "",
  " ",
  "it's",
  'say "hi"',
  "{",
  "}",
  "[]",
  "a, b",
  "```",
  "back\\slash",
  "line\nbreak",
  "tab\there",
  "// not a comment",
  "/* nor this */",
  "True",
  "null",
  "42",
  "café ☕",
  "emoji 🎉",
);

const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 12 }) },
  { weight: 2, arbitrary: tricky },
);

const number = fc
  .oneof(
    fc.integer({ min: -3, max: 30 }),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }),
  )
  .map((n) => (Object.is(n, -0) ? 0 : n));

/**
 * Values valid under a zod schema (the arguments of an intent), built by
 * walking the schema; every generated value is checked with the schema.
 */
export function arbitraryOf(schema: zc.$ZodType): fc.Arbitrary<unknown> {
  // Only values JSON can carry (an `undefined` inside a list would come back as null).
  return build(schema).filter(
    (value) => isDeepStrictEqual(JSON.parse(JSON.stringify(value)), value) && z.safeParse(schema, value).success,
  );
}

function build(schema: zc.$ZodType): fc.Arbitrary<unknown> {
  const def = schema._zod.def as Def;
  switch (def.type) {
    case "string":
      return text;
    case "number":
      return number;
    case "boolean":
      return fc.boolean();
    case "enum":
    case "literal":
      return fc.constantFrom(...[...(schema._zod.values as Set<unknown>)]);
    case "optional":
    case "default":
      return fc.option(build(def.innerType as zc.$ZodType), { nil: undefined });
    case "nullable":
      return fc.option(build(def.innerType as zc.$ZodType), { nil: null });
    case "array":
      return fc.array(build(def.element as zc.$ZodType), { maxLength: 4 });
    case "tuple":
      return fc.tuple(...(def.items as zc.$ZodType[]).map(build));
    case "union":
      return fc.oneof(...(def.options as zc.$ZodType[]).map(build));
    case "object": {
      const shape = def.shape as Record<string, zc.$ZodType>;
      const fields = Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, build(v)]));
      return fc.record(fields).map(dropUndefined);
    }
    case "record": {
      const keys = (def.keyType as zc.$ZodType)._zod.values as Set<unknown> | undefined;
      const value = build(def.valueType as zc.$ZodType);
      if (keys) {
        return fc
          .subarray([...keys] as string[])
          .chain((ks) => fc.tuple(...ks.map((k) => value.map((v) => [k, v] as const))))
          .map((entries) => Object.fromEntries(entries));
      }
      return fc.dictionary(fc.string({ maxLength: 8 }), value, { maxKeys: 3 });
    }
    default:
      throw new Error(`arbitraryOf: no generator for zod type "${def.type}"`);
  }
}

function dropUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

const FIELD_NAMES = ["id", "name", "count", "tags", "mode", "dueDate", "on", "x_y", "meta"];

/**
 * Random zod schemas (objects of scalars, enums, literals, optionals,
 * nullables, defaults, arrays, tuples, records, unions and nested objects),
 * to check that the parser never changes a value that is already valid,
 * whatever the schema.
 */
export const arbitrarySchema: fc.Arbitrary<z.ZodObject> = fc.letrec<{ type: z.ZodType; object: z.ZodObject }>(
  (tie) => ({
    type: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.constant(z.string()),
      fc.constant(z.number()),
      fc.constant(z.number().int()),
      fc.constant(z.boolean()),
      fc.constant(z.enum(["low", "high", "Low"])),
      fc.constant(z.literal("fixed")),
      fc.constant(z.literal(7)),
      tie("type").map((t) => t.optional()),
      tie("type").map((t) => t.nullable()),
      fc.constant(z.number().default(1)),
      tie("type").map((t) => z.array(t)),
      fc.tuple(tie("type"), tie("type")).map(([a, b]) => z.tuple([a, b])),
      tie("type").map((t) => z.record(z.string(), t)),
      fc.tuple(tie("type"), tie("type")).map(([a, b]) => z.union([a, b])),
      tie("object"),
    ),
    object: fc
      .uniqueArray(fc.constantFrom(...FIELD_NAMES), { minLength: 1, maxLength: 4 })
      .chain((keys) => fc.tuple(...keys.map((k) => tie("type").map((t) => [k, t] as const))))
      .map((entries) => z.object(Object.fromEntries(entries))),
  }),
).object;
