import { z } from "zod";

/**
 * The schemas the lenient corpus (test/intent/corpus/lenient/*.yaml) is
 * written against, by name. Plain zod schemas: parseLenient works on any.
 */
const category = z.enum(["billing", "shipping", "technical_support", "other"]).meta({
  aliases: { billing: ["invoice", "payment"] },
  descriptions: { technical_support: "Problems using the product" },
});

const sentiment = z.union([
  z.literal("positive").describe("happy or satisfied"),
  z.literal("negative").meta({ aliases: ["unhappy"] }),
  z.literal("neutral"),
]);

const person = z.object({ name: z.string(), age: z.number().int(), city: z.string().optional() });

/** A JSON value, recursively (the classic `z.lazy` case). */
type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
const json: z.ZodType<Json> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(json), z.record(z.string(), json)]),
);

/** A list of outlines or one item: a recursive union whose list member could wrap a value forever. */
type Outline = Outline[] | { text: string };
const outline: z.ZodType<Outline> = z.lazy(() => z.union([z.array(outline), z.object({ text: z.string() })]));

/** A `$ref` cycle from a JSON Schema. */
const tree = z.fromJSONSchema({
  $ref: "#/$defs/node",
  $defs: {
    node: {
      type: "object",
      properties: {
        value: { type: "number" },
        children: { type: "array", items: { $ref: "#/$defs/node" } },
      },
      required: ["value"],
    },
  },
});

/** A JSON Schema (as a tool would declare it), turned into zod. */
const invoice = z.fromJSONSchema({
  type: "object",
  properties: {
    number: { type: "string" },
    total: { type: "number" },
    paid: { type: "boolean" },
    currency: { enum: ["USD", "EUR", "GBP"] },
    lines: {
      type: "array",
      items: {
        type: "object",
        properties: { item: { type: "string" }, qty: { type: "integer" } },
        required: ["item", "qty"],
      },
    },
  },
  required: ["number", "total"],
});

/** Union members that differ only in their checks. */
const size = z.union([
  z.object({ label: z.literal("small").default("small"), n: z.number().max(9) }),
  z.object({ label: z.literal("large").default("large"), n: z.number().min(10) }),
]);

const shape = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("circle"), radius: z.number() }),
  z.object({ kind: z.literal("rect"), width: z.number(), height: z.number() }),
]);

export const lenientSchemas: Record<string, z.ZodType> = {
  category,
  sentiment,
  title: z.enum(["señor", "señora", "doctor"]),
  priority: z.enum(["low", "medium", "high"]),
  yes_no: z.literal(["yes", "no"]),
  number: z.number(),
  integer: z.number().int(),
  boolean: z.boolean(),
  string: z.string(),
  person,
  people: z.array(person),
  tags: z.array(z.string()),
  note: z.object({ title: z.string(), body: z.string(), tags: z.array(z.string()).optional() }),
  snippet: z.object({ language: z.string(), code: z.string() }),
  answer: z.object({ answer: z.number(), reason: z.string().optional() }),
  label: z.object({ category }),
  accents: z.object({ año: z.number(), título: z.string() }),
  price: z.object({ item: z.string(), price: z.number(), discount: z.number().optional() }),
  settings: z.object({ enabled: z.boolean(), verbose: z.boolean().default(false) }),
  json,
  outline,
  tree,
  invoice,
  size,
  shape,
  point: z.tuple([z.number(), z.number()]),
  scores: z.record(z.string(), z.number()),
  profile: z.object({
    nickname: z.string().nullable(),
    bio: z.string().optional(),
    lang: z.string().default("en"),
  }),
  reading: z.object({ value: z.number().nullable(), unit: z.string().nullable() }),
  contact: z.union([z.object({ email: z.string() }), z.object({ phone: z.string() })]),
  list_or_note: z.union([z.array(z.string()), z.object({ text: z.string() })]),
  version: z.union([z.literal(1), z.literal(2)]),
  drink: z.literal("café"),
  /** Written decomposed (NFD): an NFC answer must still match, and the schema's own spelling comes back. */
  title_nfd: z.enum(["se\u0303nor", "doctor"]),
};
