import { z } from "zod";
import type * as zc from "zod/v4/core";
import { type Repair, shorten } from "./errors.js";
import { matchLoose } from "./normalize.js";
import { decodeJson } from "./syntax.js";

type Schema = zc.$ZodType;
type Def = zc.$ZodTypeDef & Record<string, unknown>;

/** Where a value sits, built as a chain and turned into text only when a repair is reported. */
export type Path = { readonly up: Path; readonly key: string | number } | null;

function at(path: Path, key: string | number): Path {
  return { up: path, key };
}

export function pathText(path: Path): string {
  const keys: (string | number)[] = [];
  for (let p = path; p; p = p.up) keys.push(p.key);
  return keys.reverse().join(".");
}

export interface CoerceContext {
  repairs: Repair[];
  depth: number;
  /** Work left for this answer, shared by union trials: bounds nested unions over deep values. */
  budget: { calls: number; unionTrials: number };
}

/**
 * Per answer: coerce calls, and union members tried by fit (each trial runs
 * zod on the subtree). Past either, values are left as they are for zod to
 * judge, so a recursive union over a deep value cannot explode.
 */
export const COERCE_BUDGET = { calls: 50_000, unionTrials: 200 };

export function coerceContext(repairs: Repair[]): CoerceContext {
  return { repairs, depth: 0, budget: { ...COERCE_BUDGET } };
}

/**
 * Recursion guard for recursive (lazy) schemas. One JSON level can take ~5
 * schema wrappers (lazy, union, object, array, optional), and blocks nest at
 * most 256 levels (MAX_NESTING), so this never cuts a legitimate value short.
 */
const MAX_DEPTH = 1500;
const NUMBER = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;

function defOf(schema: Schema): Def {
  return schema._zod.def as Def;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Moves `value` toward `schema` where the fix is unambiguous, recording each
 * change. Never validates (zod does that afterwards) and never throws on
 * mismatches: what it cannot fix it leaves for zod to report.
 */
export function coerce(schema: Schema, value: unknown, path: Path, ctx: CoerceContext): unknown {
  if (ctx.depth > MAX_DEPTH || --ctx.budget.calls < 0) return value;
  // No try/finally: an exception abandons the whole parse (and this context) anyway.
  ctx.depth++;
  const out = coerceInner(schema, value, path, ctx);
  ctx.depth--;
  return out;
}

function coerceInner(schema: Schema, value: unknown, path: Path, ctx: CoerceContext): unknown {
  const def = defOf(schema);
  switch (def.type) {
    case "optional":
    case "default":
    case "prefault":
      return value === undefined ? value : coerce(def.innerType as Schema, value, path, ctx);
    case "nullable":
      return value === null ? value : coerce(def.innerType as Schema, value, path, ctx);
    case "readonly":
    case "catch":
    case "nonoptional":
    case "success":
      return coerce(def.innerType as Schema, value, path, ctx);
    case "pipe":
      return coerce(def.in as Schema, value, path, ctx);
    case "lazy":
      return coerce((def.getter as () => Schema)(), value, path, ctx);
    case "string":
      return typeof value === "string" ? value : toStringValue(value, path, ctx);
    case "number":
      return toNumberValue(value, path, ctx);
    case "boolean":
      return toBooleanValue(value, path, ctx);
    case "enum":
    case "literal":
      return toMember(schema, value, path, ctx);
    case "array":
      return toArray(def.element as Schema, value, path, ctx);
    case "tuple":
      return toTuple(def.items as Schema[], (def.rest as Schema | null) ?? null, value, path, ctx);
    case "object":
      return toObject(
        def.shape as Record<string, Schema>,
        (def.catchall as Schema | undefined) ?? null,
        value,
        path,
        ctx,
      );
    case "record":
      return toRecord(def.keyType as Schema, def.valueType as Schema, value, path, ctx);
    case "union":
      return toUnion(schema, value, path, ctx);
    case "intersection":
      return toIntersection(def.left as Schema, def.right as Schema, value, path, ctx);
    default:
      return value;
  }
}

function repair(ctx: CoerceContext, kind: string, path: Path, from: unknown, to: unknown): void {
  ctx.repairs.push({ kind, path: pathText(path), from: brief(from), to: brief(to) });
}

/** Keeps repair reports small: long strings are cut, containers summarised. */
function brief(value: unknown): unknown {
  if (typeof value === "string") return shorten(value, 80);
  // Repairs are stored in event meta as JSON: keep only JSON-safe values.
  if (typeof value === "bigint" || typeof value === "symbol" || typeof value === "function") return String(value);
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (Array.isArray(value))
    return value.length <= 3 && value.every((v) => typeof v !== "object") ? value : `[${value.length} items]`;
  if (isPlainObject(value)) return `{${Object.keys(value).slice(0, 5).join(", ")}}`;
  return value;
}

/** A one-element array around a scalar: `["a"]` where `"a"` was asked. */
function unwrapSingle(value: unknown, path: Path, ctx: CoerceContext): unknown {
  if (Array.isArray(value) && value.length === 1 && typeof value[0] !== "object") {
    repair(ctx, "array_unwrapped", path, value, value[0]);
    return value[0];
  }
  return value;
}

function toStringValue(input: unknown, path: Path, ctx: CoerceContext): unknown {
  const value = unwrapSingle(input, path, ctx);
  if (typeof value === "number" && Number.isFinite(value)) {
    repair(ctx, "number_to_string", path, value, String(value));
    return String(value);
  }
  if (typeof value === "boolean") {
    repair(ctx, "boolean_to_string", path, value, String(value));
    return String(value);
  }
  return value;
}

function toNumberValue(input: unknown, path: Path, ctx: CoerceContext): unknown {
  const value = unwrapSingle(input, path, ctx);
  if (typeof value === "string") {
    const trimmed = value.trim();
    if (trimmed.length <= 40 && NUMBER.test(trimmed)) {
      const number = Number(trimmed);
      // Digits beyond double precision would change silently: leave those for zod to reject.
      const exact = !/^[-+]?\d+$/.test(trimmed) || Number.isSafeInteger(number);
      if (Number.isFinite(number) && exact) {
        repair(ctx, "string_to_number", path, value, number);
        return number;
      }
    }
  }
  return value;
}

const TRUE = new Set(["true", "yes"]);
const FALSE = new Set(["false", "no"]);

function toBooleanValue(input: unknown, path: Path, ctx: CoerceContext): unknown {
  const value = unwrapSingle(input, path, ctx);
  if (typeof value === "string") {
    const word = value.trim().toLowerCase();
    const bool = TRUE.has(word) ? true : FALSE.has(word) ? false : undefined;
    if (bool !== undefined) {
      repair(ctx, "string_to_boolean", path, value, bool);
      return bool;
    }
  }
  if (value === 0 || value === 1) {
    repair(ctx, "number_to_boolean", path, value, value === 1);
    return value === 1;
  }
  return value;
}

/** Enums and literals: exact, else case/whitespace/separator-insensitive, else number/boolean spelled as text. */
function toMember(schema: Schema, input: unknown, path: Path, ctx: CoerceContext): unknown {
  const values = schema._zod.values as Set<unknown> | undefined;
  if (!values || values.has(input)) return input;
  const value = unwrapSingle(input, path, ctx);
  if (values.has(value)) return value;
  const kind = defOf(schema).type === "enum" ? "enum_normalized" : "literal_normalized";
  if (typeof value === "string") {
    const strings = [...values].filter((v): v is string => typeof v === "string");
    const match = matchLoose(value, strings, (v) => v);
    if (match !== undefined) {
      repair(ctx, kind, path, value, match);
      return match;
    }
    const trimmed = value.trim();
    const number = NUMBER.test(trimmed) ? Number(trimmed) : Number.NaN;
    if (values.has(number)) {
      repair(ctx, "string_to_number", path, value, number);
      return number;
    }
    const word = trimmed.toLowerCase();
    const bool = word === "true" ? true : word === "false" ? false : undefined;
    if (bool !== undefined && values.has(bool)) {
      repair(ctx, "string_to_boolean", path, value, bool);
      return bool;
    }
  }
  if ((typeof value === "number" || typeof value === "boolean") && values.has(String(value))) {
    repair(ctx, kind, path, value, String(value));
    return String(value);
  }
  return value;
}

/** A nested object or array sent as a JSON string (common in tool-call arguments). */
function parseEmbedded(value: unknown, opener: string, path: Path, ctx: CoerceContext): unknown {
  if (typeof value !== "string") return value;
  const trimmed = value.trim();
  if (!trimmed.startsWith(opener)) return value;
  const decoded = decodeJson(trimmed);
  if (!decoded.ok) return value;
  repair(ctx, "json_string_parsed", path, value, decoded.value);
  return decoded.value;
}

function toArray(element: Schema, input: unknown, path: Path, ctx: CoerceContext): unknown {
  let value = parseEmbedded(input, "[", path, ctx);
  if (value === undefined || value === null) return value;
  if (!Array.isArray(value)) {
    repair(ctx, "wrapped_in_array", path, value, [value]);
    value = [value];
  }
  const items = value as unknown[];
  let out: unknown[] | undefined;
  for (let i = 0; i < items.length; i++) {
    const next = coerce(element, items[i], at(path, i), ctx);
    if (next !== items[i]) {
      out ??= items.slice();
      out[i] = next;
    }
  }
  return out ?? items;
}

function toTuple(items: Schema[], rest: Schema | null, input: unknown, path: Path, ctx: CoerceContext): unknown {
  let value = parseEmbedded(input, "[", path, ctx);
  if (!Array.isArray(value)) {
    if (items.length !== 1 || value === undefined || value === null) return value;
    repair(ctx, "wrapped_in_array", path, value, [value]);
    value = [value];
  }
  return (value as unknown[]).map((item, i) => {
    const schema = items[i] ?? rest;
    return schema ? coerce(schema, item, at(path, i), ctx) : item;
  });
}

/** Whether an object field may simply be absent (optional or defaulted). */
function mayBeAbsent(schema: Schema): boolean {
  return schema._zod.optin === "optional" || schema._zod.optin === "defaulted";
}

function acceptsNull(schema: Schema, depth = 0): boolean {
  if (depth > 16) return true;
  const def = defOf(schema);
  switch (def.type) {
    case "nullable":
    case "null":
    case "any":
    case "unknown":
      return true;
    case "optional":
    case "default":
    case "prefault":
    case "readonly":
    case "catch":
    case "nonoptional":
      return acceptsNull(def.innerType as Schema, depth + 1);
    case "pipe":
      return acceptsNull(def.in as Schema, depth + 1);
    case "lazy":
      return acceptsNull((def.getter as () => Schema)(), depth + 1);
    case "union":
      return (def.options as Schema[]).some((o) => acceptsNull(o, depth + 1));
    case "literal":
      return (schema._zod.values as Set<unknown> | undefined)?.has(null) ?? false;
    default:
      return false;
  }
}

/**
 * Objects: known keys coerced, near-miss keys (`Question`, `dueDate` for
 * `due_date`) renamed, `null` for an optional non-nullable field removed,
 * unknown keys dropped unless the object keeps extra keys (catchall).
 */
function toObject(
  shape: Record<string, Schema>,
  catchall: Schema | null,
  input: unknown,
  path: Path,
  ctx: CoerceContext,
): unknown {
  const value = parseEmbedded(input, "{", path, ctx);
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  const extras: string[] = [];
  for (const key of Object.keys(value)) {
    if (Object.hasOwn(shape, key)) setOwn(out, key, value[key]);
    else extras.push(key);
  }
  for (const key of extras) {
    const missing = Object.keys(shape).filter((k) => !Object.hasOwn(out, k));
    const match = matchLoose(key, missing, (k) => k);
    if (match !== undefined) {
      ctx.repairs.push({ kind: "key_renamed", path: pathText(at(path, match)), from: key, to: match });
      setOwn(out, match, value[key]);
    } else if (catchall && defOf(catchall).type !== "never") {
      setOwn(out, key, coerce(catchall, value[key], at(path, key), ctx));
    } else {
      repair(ctx, "extra_key_dropped", at(path, key), value[key], undefined);
    }
  }
  for (const key of Object.keys(shape)) {
    if (!Object.hasOwn(out, key)) continue;
    const field = shape[key] as Schema;
    const fieldPath = at(path, key);
    if (out[key] === null && mayBeAbsent(field) && !acceptsNull(field)) {
      repair(ctx, "null_dropped", fieldPath, null, undefined);
      delete out[key];
      continue;
    }
    setOwn(out, key, coerce(field, out[key], fieldPath, ctx));
  }
  return out;
}

function toRecord(keyType: Schema, valueType: Schema, input: unknown, path: Path, ctx: CoerceContext): unknown {
  const value = parseEmbedded(input, "{", path, ctx);
  if (!isPlainObject(value)) return value;
  const keyValues = keyType._zod.values as Set<unknown> | undefined;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    let name = key;
    if (keyValues && !keyValues.has(key)) {
      const match = matchLoose(
        key,
        [...keyValues].filter((v): v is string => typeof v === "string"),
        (v) => v,
      );
      if (match !== undefined) {
        ctx.repairs.push({ kind: "key_renamed", path: pathText(at(path, match)), from: key, to: match });
        name = match;
      }
    }
    setOwn(out, name, coerce(valueType, item, at(path, name), ctx));
  }
  return out;
}

/**
 * Unions: a discriminated union picks its member by the discriminator
 * (loosely matched); otherwise the member that validates after the fewest
 * repairs wins (an already-valid member needs none), so dropped extra keys
 * are still reported.
 */
function toUnion(schema: Schema, value: unknown, path: Path, ctx: CoerceContext): unknown {
  const def = defOf(schema);
  const options = def.options as Schema[];
  const discriminator = def.discriminator as string | undefined;
  if (discriminator && isPlainObject(value) && typeof value[discriminator] === "string") {
    const tag = value[discriminator] as string;
    const exact = options.find((o) => discriminatorValues(o, discriminator).has(tag));
    const loose =
      exact ??
      matchLoose(tag, options, (o) => {
        const values = [...discriminatorValues(o, discriminator)];
        return values.length === 1 && typeof values[0] === "string" ? values[0] : "";
      });
    if (loose) {
      if (!exact) {
        const to = [...discriminatorValues(loose, discriminator)][0];
        repair(ctx, "literal_normalized", at(path, discriminator), tag, to);
        value = { ...value, [discriminator]: to };
      }
      return coerce(loose, value, path, ctx);
    }
  }
  let best: { value: unknown; repairs: Repair[] } | undefined;
  for (const option of options) {
    if (ruledOutByLiterals(option, value)) continue;
    if (--ctx.budget.unionTrials < 0) return best ? adoptTrial(ctx, best) : value;
    const trial: CoerceContext = { repairs: [], depth: ctx.depth, budget: ctx.budget };
    const candidate = coerce(option, value, path, trial);
    if (validates(option, candidate) && (!best || trial.repairs.length < best.repairs.length)) {
      best = { value: candidate, repairs: trial.repairs };
      if (trial.repairs.length === 0) break;
    }
  }
  return best ? adoptTrial(ctx, best) : value;
}

function adoptTrial(ctx: CoerceContext, best: { value: unknown; repairs: Repair[] }): unknown {
  ctx.repairs.push(...best.repairs);
  return best.value;
}

/**
 * A member whose literal field (`kind: "email"`) the value contradicts, even
 * loosely, cannot fit: skip it without walking the value (an undeclared
 * discriminator; this keeps recursive unions from exploding).
 */
function ruledOutByLiterals(option: Schema, value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  const propValues = option._zod.propValues as Record<string, Set<unknown>> | undefined;
  if (!propValues) return false;
  for (const [key, allowed] of Object.entries(propValues)) {
    const given = value[key];
    if (given === undefined || allowed.has(given)) continue;
    if (typeof given === "object" && given !== null) continue;
    const text = String(given).trim();
    if ([...allowed].some((a) => String(a) === text)) continue;
    if (typeof given === "string") {
      const strings = [...allowed].filter((v): v is string => typeof v === "string");
      if (matchLoose(given, strings, (v) => v) !== undefined) continue;
    }
    return true;
  }
  return false;
}

function discriminatorValues(option: Schema, key: string): Set<unknown> {
  const propValues = option._zod.propValues as Record<string, Set<unknown>> | undefined;
  return propValues?.[key] ?? new Set();
}

/** Object intersections are coerced as one object with both shapes; other intersections are left to zod. */
function toIntersection(left: Schema, right: Schema, value: unknown, path: Path, ctx: CoerceContext): unknown {
  const a = objectParts(left);
  const b = objectParts(right);
  if (!a || !b) return value;
  const catchall = a.catchall ?? b.catchall ?? null;
  return toObject({ ...a.shape, ...b.shape }, catchall, value, path, ctx);
}

function objectParts(schema: Schema): { shape: Record<string, Schema>; catchall: Schema | undefined } | undefined {
  const def = defOf(schema);
  if (def.type !== "object") return undefined;
  return { shape: def.shape as Record<string, Schema>, catchall: def.catchall as Schema | undefined };
}

/** Defines an own property even for keys like `__proto__` (which JSON.parse can produce). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__")
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

export function validates(schema: Schema, value: unknown): boolean {
  try {
    return z.safeParse(schema, value).success;
  } catch {
    return false;
  }
}
