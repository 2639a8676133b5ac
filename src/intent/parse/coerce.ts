import { isDeepStrictEqual } from "node:util";
import { z } from "zod";
import type * as zc from "zod/v4/core";
import { type Repair, shorten } from "./errors.js";
import { looseName, matchLoose } from "./normalize.js";
import { type NumberReading, readNumber } from "./numbers.js";
import { booleanFromText, memberFromText, memberNames } from "./scalar.js";
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

/**
 * What the coercion may do beyond the step parser's fixes. `lenient`
 * (parseLenient): an object from a scalar, and a tie between two union
 * members with different values is ambiguous. `prose`: scalars read out of
 * text (numbers as people write them, enums named in a sentence, "yes.").
 */
export interface CoerceMode {
  lenient: boolean;
  prose: boolean;
}

export const STEP_MODE: CoerceMode = { lenient: false, prose: false };

export interface CoerceContext {
  repairs: Repair[];
  depth: number;
  /** Work left for this answer, shared by union trials: bounds nested unions over deep values. */
  budget: { calls: number; unionTrials: number };
  mode: CoerceMode;
  /** Set when a value reads two ways (two enum values named, `1,234`, a union tie): the answer is rejected. */
  ambiguity?: { path: string; detail: string };
  /** The value being wrapped in lists right now, and how many deep (see MAX_WRAPS). */
  wrapping?: { value: unknown; count: number };
}

/**
 * Per answer: coerce calls, and union members tried by fit (each trial runs
 * zod on the subtree). Past either, values are left as they are for zod to
 * judge, so a recursive union over a deep value cannot explode.
 */
export const COERCE_BUDGET = { calls: 50_000, unionTrials: 200 };

export function coerceContext(repairs: Repair[], mode: CoerceMode = STEP_MODE): CoerceContext {
  return { repairs, depth: 0, budget: { ...COERCE_BUDGET }, mode };
}

/**
 * Recursion guard for recursive (lazy) schemas. One JSON level can take ~5
 * schema wrappers (lazy, union, object, array, optional), and blocks nest at
 * most 256 levels (MAX_NESTING), so this never cuts a legitimate value short.
 */
const MAX_DEPTH = 1500;
const NUMBER = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;

/** Recursive schemas are followed through zod's cached inner type (a getter may build a new schema per call). */
function lazyInner(schema: Schema): Schema {
  return (schema._zod as unknown as { innerType: Schema }).innerType;
}

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
      if (value === null) return value;
      if (ctx.mode.prose && isNullWord(value) && !kindFits(def.innerType as Schema, "string")) {
        repair(ctx, "null_from_text", path, value, null);
        return null;
      }
      return coerce(def.innerType as Schema, value, path, ctx);
    case "readonly":
    case "catch":
    case "nonoptional":
    case "success":
      return coerce(def.innerType as Schema, value, path, ctx);
    case "pipe":
      return coerce(def.in as Schema, value, path, ctx);
    case "lazy":
      return coerce(lazyInner(schema), value, path, ctx);
    case "string":
      if (typeof value === "string") return value;
      return toStringValue(ctx.mode.lenient ? fromOnlyKey(value, path, ctx) : value, path, ctx);
    case "number":
      return toNumberValue(ctx.mode.lenient ? fromOnlyKey(value, path, ctx) : value, path, ctx);
    case "boolean":
      return toBooleanValue(ctx.mode.lenient ? fromOnlyKey(value, path, ctx) : value, path, ctx);
    case "enum":
    case "literal":
      return toMember(schema, ctx.mode.lenient ? fromOnlyKey(value, path, ctx) : value, path, ctx);
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

/** `{"answer": "Paris"}` where a scalar was asked: the one value inside (lenient mode). */
function fromOnlyKey(value: unknown, path: Path, ctx: CoerceContext): unknown {
  if (!isPlainObject(value)) return value;
  const keys = Object.keys(value);
  if (keys.length !== 1) return value;
  const inner = value[keys[0] as string];
  if (!isScalar(inner)) return value;
  repair(ctx, "object_unwrapped", path, `{${keys[0]}}`, inner);
  return inner;
}

const NULL_WORDS = new Set(["null", "none", "n/a", "na", "nil", "unknown", "-"]);

/** `"N/A"`, `"none"`, `"null"` for a nullable number, boolean, object…: null. */
function isNullWord(value: unknown): boolean {
  return (
    typeof value === "string" && value.length <= 12 && NULL_WORDS.has(value.trim().toLowerCase().replace(/\.$/, ""))
  );
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
    if (ctx.mode.prose) return fromNumberReading(readNumber(value), value, path, ctx);
  }
  return value;
}

function fromNumberReading(reading: NumberReading, value: string, path: Path, ctx: CoerceContext): unknown {
  if (reading?.ok) {
    repair(ctx, "number_from_text", path, value, reading.value);
    return reading.value;
  }
  if (reading?.ambiguous) ambiguous(ctx, path, reading.detail);
  return value;
}

function ambiguous(ctx: CoerceContext, path: Path, detail: string): void {
  ctx.ambiguity ??= { path: pathText(path), detail };
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
  if (ctx.mode.prose && typeof value === "string") {
    const reading = booleanFromText(value);
    if (reading?.ok) {
      repair(ctx, "boolean_from_text", path, value, reading.value);
      return reading.value;
    }
    if (reading) ambiguous(ctx, path, `"${shorten(value, 60)}" says both yes and no`);
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
  if (ctx.mode.prose && typeof value === "string") return memberFromProse(schema, value, path, ctx);
  return value;
}

/** An enum value or literal named in a sentence, by its value, a documented alias or its description. */
function memberFromProse(schema: Schema, value: string, path: Path, ctx: CoerceContext): unknown {
  const reading = memberFromText(value, memberNames(schema));
  if (reading?.ok) {
    repair(ctx, "value_from_text", path, value, reading.value);
    return reading.value;
  }
  if (reading) {
    const named = reading.ambiguous.map((v) => JSON.stringify(v)).join(" and ");
    ambiguous(ctx, path, `"${shorten(value, 60)}" names more than one value (${named})`);
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

/**
 * How many lists one value may be wrapped in, one inside the other
 * (`"a"` → `[["a"]]`). Without a cap a recursive schema (`type T = T[] | …`)
 * would wrap the same value until the budget ran out, starving the members
 * that fit.
 */
const MAX_WRAPS = 2;

function toArray(element: Schema, input: unknown, path: Path, ctx: CoerceContext): unknown {
  const value = parseEmbedded(input, "[", path, ctx);
  if (value === undefined || value === null) return value;
  if (!Array.isArray(value)) {
    const chain = ctx.wrapping?.value === value ? ctx.wrapping.count + 1 : 1;
    if (chain > MAX_WRAPS) return value;
    repair(ctx, "wrapped_in_array", path, value, [value]);
    const outer = ctx.wrapping;
    ctx.wrapping = { value, count: chain };
    const next = coerce(element, value, at(path, 0), ctx);
    ctx.wrapping = outer;
    return [next];
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
      return acceptsNull(lazyInner(schema), depth + 1);
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
  let value = parseEmbedded(input, "{", path, ctx);
  if (ctx.mode.lenient && isScalar(value)) value = objectFromScalar(shape, value, path, ctx);
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

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

/** `42` for `{answer: number}`: an object with one required field is that field. */
function objectFromScalar(shape: Record<string, Schema>, value: unknown, path: Path, ctx: CoerceContext): unknown {
  const required = Object.keys(shape).filter((k) => !mayBeAbsent(shape[k] as Schema));
  if (required.length !== 1) return value;
  const key = required[0] as string;
  repair(ctx, "object_from_scalar", path, value, `{${key}}`);
  const out: Record<string, unknown> = {};
  setOwn(out, key, value);
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
  // Members of the value's own kind first (an object for an object): a reading that changes
  // the kind (wrapping in a list, an object from a scalar) is tried only when none of those fit,
  // so a recursive JSON-value schema never wraps an object in lists.
  const near: Schema[] = [];
  const far: Schema[] = [];
  const kind = valueKind(value);
  for (const option of options) {
    if (ruledOutByLiterals(option, value) || ruledOutByRequired(option, value)) continue;
    (kindFits(option, kind) ? near : far).push(option);
  }
  let result = tryMembers(near, value, path, ctx);
  if (!result.best && !result.exhausted && far.length > 0) {
    const second = tryMembers(far, value, path, ctx);
    result = { ...second, ambiguity: result.ambiguity ?? second.ambiguity };
  }
  const { best, tie } = result;
  if (best && tie) {
    ambiguous(
      ctx,
      path,
      `it fits two readings equally well (${shorten(JSON.stringify(best.output) ?? "", 40)} and ${shorten(JSON.stringify(tie.output) ?? "", 40)})`,
    );
    return value;
  }
  if (best) return adoptTrial(ctx, best);
  if (result.ambiguity) ctx.ambiguity ??= result.ambiguity;
  return value;
}

interface Trial {
  value: unknown;
  repairs: Repair[];
  output: unknown;
}

interface Trials {
  best?: Trial;
  /** Another member, as cheap as the best, with a different value (lenient mode only). */
  tie?: Trial;
  exhausted: boolean;
  ambiguity?: { path: string; detail: string };
}

/** The member that validates after the fewest repairs (an already-valid member needs none). */
function tryMembers(options: Schema[], value: unknown, path: Path, ctx: CoerceContext): Trials {
  const out: Trials = { exhausted: false };
  for (const option of options) {
    if (--ctx.budget.unionTrials < 0) {
      out.exhausted = true;
      return out;
    }
    const trial: CoerceContext = { repairs: [], depth: ctx.depth, budget: ctx.budget, mode: ctx.mode };
    if (ctx.wrapping) trial.wrapping = ctx.wrapping;
    const candidate = coerce(option, value, path, trial);
    if (trial.ambiguity) {
      out.ambiguity ??= trial.ambiguity;
      continue;
    }
    const checked = check(option, candidate);
    if (!checked.ok) continue;
    const next = { value: candidate, repairs: trial.repairs, output: checked.data };
    if (!out.best || next.repairs.length < out.best.repairs.length) {
      out.best = next;
      out.tie = undefined;
      if (next.repairs.length === 0) break;
    } else if (
      ctx.mode.lenient &&
      !out.tie &&
      next.repairs.length === out.best.repairs.length &&
      !isDeepStrictEqual(next.output, out.best.output)
    ) {
      out.tie = next;
    }
  }
  return out;
}

type Kind = "object" | "array" | "string" | "number" | "boolean" | "other";

function valueKind(value: unknown): Kind {
  if (Array.isArray(value)) return "array";
  if (isPlainObject(value)) return "object";
  const type = typeof value;
  return type === "string" || type === "number" || type === "boolean" ? type : "other";
}

const KIND_OF_TYPE: Record<string, Kind> = {
  object: "object",
  record: "object",
  array: "array",
  tuple: "array",
  string: "string",
  template_literal: "string",
  number: "number",
  int: "number",
  boolean: "boolean",
};

/** Whether a member takes values of this kind without changing it (wrappers looked through). */
function kindFits(option: Schema, kind: Kind): boolean {
  if (kind === "other") return true;
  let schema = option;
  for (let i = 0; i < 16; i++) {
    const def = defOf(schema);
    switch (def.type) {
      case "optional":
      case "nullable":
      case "default":
      case "prefault":
      case "readonly":
      case "catch":
      case "nonoptional":
      case "success":
        schema = def.innerType as Schema;
        continue;
      case "pipe":
        schema = def.in as Schema;
        continue;
      case "lazy":
        schema = lazyInner(schema);
        continue;
      case "enum":
      case "literal": {
        const values = schema._zod.values as Set<unknown> | undefined;
        return [...(values ?? [])].some((v) => typeof v === kind);
      }
      default: {
        const fixed = KIND_OF_TYPE[def.type];
        return fixed === undefined || fixed === kind;
      }
    }
  }
  return true;
}

/**
 * An object member whose required field the value lacks, even under a loose
 * key, cannot fit (coercion never adds a field): skip it without walking
 * the value. With ruledOutByLiterals this keeps recursive unions linear.
 */
function ruledOutByRequired(option: Schema, value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  const def = defOf(option);
  if (def.type !== "object") return false;
  const shape = def.shape as Record<string, Schema>;
  let loose: Set<string> | undefined;
  for (const key of Object.keys(shape)) {
    if (Object.hasOwn(value, key) || mayBeAbsent(shape[key] as Schema)) continue;
    loose ??= new Set(
      Object.keys(value)
        .slice(0, 64)
        .map((k) => looseName(k)),
    );
    if (!loose.has(looseName(key))) return true;
  }
  return false;
}

function adoptTrial(ctx: CoerceContext, best: Trial): unknown {
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

/** zod's verdict and output; a throwing check counts as a failure. */
export function check(schema: Schema, value: unknown): { ok: true; data: unknown } | { ok: false } {
  try {
    const result = z.safeParse(schema, value);
    return result.success ? { ok: true, data: result.data } : { ok: false };
  } catch {
    return { ok: false };
  }
}

export function validates(schema: Schema, value: unknown): boolean {
  try {
    return z.safeParse(schema, value).success;
  } catch {
    return false;
  }
}
