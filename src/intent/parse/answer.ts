import { parse as parseYaml } from "yaml";
import { isPlainObject } from "./coerce.js";
import { type ParseError, type ParseFailure, type Repair, shorten } from "./errors.js";
import { type Candidate, findCandidates, findFences } from "./extract.js";
import { type Decoded, decodeJson } from "./syntax.js";

/** Answers longer than this are rejected outright (documented limit). */
export const MAX_ANSWER_LENGTH = 1_048_576;

/** Deeper JSON blocks are rejected without decoding. */
export const MAX_NESTING = 256;

export interface Failure {
  reason: ParseFailure;
  /** What was wrong, for the model: one short sentence. */
  detail: string;
  intent?: string;
  issues?: string[];
}

export type Aligned<T> = { ok: true; result: T } | { ok: false; failure: Failure };

/** A reading of the answer found by the text pass, before alignment. */
export interface Reading {
  value: unknown;
  repairs: Repair[];
}

/**
 * What one parser does with the readings the shared text pass finds:
 * parseStep aligns them to intents, parseLenient to a zod schema. The
 * optional readings are parseLenient's (steps keep today's behaviour).
 */
export interface Target<T> {
  align(value: unknown, repairs: Repair[]): Aligned<T>;
  fail(tried: string[], failure: Failure): ParseError;
  /** Whether a YAML reading is worth trying for this (short) answer. */
  yaml(text: string): boolean;
  /** The whole answer (or a fence's content) as strict JSON of any kind: `42`, `"x"`, `[1, 2]`. */
  anyJson?: boolean;
  /** Several top-level objects collected into one list (the schema is a list). */
  collect?: boolean;
  /** A schema-guided reading of a block that is not strict JSON (unquoted strings, code). */
  guided?(text: string, start: number): Reading | undefined;
  /** An object written as `key: value` lines (markdown, lists). */
  lines?(text: string): Reading | undefined;
  /** Last: the answer itself as a string (a scalar in prose); its failure reason. */
  asText?: { failure: ParseFailure | undefined };
}

const RANK: Record<ParseFailure, number> = {
  no_json: 0,
  invalid_json: 1,
  missing_intent: 2,
  unknown_intent: 3,
  invalid_arguments: 4,
  invalid_value: 4,
  ambiguous: 5,
};

/**
 * The text pass shared by parseStep and parseLenient: the size limit, a
 * double-encoded answer, JSON blocks (fenced, in prose, truncated; last
 * first), syntax repair, YAML; each reading is aligned by the target and
 * every attempt is recorded in `tried`. Returns the first reading that
 * aligns; otherwise throws the target's error for the failure that got furthest.
 */
export function readAnswer<T>(raw: string, target: Target<T>, tried: string[]): T {
  if (raw.length > MAX_ANSWER_LENGTH) {
    throw target.fail(tried, {
      reason: "invalid_json",
      detail: `the answer is ${raw.length} characters long; the limit is ${MAX_ANSWER_LENGTH}`,
    });
  }
  const input = unquote(raw);
  const text = input.text;
  let best: Failure | undefined;
  const attempt = (label: string, value: unknown, repairs: Repair[]): T | undefined => {
    const aligned = target.align(value, repairs);
    if (aligned.ok) return aligned.result;
    tried.push(`${label}: ${aligned.failure.reason} (${aligned.failure.detail})`);
    best = pick(best, aligned.failure);
    return undefined;
  };

  if (target.anyJson) {
    const whole = strictJson(text);
    if (whole.ok) {
      const done = attempt("the whole answer as JSON", whole.value, [...input.repairs]);
      if (done !== undefined) return done;
    }
  }

  const candidates = findCandidates(text);
  // Candidates that start at the same brace share one guided reading.
  const guidedReadings = new Map<number, Reading | undefined>();
  const guidedAt = (start: number): Reading | undefined => {
    if (!guidedReadings.has(start)) guidedReadings.set(start, target.guided?.(text, start));
    return guidedReadings.get(start);
  };
  let collected = false;
  if (target.collect) {
    const list = collectObjects(text, candidates);
    if (list) {
      collected = true;
      const repairs = [...input.repairs, { kind: "objects_collected", path: "", from: list.length, to: "a list" }];
      const done = attempt(`${list.length} top-level objects as a list`, list, repairs);
      if (done !== undefined) return done;
    }
  }
  for (const candidate of collected ? [] : candidates) {
    if ((candidate.depth ?? 0) > MAX_NESTING) {
      // Nothing is this deep; decoding it would only cost time (V8 parses deep nesting slowly).
      tried.push(`${where(candidate)}: nested ${candidate.depth} levels deep (limit ${MAX_NESTING})`);
      best = pick(best, { reason: "invalid_json", detail: `the JSON is nested more than ${MAX_NESTING} levels deep` });
      continue;
    }
    const around = [...input.repairs, ...extractionRepairs(text, candidate, candidates)];
    let decoded: Decoded;
    let guided: Reading | undefined;
    if (!target.guided) {
      decoded = decodeJson(candidate.text, candidate.missing);
    } else {
      // parseLenient: the pre-pass first; what it cannot fix is read by the schema before
      // jsonrepair guesses (jsonrepair is also superlinear on long unquoted multi-line text).
      decoded = decodeJson(candidate.text, candidate.missing, false);
      if (!(decoded.ok && decoded.repairs.length === 0)) guided = guidedAt(candidate.start);
      if (!decoded.ok) {
        if (guided) {
          const label = `${where(candidate)} read by the schema`;
          const done = attempt(label, guided.value, [...around, ...guided.repairs]);
          if (done !== undefined) return done;
          guided = undefined;
        }
        decoded = decodeJson(candidate.text, candidate.missing);
      }
    }
    if (!decoded.ok && !guided) {
      tried.push(`${where(candidate)}: unreadable JSON (${decoded.error})`);
      best = pick(best, { reason: "invalid_json", detail: `the JSON could not be read: ${decoded.error}` });
      continue;
    }
    // Two readings of a slightly broken block (pre-pass, schema-guided): the one that aligns with fewer repairs.
    const done = bestOf(
      [
        decoded.ok
          ? { label: where(candidate), value: decoded.value, repairs: [...around, ...decoded.repairs] }
          : undefined,
        guided
          ? {
              label: `${where(candidate)} read by the schema`,
              value: guided.value,
              repairs: [...around, ...guided.repairs],
            }
          : undefined,
      ],
      target,
      tried,
      (f) => {
        best = pick(best, f);
      },
    );
    if (done !== undefined) return done;
  }

  if (target.collect) {
    // A list in prose (`The tags are ["a", "b"].`): the scan above finds only `[{`.
    for (const span of listSpans(text)) {
      if (candidates.some((c) => c.start === span.start)) continue;
      const decoded = decodeJson(text.slice(span.start, span.end));
      if (!decoded.ok) continue;
      const repairs = [...input.repairs, ...extractionRepairs(text, span, []), ...decoded.repairs];
      const done = attempt(`list at ${span.start}-${span.end}`, decoded.value, repairs);
      if (done !== undefined) return done;
    }
  }

  if (target.anyJson) {
    for (const fence of findFences(text)) {
      const inner = text.slice(fence.contentStart, fence.contentEnd);
      const value = strictJson(inner);
      if (!value.ok || (isPlainObject(value.value) && candidates.length > 0)) continue;
      const repairs: Repair[] = [...input.repairs, { kind: "fence_stripped", path: "", from: `\`\`\`${fence.tag}` }];
      const rest = `${text.slice(0, fence.start)}${text.slice(fence.end)}`.trim();
      if (rest) repairs.push({ kind: "text_dropped", path: "", from: shorten(rest, 80) });
      const done = attempt(`fenced block at ${fence.start}-${fence.end}`, value.value, repairs);
      if (done !== undefined) return done;
    }
  }

  const yaml = tryYaml(raw, target, tried);
  if (yaml) {
    const done = attempt("YAML", yaml.value, yaml.repairs);
    if (done !== undefined) return done;
  }

  const lines = target.lines?.(raw);
  if (lines) {
    const done = attempt("key: value lines", lines.value, lines.repairs);
    if (done !== undefined) return done;
  }

  if (target.asText) {
    const plain = unfence(raw);
    const earlier = best;
    const done = attempt("the answer as text", plain.text, plain.repairs);
    if (done !== undefined) return done;
    const failure = target.asText.failure;
    if (failure !== undefined && earlier === undefined && best?.reason !== "ambiguous") {
      // Only the text reading was tried, for an object or list schema: say no JSON was found.
      best = { reason: failure, detail: "the answer contains no JSON value" };
    }
  }
  if (candidates.length === 0) tried.push("no JSON object found in the answer");
  throw target.fail(tried, best ?? { reason: "no_json", detail: "the answer contains no JSON object" });
}

function bestOf<T>(
  readings: ({ label: string; value: unknown; repairs: Repair[] } | undefined)[],
  target: Target<T>,
  tried: string[],
  failed: (f: Failure) => void,
): T | undefined {
  let chosen: { result: T; cost: number } | undefined;
  for (const reading of readings) {
    if (!reading) continue;
    const aligned = target.align(reading.value, reading.repairs);
    if (!aligned.ok) {
      tried.push(`${reading.label}: ${aligned.failure.reason} (${aligned.failure.detail})`);
      failed(aligned.failure);
      continue;
    }
    const cost = reading.repairs.length;
    if (!chosen || cost < chosen.cost) chosen = { result: aligned.result, cost };
  }
  return chosen?.result;
}

/** Strict JSON of the whole text (one `JSON.parse`, only when the text could be JSON). */
function strictJson(text: string): { ok: true; value: unknown } | { ok: false } {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: false };
  const c = trimmed.charCodeAt(0);
  // { [ " - digits t f n
  const could =
    c === 123 || c === 91 || c === 34 || c === 45 || (c >= 48 && c <= 57) || c === 116 || c === 102 || c === 110;
  if (!could) return { ok: false };
  try {
    const value: unknown = JSON.parse(trimmed);
    // An integer whose digits a double cannot keep (it would print back differently) is not rounded.
    if (typeof value === "number" && /^-?\d{16,}$/.test(trimmed) && String(value) !== trimmed) {
      return { ok: false };
    }
    return { ok: true, value };
  } catch {
    return { ok: false };
  }
}

/** Two or more top-level `{…}` blocks, each valid (repaired) JSON, in text order. */
function collectObjects(text: string, candidates: readonly Candidate[]): unknown[] | undefined {
  const tops = candidates.filter(
    (c) =>
      text[c.start] === "{" &&
      !candidates.some((o) => o !== c && o.start <= c.start && o.end >= c.end && (o.start < c.start || o.end > c.end)),
  );
  if (tops.length < 2) return undefined;
  const values: unknown[] = [];
  for (const c of [...tops].sort((a, b) => a.start - b.start)) {
    if ((c.depth ?? 0) > MAX_NESTING) return undefined;
    const decoded = decodeJson(c.text, c.missing);
    if (!decoded.ok || !isPlainObject(decoded.value)) return undefined;
    values.push(decoded.value);
  }
  return values;
}

/** Top-level `[…]` spans outside strings and objects, the last ones first (at most 8). */
function listSpans(text: string): Candidate[] {
  const spans: Candidate[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34 && depth > 0) inString = true;
    else if (c === 91 || c === 123) {
      if (depth === 0) start = c === 91 ? i : -1;
      depth++;
      if (depth > MAX_NESTING) return spans;
    } else if ((c === 93 || c === 125) && depth > 0) {
      depth--;
      if (depth === 0 && start >= 0) {
        spans.push({ text: text.slice(start, i + 1), start, end: i + 1 });
        if (spans.length > 8) spans.shift();
      }
    }
  }
  return spans.reverse();
}

/** The answer without a fence around all of it (` ```\nother\n``` ` is `other`). */
function unfence(raw: string): { text: string; repairs: Repair[] } {
  const trimmed = raw.trim();
  const fences = findFences(trimmed);
  const only = fences[0];
  if (fences.length === 1 && only && only.start === 0 && only.end >= trimmed.length - 1) {
    return {
      text: trimmed.slice(only.contentStart, only.contentEnd).trim(),
      repairs: [{ kind: "fence_stripped", path: "", from: `\`\`\`${only.tag}` }],
    };
  }
  return { text: trimmed, repairs: [] };
}

/** Prefer the failure that got furthest (a known intent with bad arguments beats unreadable JSON). */
export function pick(current: Failure | undefined, next: Failure): Failure {
  return !current || RANK[next.reason] > RANK[current.reason] ? next : current;
}

function where(candidate: Candidate): string {
  const kind = candidate.fence !== undefined ? "fenced block" : "block";
  return `${kind} at ${candidate.start}-${candidate.end}`;
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
 * YAML answers are short. The yaml package needs ~25 µs per character on
 * adversarial input (`a: a: a: …`, deep `[[[`), so only short answers get
 * it, and never one with a line YAML rejects anyway (`a: b: c`).
 */
export const YAML_MAX_LENGTH = 4096;

/** Last resort for answers written as YAML: the yaml package reads them. */
function tryYaml<T>(raw: string, target: Target<T>, tried: string[]): Reading | undefined {
  if (raw.length > YAML_MAX_LENGTH || !target.yaml(raw)) return undefined;
  const fenced = /```[a-zA-Z]*\n([\s\S]*?)```/.exec(raw);
  const source = fenced?.[1] ?? raw;
  if (nestedMappingLine(source)) {
    tried.push("YAML: a line holds a mapping inside a mapping value (`a: b: c`), which YAML rejects");
    return undefined;
  }
  let value: unknown;
  try {
    value = parseYaml(source);
  } catch (error) {
    tried.push(`YAML: ${shorten(error instanceof Error ? error.message : String(error), 100)}`);
    return undefined;
  }
  if (!isPlainObject(value) && !Array.isArray(value)) return undefined;
  return { value, repairs: [{ kind: "yaml_parsed", path: "", from: shorten(source.trim(), 40) }] };
}

/**
 * A plain line with two `key: ` indicators (`a: b: c`) is a YAML error
 * ("nested mappings are not allowed in compact mappings"); finding it with
 * a linear scan is cheaper than letting the yaml package discover it.
 * Lines with quotes, braces or brackets are left to the package.
 */
function nestedMappingLine(source: string): boolean {
  let indicators = 0;
  let plain = true;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 10) {
      if (plain && indicators > 1) return true;
      indicators = 0;
      plain = true;
    } else if (c === 34 || c === 39 || c === 123 || c === 91 || c === 35 || c === 96) {
      plain = false;
    } else if (c === 58) {
      const next = source.charCodeAt(i + 1);
      if (next === 32 || next === 9) indicators++;
    }
  }
  return plain && indicators > 1;
}
