import { z } from "zod";
import type { AnyIntent } from "../../../src/intent/intent.js";
import { coerce, coerceContext, isPlainObject, validates } from "./coerce.js";
import { formatIssues, type ParsedStep, type ParseFailure, type Repair, shorten } from "./errors.js";
import { matchLoose } from "./normalize.js";
import { decodeJson } from "./syntax.js";

export interface Failure {
  reason: ParseFailure;
  /** What was wrong, for the model: one short sentence. */
  detail: string;
  intent?: string;
  issues?: string[];
}

export type Aligned = { ok: true; step: ParsedStep } | { ok: false; failure: Failure };

/** Keys models use instead of `intent` (OpenAI/Anthropic tool-call shapes, "action" agents). */
const NAME_KEYS = ["name", "tool", "tool_name", "action", "function", "type", "command", "step"];
/** Keys models wrap the arguments in. */
const ARGUMENT_KEYS = ["arguments", "args", "parameters", "params", "input"];
/** How deep wrappers (`{"step": {...}}`, `[{...}]`) are unwrapped. */
const MAX_UNWRAP = 3;

/**
 * Turns a decoded JSON value into a step: finds the intent (the `intent`
 * field, loosely matched; or a tool-call-like `name`+`arguments`; or the only
 * intent the arguments fit), then coerces and validates the arguments.
 */
export function alignStep(value: unknown, intents: readonly AnyIntent[], repairs: Repair[], depth = 0): Aligned {
  if (Array.isArray(value)) return alignArray(value, intents, repairs, depth);
  if (!isPlainObject(value)) {
    const got = value === null ? "null" : typeof value;
    return fail("invalid_json", `the answer must be one JSON object, but it is ${got === "string" ? "a string" : got}`);
  }
  const intentKey = findKey(value, "intent");
  if (intentKey !== undefined) {
    if (intentKey !== "intent") repairs.push({ kind: "key_renamed", path: "intent", from: intentKey, to: "intent" });
    const { [intentKey]: name, ...rest } = value;
    if (typeof name !== "string") {
      return fail("missing_intent", `"intent" must be a string naming the intent, but it is ${describe(name)}`);
    }
    const intent = resolveIntent(name, intents, "intent", repairs);
    if (!intent) return fail("unknown_intent", `"${shorten(name, 60)}" is not one of the intents`, { intent: name });
    return alignArguments(intent, rest, repairs);
  }
  return alignWithoutIntentKey(value, intents, repairs, depth);
}

function alignArray(value: unknown[], intents: readonly AnyIntent[], repairs: Repair[], depth: number): Aligned {
  if (value.length === 0 || depth >= MAX_UNWRAP)
    return fail("invalid_json", "the answer is a list, not one JSON object");
  let first: Aligned | undefined;
  for (const item of value.slice(0, 8)) {
    const trial: Repair[] = [];
    const aligned = alignStep(item, intents, trial, depth + 1);
    if (aligned.ok) {
      repairs.push({ kind: "array_unwrapped", path: "", from: `[${value.length} items]`, to: "the first valid step" });
      if (value.length > 1) repairs.push({ kind: "extra_steps_dropped", path: "", from: value.length, to: 1 });
      return adopt(aligned, repairs);
    }
    first ??= aligned;
  }
  return first ?? fail("invalid_json", "the answer is a list, not one JSON object");
}

function alignWithoutIntentKey(
  value: Record<string, unknown>,
  intents: readonly AnyIntent[],
  repairs: Repair[],
  depth: number,
): Aligned {
  const keys = Object.keys(value);
  // {"name": "add", "arguments": {...}} and friends.
  for (const key of NAME_KEYS) {
    const found = findKey(value, key);
    if (found === undefined) continue;
    const named = value[found];
    if (isPlainObject(named) && depth < MAX_UNWRAP) {
      // {"function": {"name": "add", "arguments": "{...}"}}
      const trial: Repair[] = [];
      const inner = alignStep(named, intents, trial, depth + 1);
      if (inner.ok) {
        repairs.push({ kind: "step_unwrapped", path: "", from: found, to: "" });
        return adopt(inner, repairs);
      }
      continue;
    }
    if (typeof named !== "string") continue;
    const trial: Repair[] = [];
    const intent = resolveIntent(named, intents, found, trial);
    if (!intent) continue;
    repairs.push({ kind: "intent_from_alias", path: "intent", from: found, to: intent.name }, ...trial);
    const { [found]: _drop, ...rest } = value;
    return alignArguments(intent, envelopeArguments(intent, rest), repairs);
  }
  if (keys.length === 1 && depth < MAX_UNWRAP) {
    const key = keys[0] as string;
    const inner = value[key];
    // {"divide": {"a": 1, "b": 2}}
    const named = matchIntent(key, intents);
    if (named && (isPlainObject(inner) || inner === null)) {
      repairs.push({ kind: "intent_from_key", path: "intent", from: key, to: named.name });
      return alignArguments(named, inner ?? {}, repairs);
    }
    // {"step": {"intent": ...}}, {"answer": [...]}
    if (isPlainObject(inner) || Array.isArray(inner)) {
      const trial: Repair[] = [];
      const aligned = alignStep(inner, intents, trial, depth + 1);
      if (aligned.ok) {
        repairs.push({ kind: "step_unwrapped", path: "", from: key, to: "" });
        return adopt(aligned, repairs);
      }
    }
  }
  return inferIntent(value, intents, repairs);
}

/** No intent named: use the one intent whose arguments the object fits, if exactly one does. */
function inferIntent(value: Record<string, unknown>, intents: readonly AnyIntent[], repairs: Repair[]): Aligned {
  // Only a non-empty object whose every key belongs to the intent counts as a fit:
  // `{}` or unknown keys must not select an intent whose fields are all optional.
  const fits: AnyIntent[] = [];
  if (Object.keys(value).length > 0) {
    for (const intent of intents) {
      const trial: Repair[] = [];
      const args = coerceArguments(intent, value, trial);
      if (!trial.some((r) => r.kind === "extra_key_dropped") && validates(intent.schema, args)) fits.push(intent);
    }
  }
  const only = fits.length === 1 ? fits[0] : intents.length === 1 ? intents[0] : undefined;
  if (!only) {
    const named = namedCall(value);
    if (named !== undefined && fits.length === 0) {
      return fail("unknown_intent", `"${shorten(named, 60)}" is not one of the intents`, { intent: named });
    }
    const detail =
      fits.length > 1
        ? `the answer has no "intent" field and fits several intents (${fits.map((f) => f.name).join(", ")})`
        : 'the answer has no "intent" field';
    return fail("missing_intent", detail);
  }
  repairs.push({ kind: "intent_inferred", path: "intent", from: undefined, to: only.name });
  return alignArguments(only, value, repairs);
}

/**
 * A tool-call envelope (`{"type": "tool_use", "name": …, "input": {…}}`):
 * when it holds an arguments key the intent does not declare, only that
 * key's value is the arguments (flattened later); envelope keys go.
 */
function envelopeArguments(intent: AnyIntent, rest: Record<string, unknown>): Record<string, unknown> {
  const shape = intent.schema.shape as Record<string, unknown>;
  for (const key of ARGUMENT_KEYS) {
    const found = findKey(rest, key);
    if (found !== undefined && !Object.hasOwn(shape, found)) return { [found]: rest[found] };
  }
  return rest;
}

/** `{"name": "launch", "arguments": {...}}`: a tool-call-shaped answer naming an intent we do not have. */
function namedCall(value: Record<string, unknown>): string | undefined {
  const hasArguments = ARGUMENT_KEYS.some((k) => findKey(value, k) !== undefined);
  for (const key of ["name", "tool", "tool_name", "function", "action"]) {
    const found = findKey(value, key);
    const named = found === undefined ? undefined : value[found];
    if (typeof named === "string" && (hasArguments || Object.keys(value).length === 1)) return named;
  }
  return undefined;
}

function alignArguments(intent: AnyIntent, value: Record<string, unknown>, repairs: Repair[]): Aligned {
  const args = coerceArguments(intent, value, repairs);
  let result: ReturnType<typeof z.safeParse>;
  try {
    result = z.safeParse(intent.schema, args);
  } catch (error) {
    // Async refinements or a throwing custom check: report, never crash.
    const message = error instanceof Error ? error.message : String(error);
    return fail("invalid_arguments", `the arguments could not be checked: ${shorten(message, 120)}`, {
      intent: intent.name,
    });
  }
  if (!result.success) {
    const issues = formatIssues(result.error);
    return fail("invalid_arguments", `the arguments for "${intent.name}" are invalid`, { intent: intent.name, issues });
  }
  return { ok: true, step: { value: { intent: intent.name, ...(result.data as Record<string, unknown>) }, repairs } };
}

/** `{"arguments": {...}}` around the arguments is flattened unless the intent has such a field. */
function coerceArguments(intent: AnyIntent, value: Record<string, unknown>, repairs: Repair[]): unknown {
  let args: unknown = value;
  const keys = Object.keys(value);
  const shape = intent.schema.shape as Record<string, unknown>;
  if (keys.length === 1 && ARGUMENT_KEYS.includes(keys[0] as string) && !Object.hasOwn(shape, keys[0] as string)) {
    let inner = value[keys[0] as string];
    if (typeof inner === "string" && inner.trim().startsWith("{")) {
      const decoded = decodeJson(inner.trim());
      if (decoded.ok) inner = decoded.value;
    }
    if (isPlainObject(inner)) {
      repairs.push({ kind: "arguments_flattened", path: keys[0] as string, from: keys[0], to: "" });
      args = inner;
    }
  }
  return coerce(intent.schema, args, null, coerceContext(repairs));
}

export function resolveIntent(
  name: string,
  intents: readonly AnyIntent[],
  path: string,
  repairs: Repair[],
): AnyIntent | undefined {
  const exact = intents.find((i) => i.name === name);
  if (exact) return exact;
  const loose = matchIntent(name, intents);
  if (loose) repairs.push({ kind: "intent_normalized", path, from: name, to: loose.name });
  return loose;
}

function matchIntent(name: string, intents: readonly AnyIntent[]): AnyIntent | undefined {
  return matchLoose(name, intents, (i) => i.name);
}

/** The key equal to `wanted`, else the one key loosely equal to it (`Intent`, `INTENT`). */
function findKey(value: Record<string, unknown>, wanted: string): string | undefined {
  if (Object.hasOwn(value, wanted)) return wanted;
  return matchLoose(wanted, Object.keys(value).slice(0, 64), (k) => k);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "an object" : `${typeof value} ${shorten(String(value), 40)}`;
}

/** An inner (unwrapped) success, with the outer repairs first. */
function adopt(inner: Extract<Aligned, { ok: true }>, repairs: Repair[]): Aligned {
  repairs.push(...inner.step.repairs);
  return { ok: true, step: { value: inner.step.value, repairs } };
}

function fail(reason: ParseFailure, detail: string, extra: { intent?: string; issues?: string[] } = {}): Aligned {
  return { ok: false, failure: { reason, detail, ...extra } };
}
