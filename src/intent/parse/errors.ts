import type { z } from "zod";
import { TwelveError } from "../../errors/index.js";

/**
 * One change the parser made to turn an almost-right answer into a valid step.
 * `kind` is a stable snake_case name (see docs/structured-output.md); `path`
 * is the dotted location in the step (`""` for the whole answer).
 */
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

/**
 * Why an answer was rejected. Steps use the first five; parseLenient uses
 * `no_json`, `invalid_json`, `invalid_value` (read, but it does not fit the
 * schema) and `ambiguous` (two different readings fit equally well: never guessed).
 */
export type ParseFailure =
  | "no_json"
  | "invalid_json"
  | "unknown_intent"
  | "missing_intent"
  | "invalid_arguments"
  | "invalid_value"
  | "ambiguous";

/**
 * The answer could not be turned into a step. `message` is written for the
 * model (it becomes the next turn's `error` event); `raw` keeps the answer,
 * `tried` lists what the parser attempted, `issues` zod's complaints in short form.
 */
export class ParseError extends TwelveError {
  readonly raw: string;
  readonly reason: ParseFailure;
  readonly intent: string | undefined;
  readonly issues: string[];
  readonly tried: string[];
  constructor(
    reason: ParseFailure,
    message: string,
    raw: string,
    extra: { intent?: string; issues?: string[]; tried?: string[] } = {},
  ) {
    super("parse_error", message, {
      reason,
      intent: extra.intent,
      issues: extra.issues ?? [],
      tried: extra.tried ?? [],
    });
    this.name = "ParseError";
    this.raw = raw;
    this.reason = reason;
    this.intent = extra.intent;
    this.issues = extra.issues ?? [];
    this.tried = extra.tried ?? [];
  }
}

/** zod issues as `path: message` lines, short enough for an error event. */
export function formatIssues(error: z.ZodError): string[] {
  return error.issues.slice(0, 8).map((issue) => {
    const path = issue.path.length ? issue.path.map(String).join(".") : "(root)";
    return `${path}: ${shorten(issue.message, 160)}`;
  });
}

export function shorten(text: string, max: number): string {
  const flat = text.length > max * 4 ? text.slice(0, max * 4) : text;
  const one = flat.replace(/\s+/g, " ").trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}
