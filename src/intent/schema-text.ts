import { z } from "zod";
import type { ToolSpec } from "../model/types.js";
import type { AnyIntent } from "./intent.js";

type JsonSchema = Record<string, unknown>;

/** JSON Schema of an intent's arguments (draft 2020-12, no `$schema` key). */
export function argumentsJsonSchema(intent: AnyIntent): JsonSchema {
  const { $schema: _drop, ...schema } = z.toJSONSchema(intent.schema, {
    io: "input",
    unrepresentable: "any",
  }) as JsonSchema;
  return schema;
}

export function toolSpecs(intents: readonly AnyIntent[]): ToolSpec[] {
  return intents.map((i) => ({ name: i.name, description: i.description, parameters: argumentsJsonSchema(i) }));
}

/** JSON Schema of the whole step union: `{intent: "<name>", ...args}` for each intent. */
export function stepJsonSchema(intents: readonly AnyIntent[]): JsonSchema {
  const anyOf = intents.map((i) => {
    const args = argumentsJsonSchema(i);
    const properties = { intent: { type: "string", const: i.name }, ...((args.properties as JsonSchema) ?? {}) };
    const required = ["intent", ...((args.required as string[]) ?? [])];
    return { ...args, type: "object", properties, required, description: i.description };
  });
  return anyOf.length === 1 ? (anyOf[0] as JsonSchema) : { anyOf };
}

/** Above this width an object is written one field per line. */
const MAX_LINE = 100;

/**
 * The intents as compact TypeScript-like shapes: the "answer with one of
 * these" block of the default prompt. Descriptions and constraints become
 * `//` comments, enums literal unions, records `Record<K, V>`, tuples
 * `[A, B]`; recursive types are named once (`type Node = …`) below their
 * intent. Short shapes stay on one line to save tokens.
 */
export function renderIntentSchemas(intents: readonly AnyIntent[]): string {
  return intents.map(renderIntent).join("\n\n");
}

function renderIntent(intent: AnyIntent): string {
  const schema = argumentsJsonSchema(intent);
  const defs = (schema.$defs ?? {}) as Record<string, JsonSchema>;
  const names = new Map(Object.keys(defs).map((key) => [key, defName(key)]));
  const r = new Renderer(names);
  const head = [
    `// ${oneLine(intent.description)}`,
    r.object(schema, 0, [{ text: `intent: ${JSON.stringify(intent.name)}` }]),
  ];
  for (const [key, def] of Object.entries(defs)) head.push(`type ${names.get(key)} = ${r.type(def, 0)};`);
  return head.join("\n");
}

/**
 * Any zod schema as the same TypeScript-like shape (parseLenient's error
 * message tells the model what to send). Recursive types are named below it.
 * Empty when zod cannot express the schema as JSON Schema.
 */
export function renderSchema(schema: z.ZodType): string {
  let json: JsonSchema;
  try {
    const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
    json = rest;
  } catch {
    return "";
  }
  const defs = (json.$defs ?? {}) as Record<string, JsonSchema>;
  const names = new Map(Object.keys(defs).map((key) => [key, defName(key)]));
  const r = new Renderer(names);
  const lines = [json.type === "object" ? r.object(json, 0) : r.type(json, 0)];
  for (const [key, def] of Object.entries(defs)) lines.push(`type ${names.get(key)} = ${r.type(def, 0)};`);
  return lines.join("\n");
}

/** zod names unnamed recursive schemas `__schema0`; `.meta({ id })` names are kept. */
function defName(key: string): string {
  const clean = key.replace(/^_+/, "").replace(/[^A-Za-z0-9_$]/g, "_");
  return clean.charAt(0).toUpperCase() + clean.slice(1);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

interface Field {
  text: string;
  doc?: string;
}

class Renderer {
  constructor(private readonly defNames: Map<string, string>) {}

  object(schema: JsonSchema, depth: number, leading: Field[] = []): string {
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((schema.required as string[]) ?? []);
    const fields = [...leading];
    for (const [key, prop] of Object.entries(properties)) {
      const name = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : JSON.stringify(key);
      const optional = required.has(key) ? "" : "?";
      const field: Field = { text: `${name}${optional}: ${this.type(prop, depth + 1)}` };
      const doc = docOf(prop);
      if (doc) field.doc = doc;
      fields.push(field);
    }
    if (fields.length === 0) {
      const extra = schema.additionalProperties;
      if (extra && typeof extra === "object") return this.record(schema, extra as JsonSchema, depth);
      return "{}";
    }
    const flat = `{ ${fields.map((f) => f.text).join("; ")} }`;
    const multiline = fields.some((f) => f.doc || f.text.includes("\n")) || flat.length + depth * 2 > MAX_LINE;
    if (!multiline) return flat;
    const pad = "  ".repeat(depth + 1);
    const lines = fields.map((f) => `${pad}${f.text};${f.doc ? ` // ${f.doc}` : ""}`);
    return `{\n${lines.join("\n")}\n${"  ".repeat(depth)}}`;
  }

  record(schema: JsonSchema, values: JsonSchema, depth: number): string {
    const keys = (schema.propertyNames ?? {}) as JsonSchema;
    if (!Array.isArray(keys.enum)) return `Record<string, ${this.type(values, depth)}>`;
    const record = `Record<${keys.enum.map((k) => JSON.stringify(k)).join(" | ")}, ${this.type(values, depth)}>`;
    // Enum-keyed records need every key unless zod made them partial (no `required`).
    const required = Array.isArray(schema.required) ? schema.required.length : 0;
    return required >= keys.enum.length ? record : `Partial<${record}>`;
  }

  type(schema: JsonSchema, depth: number): string {
    if (typeof schema.$ref === "string") return this.ref(schema.$ref);
    if ("const" in schema) return JSON.stringify(schema.const);
    if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
    const union = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
    if (Array.isArray(union)) return union.map((s) => this.type(s, depth)).join(" | ");
    const type = schema.type;
    if (Array.isArray(type)) return type.map((t) => this.type({ ...schema, type: t }, depth)).join(" | ");
    switch (type) {
      case "string":
      case "number":
      case "integer":
      case "boolean":
      case "null":
        return type;
      case "array":
        return this.array(schema, depth);
      case "object":
        return this.object(schema, depth);
      default:
        return "any";
    }
  }

  private array(schema: JsonSchema, depth: number): string {
    if (Array.isArray(schema.prefixItems)) {
      return `[${(schema.prefixItems as JsonSchema[]).map((s) => this.type(s, depth)).join(", ")}]`;
    }
    const items = (schema.items ?? {}) as JsonSchema;
    const inner = this.type(items, depth);
    return hasTopLevelUnion(inner) ? `(${inner})[]` : `${inner}[]`;
  }

  private ref(ref: string): string {
    const key = ref.startsWith("#/$defs/") ? ref.slice("#/$defs/".length) : undefined;
    if (ref === "#") return "Arguments";
    return (key && this.defNames.get(key)) ?? "any";
  }
}

/** A field's comment: its description, then the constraints a model should respect. */
function docOf(schema: JsonSchema): string | undefined {
  const parts: string[] = [];
  if (typeof schema.description === "string") parts.push(oneLine(schema.description));
  // z.number().int() carries the safe-integer range: implied by `integer`, not worth tokens.
  const min = unlessSafeBound(schema.minimum ?? schema.exclusiveMinimum);
  const max = unlessSafeBound(schema.maximum ?? schema.exclusiveMaximum);
  if (typeof min === "number" || typeof max === "number") {
    const low = typeof min === "number" ? `${schema.exclusiveMinimum !== undefined ? ">" : "≥"} ${min}` : "";
    const high = typeof max === "number" ? `${schema.exclusiveMaximum !== undefined ? "<" : "≤"} ${max}` : "";
    parts.push([low, high].filter(Boolean).join(", "));
  }
  const length = range(schema.minLength, schema.maxLength, "chars") ?? range(schema.minItems, schema.maxItems, "items");
  if (length && !Array.isArray(schema.prefixItems)) parts.push(length);
  if (typeof schema.format === "string") parts.push(schema.format);
  else if (typeof schema.pattern === "string" && schema.pattern.length <= 60) parts.push(`/${schema.pattern}/`);
  if ("default" in schema) parts.push(`default ${JSON.stringify(schema.default)}`);
  return parts.length ? parts.join("; ") : undefined;
}

function range(min: unknown, max: unknown, unit: string): string | undefined {
  const low = typeof min === "number" ? min : undefined;
  const high = typeof max === "number" ? max : undefined;
  if (low === undefined && high === undefined) return undefined;
  if (low !== undefined && high !== undefined) return low === high ? `${low} ${unit}` : `${low}-${high} ${unit}`;
  return low !== undefined ? `≥ ${low} ${unit}` : `≤ ${high} ${unit}`;
}

function unlessSafeBound(value: unknown): unknown {
  return value === Number.MAX_SAFE_INTEGER || value === Number.MIN_SAFE_INTEGER ? undefined : value;
}

/** Whether `a | b` appears outside any braces, brackets or parentheses (so `[]` needs parentheses). */
function hasTopLevelUnion(type: string): boolean {
  let depth = 0;
  let quote = false;
  for (let i = 0; i < type.length; i++) {
    const c = type[i];
    if (c === '"' && type[i - 1] !== "\\") quote = !quote;
    if (quote) continue;
    if (c === "{" || c === "[" || c === "(" || c === "<") depth++;
    else if (c === "}" || c === "]" || c === ")" || c === ">") depth--;
    else if (c === "|" && depth === 0) return true;
  }
  return false;
}
