import { readFile } from "node:fs/promises";
import { TwelveError } from "../errors/index.js";
import type { Event } from "../thread/event.js";
import { sleep } from "./resilience.js";
import { playBack } from "./stream.js";
import type { GenerateRequest, GenerateResult, Model, ModelThreadView } from "./types.js";

/**
 * A deterministic, thread-keyed test model. Where `scriptedModel` answers
 * from a queue (which restarts from the top in every new process), a rules
 * model looks at the thread it is asked about and answers with the first
 * rule that matches it. The same thread gets the same answer in any process:
 * a restarted server, a second worker, a resumed CLI run.
 *
 * The format is plain JSON (see docs/testing.md):
 *
 *     [
 *       { "when": { "lastType": "user_message" }, "answer": { "intent": "add", "a": 1, "b": 2 } },
 *       { "when": { "lastType": "add_result" }, "answer": { "intent": "done_for_now", "message": "{{last.data}}" } }
 *     ]
 *
 * or `{ "latencyMs": 200, "rules": [...] }` to wait that long before every answer.
 */

/** Conditions on the thread; all given ones must hold. No condition at all matches every thread. */
export interface RuleCondition {
  /** The last event's type is exactly this. */
  lastType?: string;
  /** The last event's type is one of these. */
  lastTypeIn?: string[];
  /** The last event's data contains this text (string data as is, anything else as compact JSON). */
  lastContains?: string;
  /** The first event's data (usually the user message) contains this text. */
  firstContains?: string;
  /** Exactly this many model steps were taken (steps plus failed model answers; see `stepCount`). */
  steps?: number;
  /** At least this many model steps were taken. */
  stepsAtLeast?: number;
  /** The thread holds this many events of a type (`atLeast` defaults to 1 when neither bound is given). */
  count?: { type: string; atLeast?: number; equals?: number };
}

/**
 * What a matching rule answers; every string in it may hold `{{placeholders}}`:
 * - a string: returned as the model's text, verbatim (malformed answers too);
 * - `{ "intent": …, …arguments }`: that step, serialized to JSON text;
 * - `{ "error": "message", "code"?: "…" }`: thrown, like a failing provider call.
 */
export type RuleAnswer = string | ({ intent: string } & Record<string, unknown>) | { error: string; code?: string };

export interface Rule {
  when?: RuleCondition;
  answer: RuleAnswer;
  /** Free text for the reader of the file (JSON has no comments); ignored. */
  note?: string;
}

/** The file form: a bare array of rules, or this object. */
export interface RulesFile {
  /** Wait this long before every answer (honours the request's abort signal). */
  latencyMs?: number;
  rules: Rule[];
}

export interface RulesModelOptions {
  /** Wait this long before every answer (honours the request's abort signal). Default 0. */
  latencyMs?: number;
  /** Id reported in meta. Default `rules:inline`. */
  id?: string;
}

/** Builds a rules model; invalid rules throw a `rules_invalid` naming the rule (`rules[2].when.steps …`). */
export function rulesModel(rules: readonly Rule[], options: RulesModelOptions = {}): Model {
  const parsed = parseRules(rules, "rules model");
  if (options.latencyMs !== undefined && !isWhole(options.latencyMs)) {
    throw new TwelveError(
      "rules_invalid",
      `rules model: latencyMs must be a whole number >= 0, got ${show(options.latencyMs)}`,
    );
  }
  return create(parsed.rules, options.latencyMs ?? 0, options.id ?? "rules:inline");
}

/** Reads a rules file (`rules:<file.json>`); every problem is a `rules_invalid` naming the file. */
export async function loadRulesModel(path: string, options: { id?: string } = {}): Promise<Model> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new TwelveError("rules_invalid", `cannot read rules file "${path}": ${(error as Error).message}`, { path });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TwelveError("rules_invalid", `rules file "${path}" is not valid JSON: ${(error as Error).message}`, {
      path,
    });
  }
  const parsed = parseRules(value, `rules file "${path}"`);
  return create(parsed.rules, parsed.latencyMs ?? 0, options.id ?? `rules:${path}`);
}

function create(rules: readonly Rule[], latencyMs: number, id: string): Model {
  return {
    id,
    async generate(request: GenerateRequest): Promise<GenerateResult> {
      const thread = request.thread;
      if (!thread) {
        throw new TwelveError(
          "rules_need_thread",
          `rules model "${id}": the request carries no thread to match rules against; rules models answer inside the agent loop (run, step, resume), which passes it`,
        );
      }
      if (latencyMs > 0 || request.signal?.aborted) await sleep(latencyMs, request.signal, id);
      const facts = factsOf(thread);
      const index = rules.findIndex((rule) => matches(rule.when, facts));
      if (index < 0) {
        const lastType = facts.last?.type ?? "(none: the thread is empty)";
        throw new TwelveError(
          "rules_no_match",
          `rules model "${id}": no rule matches the thread (last event "${lastType}", ${facts.steps} step(s) taken); add a rule for it, or end with a rule without "when" as a catch-all`,
          { model: id, lastType: facts.last?.type, steps: facts.steps, rules: rules.length },
        );
      }
      const answer = fill(rules[index]!.answer, facts, index, id) as RuleAnswer;
      const raw = { rule: index };
      if (typeof answer === "string" || "intent" in answer) {
        const text = typeof answer === "string" ? answer : JSON.stringify(answer);
        const result: GenerateResult = { text, usage: { inputTokens: 0, outputTokens: 0 }, raw };
        // Streamed in pieces when asked to, so a live display has something to show.
        playBack(request, result);
        return result;
      }
      throw new TwelveError(answer.code ?? "model_error", answer.error, { model: id, rule: index });
    },
  };
}

// ---------------------------------------------------------------- matching

interface Facts {
  thread: ModelThreadView;
  first: Event | undefined;
  last: Event | undefined;
  steps: number;
}

function factsOf(thread: ModelThreadView): Facts {
  const events = thread.events;
  // The same count as thread/status.ts `stepCount` (model/ may import thread types only): each
  // parsed step, and each model answer that failed, counts once.
  let steps = 0;
  for (const e of events) if (e.meta?.kind === "step" || (e.type === "error" && e.meta?.phase === "model")) steps++;
  return { thread, first: events[0], last: events.at(-1), steps };
}

function matches(when: RuleCondition | undefined, facts: Facts): boolean {
  if (!when) return true;
  const { last, first, steps } = facts;
  if (when.lastType !== undefined && last?.type !== when.lastType) return false;
  if (when.lastTypeIn !== undefined && (!last || !when.lastTypeIn.includes(last.type))) return false;
  if (when.lastContains !== undefined && (!last || !dataText(last).includes(when.lastContains))) return false;
  if (when.firstContains !== undefined && (!first || !dataText(first).includes(when.firstContains))) return false;
  if (when.steps !== undefined && steps !== when.steps) return false;
  if (when.stepsAtLeast !== undefined && steps < when.stepsAtLeast) return false;
  if (when.count) {
    const { type, atLeast, equals } = when.count;
    const n = facts.thread.events.filter((e) => e.type === type).length;
    if (equals !== undefined && n !== equals) return false;
    if (n < (atLeast ?? (equals === undefined ? 1 : 0))) return false;
  }
  return true;
}

/** An event's data as text: a string as is, anything else as compact JSON. */
function dataText(event: Event): string {
  return typeof event.data === "string" ? event.data : (JSON.stringify(event.data) ?? "");
}

// ---------------------------------------------------------------- templating

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const WHOLE = /^\{\{\s*([^{}]*?)\s*\}\}$/;
const ROOTS = ["last", "first", "lastOf", "thread", "steps"];

/** Replaces placeholders in every string of an answer. A string that is one placeholder keeps the value's type. */
function fill(value: unknown, facts: Facts, index: number, id: string): unknown {
  if (typeof value === "string") {
    const whole = WHOLE.exec(value);
    if (whole) return structuredClone(lookup(whole[1]!, facts, index, id));
    return value.replace(PLACEHOLDER, (_m, path: string) => {
      const found = lookup(path, facts, index, id);
      return typeof found === "string" ? found : JSON.stringify(found);
    });
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, facts, index, id));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, facts, index, id)]));
  }
  return value;
}

function lookup(path: string, facts: Facts, index: number, id: string): unknown {
  const [root, ...rest] = path.split(".");
  let value: unknown;
  let segments = rest;
  switch (root) {
    case "last":
      value = facts.last;
      break;
    case "first":
      value = facts.first;
      break;
    case "steps":
      value = facts.steps;
      break;
    case "thread":
      value = { id: facts.thread.id, agent: facts.thread.agent, length: facts.thread.events.length };
      break;
    case "lastOf": {
      const type = rest[0];
      value = facts.thread.events.findLast((e) => e.type === type);
      segments = rest.slice(1);
      break;
    }
  }
  for (const segment of segments) {
    if (value === null || typeof value !== "object") {
      value = undefined;
      break;
    }
    value = Object.hasOwn(value, segment) ? (value as Record<string, unknown>)[segment] : undefined;
  }
  if (value === undefined) {
    throw new TwelveError(
      "rules_template",
      `rules model "${id}": rules[${index}] uses {{${path}}}, which has no value in this thread (last event "${facts.last?.type ?? "(none)"}": ${show(facts.last?.data)})`,
      { model: id, rule: index, placeholder: path },
    );
  }
  return value;
}

// ---------------------------------------------------------------- validation

const WHEN_KEYS = ["lastType", "lastTypeIn", "lastContains", "firstContains", "steps", "stepsAtLeast", "count"];

/**
 * Checks an unknown value (a parsed file, rules written in code) against the
 * rule format. `source` starts every message, e.g. `rules file "r.json"`.
 */
export function parseRules(value: unknown, source: string): RulesFile {
  const fail = (why: string, details: Record<string, unknown> = {}): never => {
    throw new TwelveError("rules_invalid", `${source}: ${why}`, details);
  };
  let rules: unknown = value;
  const file: Partial<RulesFile> = {};
  if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      if (key !== "rules" && key !== "latencyMs")
        fail(`unknown top-level key "${key}"; expected "rules" and "latencyMs"`);
    }
    if (value.latencyMs !== undefined) {
      if (!isWhole(value.latencyMs)) fail(`latencyMs must be a whole number >= 0, got ${show(value.latencyMs)}`);
      file.latencyMs = value.latencyMs as number;
    }
    rules = value.rules;
  }
  if (!Array.isArray(rules)) fail(`must be a JSON array of rules, or {"latencyMs": <ms>, "rules": [...]}`);
  const list = rules as unknown[];
  if (list.length === 0) fail("has no rules; every call would fail with rules_no_match");
  for (const [index, rule] of list.entries()) {
    const at: At = (path, why) => fail(`rules[${index}]${path} ${why}`, { rule: index });
    if (!isPlainObject(rule)) at("", `must be an object {"when": {...}, "answer": ...}, got ${show(rule)}`);
    for (const key of Object.keys(rule)) {
      if (!["when", "answer", "note"].includes(key)) {
        at("", `has unknown key "${key}"; expected "when", "answer", "note"`);
      }
    }
    if (rule.when !== undefined) checkWhen(rule.when, at);
    checkAnswer(rule.answer, at);
  }
  // A copy: rules changed by the caller afterwards do not change a model already built.
  return { ...file, rules: structuredClone(list) as Rule[] };
}

type At = (path: string, why: string) => never;

function checkWhen(when: unknown, at: At): void {
  if (!isPlainObject(when)) at(".when", `must be an object of conditions, got ${show(when)}`);
  for (const key of Object.keys(when)) {
    if (!WHEN_KEYS.includes(key)) at(".when", `has unknown condition "${key}"; known: ${WHEN_KEYS.join(", ")}`);
  }
  for (const key of ["lastType", "lastContains", "firstContains"]) {
    if (when[key] !== undefined && typeof when[key] !== "string") {
      at(`.when.${key}`, `must be a string, got ${show(when[key])}`);
    }
  }
  const typeIn = when.lastTypeIn;
  if (
    typeIn !== undefined &&
    !(Array.isArray(typeIn) && typeIn.length > 0 && typeIn.every((t) => typeof t === "string"))
  ) {
    at(".when.lastTypeIn", `must be a non-empty array of strings, got ${show(typeIn)}`);
  }
  for (const key of ["steps", "stepsAtLeast"]) {
    if (when[key] !== undefined && !isWhole(when[key])) {
      at(`.when.${key}`, `must be a whole number >= 0, got ${show(when[key])}`);
    }
  }
  const count = when.count;
  if (count === undefined) return;
  if (!isPlainObject(count) || typeof count.type !== "string") {
    at(".when.count", `must be {"type": "<event type>", "atLeast"?: n, "equals"?: n}, got ${show(count)}`);
  }
  for (const key of Object.keys(count)) {
    if (!["type", "atLeast", "equals"].includes(key)) {
      at(".when.count", `has unknown key "${key}"; expected "type", "atLeast", "equals"`);
    }
  }
  for (const key of ["atLeast", "equals"]) {
    if (count[key] !== undefined && !isWhole(count[key])) {
      at(`.when.count.${key}`, `must be a whole number >= 0, got ${show(count[key])}`);
    }
  }
}

function checkAnswer(answer: unknown, at: At): void {
  const shape = `a string, a step {"intent": "<name>", ...arguments} or {"error": "<message>"}`;
  if (answer === undefined) at("", `has no "answer"; give ${shape}`);
  if (typeof answer !== "string") {
    if (!isPlainObject(answer) || !("intent" in answer || "error" in answer)) {
      at(".answer", `must be ${shape}, got ${show(answer)}`);
    }
    if ("intent" in answer) {
      if (typeof answer.intent !== "string" || answer.intent === "") {
        at(".answer.intent", `must be a non-empty string, got ${show(answer.intent)}`);
      }
    } else {
      if (typeof answer.error !== "string") at(".answer.error", `must be a string message, got ${show(answer.error)}`);
      if (answer.code !== undefined && typeof answer.code !== "string") {
        at(".answer.code", `must be a string, got ${show(answer.code)}`);
      }
      for (const key of Object.keys(answer)) {
        if (key !== "error" && key !== "code") {
          at(".answer", `has unknown key "${key}" next to "error"; expected "code"`);
        }
      }
    }
  }
  checkTemplates(answer, ".answer", at);
}

/** Every placeholder must start at a known root, so a typo fails when the file loads, not mid-run. */
function checkTemplates(value: unknown, path: string, at: At): void {
  if (typeof value === "string") {
    for (const match of value.matchAll(PLACEHOLDER)) {
      const [root, ...rest] = match[1]!.split(".");
      if (!ROOTS.includes(root!)) {
        at(path, `uses {{${match[1]}}}: a placeholder starts with one of ${ROOTS.join(", ")}`);
      }
      if (root === "lastOf" && !rest[0]) at(path, `uses {{${match[1]}}}: write {{lastOf.<event type>.data}}`);
      if (rest.some((segment) => segment === "")) at(path, `uses {{${match[1]}}}: an empty path segment`);
    }
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) checkTemplates(v, `${path}[${i}]`, at);
  } else if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) checkTemplates(v, `${path}.${k}`, at);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isWhole(value: unknown): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

function show(value: unknown): string {
  const text = value === undefined ? "nothing" : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
