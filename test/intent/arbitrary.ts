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
  return build(schema).filter((value) => z.safeParse(schema, value).success);
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
