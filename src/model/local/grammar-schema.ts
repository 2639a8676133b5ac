/**
 * JSON Schema (as zod emits it) → the subset node-llama-cpp turns into a
 * GBNF grammar. Differences it papers over:
 * - `anyOf` becomes `oneOf` (the grammar picks one branch either way);
 * - keywords the grammar cannot express (`minimum`, `pattern`, …) are
 *   dropped: the step parser still validates them afterwards;
 * - node-llama-cpp always emits every listed property, so optional fields
 *   are generated too (with valid values), which the schema accepts.
 */
type Schema = Record<string, unknown>;

const FORMATS = new Set(["date-time", "time", "date"]);
const SCALARS = new Set(["string", "number", "integer", "boolean", "null"]);

const ANY_JSON: Schema = {
  oneOf: [
    { type: ["string", "number", "boolean", "null"] },
    { type: "object", additionalProperties: true },
    { type: "array" },
  ],
};

export function toGrammarSchema(schema: unknown): Schema {
  if (schema === true || schema === undefined || schema === null) return ANY_JSON;
  if (typeof schema !== "object" || Array.isArray(schema)) return ANY_JSON;
  const s = schema as Schema;
  const out: Schema = {};
  if (typeof s.description === "string") out.description = s.description;
  if (s.$defs && typeof s.$defs === "object") {
    out.$defs = Object.fromEntries(Object.entries(s.$defs as Schema).map(([k, v]) => [k, toGrammarSchema(v)]));
  }
  if (typeof s.$ref === "string") return { ...out, $ref: s.$ref };
  if ("const" in s) return { ...out, const: s.const };
  if (Array.isArray(s.enum)) return { ...out, enum: s.enum };
  const union = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
  if (Array.isArray(union)) return { ...out, oneOf: union.map(toGrammarSchema) };
  const type = s.type;
  if (Array.isArray(type)) {
    if (type.every((t) => SCALARS.has(t as string))) return { ...out, type };
    return { ...out, oneOf: type.map((t) => toGrammarSchema({ ...s, type: t })) };
  }
  switch (type) {
    case "string": {
      const str: Schema = { ...out, type: "string" };
      if (typeof s.format === "string" && FORMATS.has(s.format)) str.format = s.format;
      else {
        if (typeof s.minLength === "number") str.minLength = s.minLength;
        if (typeof s.maxLength === "number") str.maxLength = s.maxLength;
      }
      return str;
    }
    case "number":
    case "integer":
    case "boolean":
    case "null":
      return { ...out, type };
    case "array": {
      const arr: Schema = { ...out, type: "array" };
      if (s.items !== undefined) arr.items = toGrammarSchema(s.items);
      if (Array.isArray(s.prefixItems)) arr.prefixItems = s.prefixItems.map(toGrammarSchema);
      if (typeof s.minItems === "number") arr.minItems = s.minItems;
      if (typeof s.maxItems === "number") arr.maxItems = s.maxItems;
      return arr;
    }
    case "object": {
      const obj: Schema = { ...out, type: "object" };
      const properties = s.properties as Schema | undefined;
      if (properties && Object.keys(properties).length > 0) {
        obj.properties = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, toGrammarSchema(v)]));
        obj.additionalProperties = false;
      } else if (s.additionalProperties && typeof s.additionalProperties === "object") {
        obj.additionalProperties = toGrammarSchema(s.additionalProperties);
      } else {
        obj.additionalProperties = s.additionalProperties !== false;
      }
      return obj;
    }
    default:
      return ANY_JSON;
  }
}
