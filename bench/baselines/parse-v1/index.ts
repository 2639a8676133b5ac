/** Frozen copy of src/intent/parse/ before parseLenient (bench baseline "parse v1"; not used by the product). */
import { parse as parseYaml } from "yaml";
import type { AnyIntent } from "../../../src/intent/intent.js";
import { renderIntentSchemas } from "../../../src/intent/schema-text.js";
import { isPlainObject } from "./coerce.js";
import { type ParsedStep, ParseError, type ParseFailure, type Repair, shorten } from "./errors.js";
import { type Candidate, findCandidates } from "./extract.js";
import { alignStep, type Failure } from "./step.js";
import { decodeJson } from "./syntax.js";

export type { ParsedStep, ParseFailure, Repair } from "./errors.js";
export { formatIssues, ParseError } from "./errors.js";

/** Answers longer than this are rejected outright (documented limit). */
export const MAX_ANSWER_LENGTH = 1_048_576;

/** Deeper JSON blocks are rejected without decoding. */
export const MAX_NESTING = 256;

const RANK: Record<ParseFailure, number> = {
  no_json: 0,
  invalid_json: 1,
  missing_intent: 2,
  unknown_intent: 3,
  invalid_arguments: 4,
};

/**
 * Turns a model's answer into a validated step `{intent, ...args}`, leniently:
 * finds the JSON (fences, reasoning around it, several blocks), repairs its
 * syntax, aligns it to the intents' schemas, and reports every repair. Throws
 * only ParseError, whose message tells the model how to answer next time.
 */
export function parseStep(text: string, intents: readonly AnyIntent[]): ParsedStep {
  const raw = typeof text === "string" ? text : String(text);
  const tried: string[] = [];
  try {
    if (raw.length > MAX_ANSWER_LENGTH) {
      throw failure(intents, raw, tried, {
        reason: "invalid_json",
        detail: `the answer is ${raw.length} characters long; the limit is ${MAX_ANSWER_LENGTH}`,
      });
    }
    return parseCandidates(unquote(raw), intents, tried, raw);
  } catch (error) {
    throw asParseError(error, intents, raw, tried);
  }
}

/** An answer that is itself a JSON string holding the JSON (double-encoded) is decoded once. */
function unquote(raw: string): { text: string; repairs: Repair[] } {
  const trimmed = raw.trim();
  if (trimmed.length < 4 || trimmed[0] !== '"' || trimmed[trimmed.length - 1] !== '"')
    return { text: raw, repairs: [] };
  try {
    const inner: unknown = JSON.parse(trimmed);
    if (typeof inner === "string" && /^\s*[[{]/.test(inner)) {
      return {
        text: inner,
        repairs: [{ kind: "json_string_parsed", path: "", from: shorten(trimmed, 40), to: "JSON" }],
      };
    }
  } catch {
    // Not a JSON string: use the answer as it is.
  }
  return { text: raw, repairs: [] };
}

function parseCandidates(
  input: { text: string; repairs: Repair[] },
  intents: readonly AnyIntent[],
  tried: string[],
  original: string,
): ParsedStep {
  const raw = input.text;
  const candidates = findCandidates(raw);
  let best: Failure | undefined;
  for (const candidate of candidates) {
    if ((candidate.depth ?? 0) > MAX_NESTING) {
      // No step is this deep; decoding it would only cost time (V8 parses deep nesting slowly).
      tried.push(`${where(candidate)}: nested ${candidate.depth} levels deep (limit ${MAX_NESTING})`);
      best = pick(best, { reason: "invalid_json", detail: `the JSON is nested more than ${MAX_NESTING} levels deep` });
      continue;
    }
    const decoded = decodeJson(candidate.text, candidate.missing);
    if (!decoded.ok) {
      tried.push(`${where(candidate)}: unreadable JSON (${decoded.error})`);
      best = pick(best, { reason: "invalid_json", detail: `the JSON could not be read: ${decoded.error}` });
      continue;
    }
    const repairs = [...input.repairs, ...extractionRepairs(raw, candidate, candidates)];
    repairs.push(...decoded.repairs);
    const aligned = alignStep(decoded.value, intents, repairs);
    if (aligned.ok) return aligned.step;
    tried.push(`${where(candidate)}: ${aligned.failure.reason} (${aligned.failure.detail})`);
    best = pick(best, aligned.failure);
  }
  const yaml = tryYaml(original, intents, tried);
  if (yaml?.ok) return yaml.step;
  if (yaml) best = pick(best, yaml.failure);
  if (candidates.length === 0) tried.push("no JSON object found in the answer");
  throw failure(intents, original, tried, best ?? { reason: "no_json", detail: "the answer contains no JSON object" });
}

/** Prefer the failure that got furthest (a known intent with bad arguments beats unreadable JSON). */
function pick(current: Failure | undefined, next: Failure): Failure {
  return !current || RANK[next.reason] > RANK[current.reason] ? next : current;
}

function where(candidate: Candidate): string {
  const kind = candidate.fence !== undefined ? "fenced block" : "block";
  return `${kind} at ${candidate.start}-${candidate.end}`;
}

/** Reports what was cut away around the JSON: a fence, free text, other blocks. */
export function extractionRepairs(raw: string, candidate: Candidate, candidates: readonly Candidate[]): Repair[] {
  const repairs: Repair[] = [];
  if (candidate.fence !== undefined)
    repairs.push({ kind: "fence_stripped", path: "", from: `\`\`\`${candidate.fence}` });
  const before = stripFence(raw.slice(0, candidate.start)).trim();
  const after = stripFence(raw.slice(candidate.end)).trim();
  if (before || after) {
    repairs.push({
      kind: "text_dropped",
      path: "",
      from: shorten(`${before}${before && after ? " … " : ""}${after}`, 80),
    });
  }
  const others = candidates.filter((c) => c.end <= candidate.start || c.start >= candidate.end).length;
  if (others > 0) repairs.push({ kind: "other_blocks_ignored", path: "", from: others });
  return repairs;
}

/** Fence markers next to the JSON are the fence, not text the model said. */
function stripFence(text: string): string {
  if (text.length > 4096) return text;
  return text.replace(/```[^\n`]*\n?/g, "");
}

/**
 * A line starting a YAML mapping with an `intent` key. Written so no two
 * quantifiers compete for the same characters (`[ \t]*-?[ \t]*` took
 * seconds on a long line of spaces).
 */
/**
 * YAML answers are short. The yaml package needs ~25 µs per character on
 * adversarial input (`a: a: a: …`, deep `[[[`), so only short answers get it.
 */
const YAML_MAX_LENGTH = 4096;
const YAML_INTENT_LINE = /^[ \t]*(?:-[ \t]*)?["']?intent["']?[ \t]*:/m;

/** Last resort for answers written as YAML (`intent: add` lines): the yaml package reads them. */
function tryYaml(raw: string, intents: readonly AnyIntent[], tried: string[]) {
  if (raw.length > YAML_MAX_LENGTH || !YAML_INTENT_LINE.test(raw)) return undefined;
  const fenced = /```[a-zA-Z]*\n([\s\S]*?)```/.exec(raw);
  const source = fenced?.[1] ?? raw;
  let value: unknown;
  try {
    value = parseYaml(source);
  } catch (error) {
    tried.push(`YAML: ${shorten(error instanceof Error ? error.message : String(error), 100)}`);
    return undefined;
  }
  if (!isPlainObject(value) && !Array.isArray(value)) return undefined;
  const repairs: Repair[] = [{ kind: "yaml_parsed", path: "", from: shorten(source.trim(), 40) }];
  const aligned = alignStep(value, intents, repairs);
  if (!aligned.ok) tried.push(`YAML: ${aligned.failure.reason} (${aligned.failure.detail})`);
  return aligned;
}

/** Validates an already-decoded value (json mode, or a caller's own decoding) as a step, leniently. */
export function validateStep(
  value: unknown,
  intents: readonly AnyIntent[],
  raw: string,
  repairs: Repair[],
): ParsedStep {
  const tried: string[] = [];
  try {
    const aligned = alignStep(value, intents, repairs);
    if (aligned.ok) return aligned.step;
    throw failure(intents, raw, tried, aligned.failure);
  } catch (error) {
    throw asParseError(error, intents, raw, tried);
  }
}

/**
 * Native tool calls (tools mode) → a step. The first call naming a known
 * intent is the step; string arguments with broken JSON are repaired like
 * text answers.
 */
export function parseToolCalls(
  toolCalls: readonly { id: string; name: string; arguments: unknown }[],
  intents: readonly AnyIntent[],
): ParsedStep {
  let raw: string;
  try {
    raw = JSON.stringify(toolCalls);
  } catch {
    raw = String(toolCalls);
  }
  const tried: string[] = [];
  try {
    if (toolCalls.length === 0) {
      throw failure(intents, raw, tried, { reason: "no_json", detail: "the model returned no tool call" });
    }
    let best: Failure | undefined;
    for (const [index, call] of toolCalls.entries()) {
      const repairs: Repair[] = [];
      if (index > 0) repairs.push({ kind: "tool_call_skipped", path: "", from: index, to: call.name });
      const step = toolCallStep(call, intents, repairs);
      if (step.ok) {
        if (toolCalls.length > 1) {
          repairs.push({ kind: "extra_tool_calls_dropped", path: "", from: toolCalls.length, to: 1 });
        }
        return step.step;
      }
      tried.push(`tool call ${index + 1} (${shorten(String(call.name), 40)}): ${step.failure.reason}`);
      best = pick(best, step.failure);
    }
    throw failure(intents, raw, tried, best as Failure);
  } catch (error) {
    throw asParseError(error, intents, raw, tried);
  }
}

function toolCallStep(
  call: { name: string; arguments: unknown },
  intents: readonly AnyIntent[],
  repairs: Repair[],
): ReturnType<typeof alignStep> {
  let args = call.arguments;
  if (typeof args === "string") {
    const text = args.trim();
    if (text === "") {
      args = {};
    } else {
      const blocks = findCandidates(text);
      const block = blocks[0];
      const tooDeep = (block?.depth ?? 0) > MAX_NESTING;
      const decoded = block && !tooDeep ? decodeJson(block.text, block.missing) : undefined;
      if (!block || !decoded?.ok) {
        const why = tooDeep
          ? `nested more than ${MAX_NESTING} levels deep`
          : decoded && !decoded.ok
            ? decoded.error
            : "no JSON object in them";
        return {
          ok: false,
          failure: {
            reason: "invalid_json",
            detail: `the tool call arguments are not JSON: ${why}`,
            intent: call.name,
          },
        };
      }
      repairs.push(...extractionRepairs(text, block, blocks));
      repairs.push(...decoded.repairs);
      args = decoded.value;
    }
  }
  if (args === null || args === undefined) args = {};
  if (!isPlainObject(args)) {
    return {
      ok: false,
      failure: {
        reason: "invalid_arguments",
        detail: "the tool call arguments must be a JSON object",
        intent: call.name,
      },
    };
  }
  const { intent: inner, ...rest } = args;
  if (inner !== undefined && inner !== call.name) {
    repairs.push({ kind: "extra_key_dropped", path: "intent", from: inner });
  }
  return alignStep({ intent: call.name, ...rest }, intents, repairs);
}

/** Anything unexpected (a bug, a stack overflow on absurd nesting) still surfaces as a ParseError. */
function asParseError(error: unknown, intents: readonly AnyIntent[], raw: string, tried: string[]): ParseError {
  if (error instanceof ParseError) return error;
  const message = error instanceof Error ? error.message : String(error);
  tried.push(`internal: ${shorten(message, 120)}`);
  return failure(intents, raw, tried, {
    reason: "invalid_json",
    detail: `the answer could not be processed (${shorten(message, 80)})`,
  });
}

/** Builds the error the model will read next turn: what was wrong, then exactly what to send instead. */
function failure(intents: readonly AnyIntent[], raw: string, tried: string[], f: Failure): ParseError {
  const names = intents.map((i) => i.name).join(", ");
  const intent = f.intent !== undefined ? intents.find((i) => i.name === f.intent) : undefined;
  const lines = [`Your answer could not be used as a step: ${f.detail}.`];
  if (f.issues?.length) lines.push(`Problems: ${f.issues.join("; ")}.`);
  if (intent) {
    lines.push(`Answer again with one JSON object of this shape:\n${clip(renderIntentSchemas([intent]), 1500)}`);
  } else {
    lines.push(`Answer again with one JSON object whose "intent" is one of: ${names}.`);
  }
  return new ParseError(f.reason, lines.join("\n"), raw, {
    ...(f.intent !== undefined ? { intent: f.intent } : {}),
    issues: f.issues ?? [],
    tried,
  });
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
