import { z } from "zod";
import type * as zc from "zod/v4/core";
import { renderSchema } from "../schema-text.js";
import { guidedReading, keyValueLines } from "./align.js";
import { type Failure, readAnswer, type Target } from "./answer.js";
import { type CoerceMode, coerce, coerceContext } from "./coerce.js";
import { formatIssues, ParseError, type ParseFailure, type Repair, shorten } from "./errors.js";

export interface LenientOptions {
  /**
   * Read scalars out of prose: numbers as people write them (`$1,000`,
   * `12%`, `3 kg`), an enum value named in a sentence, `false, because…`.
   * Default true; false accepts only plain JSON-like scalars (as steps do).
   */
  prose?: boolean;
}

export interface LenientResult<T> {
  value: T;
  repairs: Repair[];
}

/**
 * Reads a model's answer as a value of any zod schema, leniently: JSON in
 * prose or fences, broken syntax, strings left unquoted, code in triple
 * quotes, several objects for a list, a scalar named in a sentence, numbers
 * as people write them, keys and enum values with other case or accents.
 * Every change is reported in `repairs`. When two readings fit equally well
 * with different values it refuses to guess. Throws only ParseError (reason
 * `no_json`, `invalid_json`, `invalid_value` or `ambiguous`), whose message
 * tells the model what to send instead and whose `tried` lists every attempt.
 */
export function parseLenient<S extends z.ZodType>(
  text: string,
  schema: S,
  options: LenientOptions = {},
): LenientResult<z.output<S>> {
  const raw = typeof text === "string" ? text : String(text);
  const tried: string[] = [];
  try {
    return readAnswer(raw, lenientTarget(schema, raw, options), tried) as LenientResult<z.output<S>>;
  } catch (error) {
    if (error instanceof ParseError) throw error;
    // Anything unexpected (a bug, a stack overflow on absurd nesting) still surfaces as a ParseError.
    const message = error instanceof Error ? error.message : String(error);
    tried.push(`internal: ${shorten(message, 120)}`);
    throw lenientError(schema, raw, tried, {
      reason: "invalid_json",
      detail: `the answer could not be processed (${shorten(message, 80)})`,
    });
  }
}

function lenientTarget(schema: z.ZodType, raw: string, options: LenientOptions): Target<LenientResult<unknown>> {
  const mode: CoerceMode = { lenient: true, prose: options.prose ?? true };
  const base = baseOf(schema);
  const structured = base === "object" || base === "array";
  return {
    align: (value, repairs) => alignValue(schema, value, repairs, mode),
    fail: (tried, f) => lenientError(schema, raw, tried, f),
    yaml: (text) => looksLikeYaml(text, schema, base),
    anyJson: true,
    collect: base === "array",
    guided: (text, start) => guidedReading(text, start, schema as unknown as zc.$ZodType),
    lines: base === "object" ? (text) => keyValueLines(text, schema as unknown as zc.$ZodType) : undefined,
    asText: { failure: structured && !oneRequiredField(schema) ? "no_json" : undefined },
  };
}

function alignValue(
  schema: z.ZodType,
  value: unknown,
  repairs: Repair[],
  mode: CoerceMode,
): { ok: true; result: LenientResult<unknown> } | { ok: false; failure: Failure } {
  const ctx = coerceContext(repairs, mode);
  const coerced = coerce(schema as unknown as zc.$ZodType, value, null, ctx);
  if (ctx.ambiguity) {
    const at = ctx.ambiguity.path ? `at ${ctx.ambiguity.path}: ` : "";
    return { ok: false, failure: { reason: "ambiguous", detail: `${at}${ctx.ambiguity.detail}` } };
  }
  let result: ReturnType<typeof z.safeParse>;
  try {
    result = z.safeParse(schema, coerced);
  } catch (error) {
    // Async refinements or a throwing custom check: report, never crash.
    const message = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      failure: { reason: "invalid_value", detail: `the value could not be checked: ${shorten(message, 120)}` },
    };
  }
  if (!result.success) {
    return {
      ok: false,
      failure: {
        reason: "invalid_value",
        detail: "the value does not fit the schema",
        issues: formatIssues(result.error),
      },
    };
  }
  return { ok: true, result: { value: result.data, repairs } };
}

/** What the model reads next turn: what was wrong, then the shape to send. */
function lenientError(schema: z.ZodType, raw: string, tried: string[], f: Failure): ParseError {
  const lines = [`Your answer could not be read as the expected value: ${f.detail}.`];
  if (f.issues?.length) lines.push(`Problems: ${f.issues.join("; ")}.`);
  if (f.reason === "ambiguous") lines.push("Name exactly one value.");
  const shape = renderSchema(schema);
  if (shape) lines.push(`Answer again with a value of this shape:\n${clip(shape, 1500)}`);
  return new ParseError(f.reason as ParseFailure, lines.join("\n"), raw, { issues: f.issues ?? [], tried });
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

type Base = "object" | "array" | "scalar" | "other";

type Def = { type: string; innerType?: zc.$ZodType; in?: zc.$ZodType; shape?: Record<string, zc.$ZodType> };

function unwrap(schema: zc.$ZodType): zc.$ZodType {
  let current = schema;
  for (let i = 0; i < 16; i++) {
    const def = current._zod.def as unknown as Def;
    if (def.innerType && def.type !== "lazy") current = def.innerType;
    else if (def.type === "pipe" && def.in) current = def.in;
    else if (def.type === "lazy") current = (current._zod as unknown as { innerType: zc.$ZodType }).innerType;
    else return current;
  }
  return current;
}

/** The kind of value a schema wants, wrappers looked through. */
function baseOf(schema: z.ZodType): Base {
  const def = unwrap(schema as unknown as zc.$ZodType)._zod.def as unknown as Def;
  switch (def.type) {
    case "object":
    case "record":
    case "intersection":
      return "object";
    case "array":
    case "tuple":
      return "array";
    case "string":
    case "number":
    case "boolean":
    case "enum":
    case "literal":
    case "bigint":
      return "scalar";
    default:
      return "other";
  }
}

function oneRequiredField(schema: z.ZodType): boolean {
  const def = unwrap(schema as unknown as zc.$ZodType)._zod.def as unknown as Def;
  if (def.type !== "object" || !def.shape) return false;
  const required = Object.values(def.shape).filter((f) => f._zod.optin !== "optional" && f._zod.optin !== "defaulted");
  return required.length === 1;
}

/** YAML is worth a try for an object whose keys start lines (`title: …`) or a list of `- ` lines. */
function looksLikeYaml(text: string, schema: z.ZodType, base: Base): boolean {
  if (base === "array") return /^[ \t]*- \S/m.test(text);
  if (base !== "object") return false;
  const def = unwrap(schema as unknown as zc.$ZodType)._zod.def as unknown as Def;
  const keys = Object.keys(def.shape ?? {});
  return keys.some((key) => new RegExp(`^[ \\t]*["']?${escapeRegExp(key)}["']?[ \\t]*:`, "m").test(text));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
