import type { AnyIntent } from "../intent.js";
import { renderIntentSchemas } from "../schema-text.js";
import { extractionRepairs, MAX_NESTING, pick, readAnswer, type Target } from "./answer.js";
import { isPlainObject } from "./coerce.js";
import { type ParsedStep, ParseError, type Repair, shorten } from "./errors.js";
import { findCandidates } from "./extract.js";
import { alignStep, type Failure } from "./step.js";
import { decodeJson } from "./syntax.js";

export { extractionRepairs, MAX_ANSWER_LENGTH, MAX_NESTING } from "./answer.js";
export type { ParsedStep, ParseFailure, Repair } from "./errors.js";
export { formatIssues, ParseError } from "./errors.js";
export { type LenientOptions, type LenientResult, parseLenient } from "./lenient.js";
export {
  type DeepPartial,
  type PartialResult,
  type PartialStep,
  parsePartial,
  parsePartialArguments,
  parsePartialStep,
} from "./partial.js";

/**
 * Turns a model's answer into a validated step `{intent, ...args}`, leniently:
 * finds the JSON (fences, reasoning around it, several blocks), repairs its
 * syntax, aligns it to the intents' schemas, and reports every repair. Throws
 * only ParseError, whose message tells the model how to answer next time.
 * The text pass is parseLenient's (answer.ts); only the alignment is the step's.
 */
export function parseStep(text: string, intents: readonly AnyIntent[]): ParsedStep {
  const raw = typeof text === "string" ? text : String(text);
  const tried: string[] = [];
  try {
    return readAnswer(raw, stepTarget(intents, raw), tried);
  } catch (error) {
    throw asParseError(error, intents, raw, tried);
  }
}

/** A line starting a YAML mapping with an `intent` key (no two quantifiers compete for the same characters). */
const YAML_INTENT_LINE = /^[ \t]*(?:-[ \t]*)?["']?intent["']?[ \t]*:/m;

function stepTarget(intents: readonly AnyIntent[], raw: string): Target<ParsedStep> {
  return {
    align(value, repairs) {
      const aligned = alignStep(value, intents, repairs);
      return aligned.ok ? { ok: true, result: aligned.step } : aligned;
    },
    fail: (tried, f) => failure(intents, raw, tried, f),
    yaml: (text) => YAML_INTENT_LINE.test(text),
  };
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
