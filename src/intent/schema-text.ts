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

/**
 * The intents as compact TypeScript-like shapes with descriptions as
 * comments: the "Answer in JSON using any of these schemas" block of the
 * default prompt. Token-lean: one line per shape unless fields carry docs.
 */
export function renderIntentSchemas(intents: readonly AnyIntent[]): string {
  return intents
    .map((intent) => {
      const schema = argumentsJsonSchema(intent);
      const body = renderObject(schema, 0, [`intent: "${intent.name}"`]);
      return `// ${oneLine(intent.description)}\n${body}`;
    })
    .join("\n\n");
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function renderObject(schema: JsonSchema, depth: number, leading: string[] = []): string {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required as string[]) ?? []);
  const fields: { text: string; doc?: string }[] = leading.map((text) => ({ text }));
  for (const [key, prop] of Object.entries(properties)) {
    const name = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : JSON.stringify(key);
    const optional = required.has(key) ? "" : "?";
    const field: { text: string; doc?: string } = { text: `${name}${optional}: ${renderType(prop, depth + 1)}` };
    if (typeof prop.description === "string") field.doc = oneLine(prop.description);
    fields.push(field);
  }
  const extra = schema.additionalProperties;
  if (fields.length === 0) {
    if (extra && typeof extra === "object") return `Record<string, ${renderType(extra as JsonSchema, depth)}>`;
    return "{}";
  }
  const multiline = fields.some((f) => f.doc) || fields.some((f) => f.text.includes("\n"));
  if (!multiline) return `{ ${fields.map((f) => f.text).join("; ")} }`;
  const pad = "  ".repeat(depth + 1);
  const lines = fields.map((f) => `${pad}${f.text};${f.doc ? ` // ${f.doc}` : ""}`);
  return `{\n${lines.join("\n")}\n${"  ".repeat(depth)}}`;
}

function renderType(schema: JsonSchema, depth: number): string {
  if ("const" in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  const union = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (Array.isArray(union)) return union.map((s) => renderType(s, depth)).join(" | ");
  const type = schema.type;
  if (Array.isArray(type)) return type.map((t) => renderType({ ...schema, type: t }, depth)).join(" | ");
  switch (type) {
    case "string":
      return "string";
    case "number":
      return "number";
    case "integer":
      return "integer";
    case "boolean":
      return "boolean";
    case "null":
      return "null";
    case "array": {
      const items = (schema.items ?? {}) as JsonSchema;
      const inner = renderType(items, depth);
      return inner.includes("|") ? `(${inner})[]` : `${inner}[]`;
    }
    case "object":
      return renderObject(schema, depth);
    default:
      return "any";
  }
}
