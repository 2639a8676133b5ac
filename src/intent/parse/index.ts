import type { z } from "zod";
import { TwelveError } from "../../errors/index.js";
import type { AnyIntent } from "../intent.js";

/** One change the parser made to turn an almost-right answer into a valid step. */
export interface Repair {
  kind: string;
  path: string;
  from?: unknown;
  to?: unknown;
}

export interface ParsedStep {
  value: { intent: string } & Record<string, unknown>;
  repairs: Repair[];
}

export type ParseFailure = "no_json" | "invalid_json" | "unknown_intent" | "missing_intent" | "invalid_arguments";

/** The answer could not be turned into a step. Carries the raw text and what went wrong, briefly. */
export class ParseError extends TwelveError {
  readonly raw: string;
  readonly reason: ParseFailure;
  readonly intent: string | undefined;
  readonly issues: string[];
  constructor(reason: ParseFailure, message: string, raw: string, extra: { intent?: string; issues?: string[] } = {}) {
    super("parse_error", message, { reason, intent: extra.intent, issues: extra.issues ?? [] });
    this.name = "ParseError";
    this.raw = raw;
    this.reason = reason;
    this.intent = extra.intent;
    this.issues = extra.issues ?? [];
  }
}

export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`);
}

/**
 * Turns a model's answer into a validated step `{intent, ...args}`.
 * This first version finds the outermost JSON object and validates it
 * strictly; the lenient, repairing parser replaces its internals.
 */
export function parseStep(text: string, intents: readonly AnyIntent[]): ParsedStep {
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  if (start < 0 || end < start) {
    throw new ParseError("no_json", "the answer contains no JSON object", text);
  }
  let value: unknown;
  try {
    value = JSON.parse(text.slice(start, end + 1));
  } catch (error) {
    throw new ParseError("invalid_json", `the answer is not valid JSON: ${(error as Error).message}`, text);
  }
  return validateStep(value, intents, text, []);
}

/** Validates an already-decoded value (e.g. a native tool call) as a step. */
export function validateStep(
  value: unknown,
  intents: readonly AnyIntent[],
  raw: string,
  repairs: Repair[],
): ParsedStep {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ParseError("invalid_json", "the answer must be one JSON object", raw);
  }
  const record = value as Record<string, unknown>;
  if (typeof record.intent !== "string") {
    throw new ParseError("missing_intent", 'the answer has no "intent" field naming one of the intents', raw);
  }
  const intent = intents.find((i) => i.name === record.intent);
  if (!intent) {
    throw new ParseError(
      "unknown_intent",
      `unknown intent "${record.intent}"; expected one of: ${intents.map((i) => i.name).join(", ")}`,
      raw,
      { intent: record.intent },
    );
  }
  const { intent: _name, ...args } = record;
  const result = intent.schema.safeParse(args);
  if (!result.success) {
    const issues = formatIssues(result.error);
    throw new ParseError("invalid_arguments", `invalid arguments for "${intent.name}": ${issues.join("; ")}`, raw, {
      intent: intent.name,
      issues,
    });
  }
  return { value: { intent: intent.name, ...(result.data as Record<string, unknown>) }, repairs };
}

/** Turns native tool calls (tools mode) into a step; the first call is the step. */
export function parseToolCalls(
  toolCalls: readonly { id: string; name: string; arguments: unknown }[],
  intents: readonly AnyIntent[],
): ParsedStep {
  const call = toolCalls[0];
  const raw = JSON.stringify(toolCalls);
  if (!call) throw new ParseError("no_json", "the model returned no tool call", raw);
  let args = call.arguments;
  if (typeof args === "string") {
    try {
      args = args.trim() === "" ? {} : JSON.parse(args);
    } catch (error) {
      throw new ParseError("invalid_json", `tool call arguments are not valid JSON: ${(error as Error).message}`, raw, {
        intent: call.name,
      });
    }
  }
  const repairs: Repair[] = [];
  if (toolCalls.length > 1) {
    repairs.push({ kind: "extra_tool_calls_dropped", path: "", from: toolCalls.length, to: 1 });
  }
  return validateStep({ ...(args as Record<string, unknown>), intent: call.name }, intents, raw, repairs);
}
