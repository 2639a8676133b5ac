import { jsonrepair } from "jsonrepair";
import { type Repair, shorten } from "./errors.js";

export type Decoded = { ok: true; value: unknown; repairs: Repair[] } | { ok: false; error: string };

/**
 * Strict JSON first (the common case costs one JSON.parse). Otherwise a
 * linear pre-pass fixes the common slips itself — quote styles, trailing
 * commas, comments, Python literals, unquoted keys — naming each; what is
 * still broken (truncation, missing commas, stray text) goes to jsonrepair.
 * The pre-pass exists because jsonrepair misreads some inputs that are easy
 * to get right locally (e.g. `["["],}` or `'{'`), found by the property tests.
 */
export function decodeJson(text: string, missing?: string, useJsonrepair = true): Decoded {
  let strictError: string;
  try {
    return { ok: true, value: JSON.parse(text), repairs: [] };
  } catch (error) {
    strictError = errorMessage(error);
  }
  if (missing) {
    const closed = closeTruncated(text, missing);
    if (closed) return closed;
  }
  const normal = normalize(text);
  const repairs = normal.repairs;
  if (repairs.length > 0) {
    try {
      return { ok: true, value: JSON.parse(normal.text), repairs };
    } catch (error) {
      strictError = errorMessage(error);
    }
  }
  if (!useJsonrepair) return { ok: false, error: `${shorten(strictError, 120)}; the pre-pass could not fix it` };
  if (manyLines(text)) {
    return {
      ok: false,
      error: `${shorten(strictError, 120)}; over ${JSONREPAIR_MAX_LINES} lines is too long to repair`,
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(repairOrThrow(normal.text, text));
  } catch (error) {
    return { ok: false, error: `${shorten(strictError, 120)}; jsonrepair: ${shorten(errorMessage(error), 120)}` };
  }
  if (missing) repairs.push({ kind: "truncated", path: "", from: shorten(text.slice(-24), 24), to: missing });
  else repairs.push({ kind: "json_repaired", path: "", from: shorten(strictError, 120) });
  return { ok: true, value, repairs };
}

/**
 * A truncated answer whose scan knows exactly which closers are missing: cut
 * a dangling comma, append the closers, and parse. Exact where jsonrepair
 * guesses (it misreads truncated input holding strings like `"{"` or `"["`).
 * Returns undefined when the cut fell inside a key or value; jsonrepair then tries.
 */
function closeTruncated(text: string, missing: string): Decoded | undefined {
  let body = text.trimEnd();
  if (body.endsWith(",")) body = body.slice(0, -1);
  const truncated: Repair = { kind: "truncated", path: "", from: shorten(text.slice(-24), 24), to: missing };
  const closed = body + missing;
  try {
    return { ok: true, value: JSON.parse(closed), repairs: [truncated] };
  } catch {
    // Not plain JSON once closed: try the pre-pass too.
  }
  const normal = normalize(closed);
  if (normal.repairs.length === 0) return undefined;
  try {
    return { ok: true, value: JSON.parse(normal.text), repairs: [...normal.repairs, truncated] };
  } catch {
    return undefined;
  }
}

/**
 * jsonrepair's time grows with the square of the line count on some input
 * (unquoted text over many lines: 32 KB took 0.4 s, 64 KB over 10 s), so a
 * block of more lines than any answer needing repair has is not given to it.
 */
export const JSONREPAIR_MAX_LINES = 2000;

function manyLines(text: string): boolean {
  let lines = 0;
  for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) {
    if (++lines > JSONREPAIR_MAX_LINES) return true;
  }
  return false;
}

/** jsonrepair on the pre-passed text, else on the original (in case the pre-pass misjudged a quote). */
function repairOrThrow(normalized: string, original: string): string {
  try {
    return jsonrepair(normalized);
  } catch (error) {
    if (normalized === original) throw error;
    return jsonrepair(original);
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const OPENERS = new Set(["", "{", "[", ",", ":"]);
const PYTHON: Record<string, string> = { True: "true", False: "false", None: "null" };

/**
 * One linear pass over almost-JSON: single and typographic quotes become
 * double quotes, trailing commas and comments go, Python literals and
 * unquoted keys are fixed. A quote opens a string only where a key or
 * value may start and a single quote closes it only before a delimiter, so
 * apostrophes inside words survive. The first fix of each kind is quoted.
 */
export function normalize(text: string): { text: string; repairs: Repair[] } {
  const found = new Map<string, Repair>();
  const note = (kind: string, from: string, to: string) => {
    if (!found.has(kind)) found.set(kind, { kind, path: "", from: shorten(from, 40), to: shorten(to, 40) });
  };
  // Untouched runs are copied as slices; only fixes allocate.
  const pieces: string[] = [];
  let copied = 0;
  const replace = (at: number, end: number, by: string) => {
    pieces.push(text.slice(copied, at), by);
    copied = end;
  };
  let last = ""; // last significant character of the output
  const objects: boolean[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text[i] as string;
    if (c === '"') {
      i = stringEnd(text, i, '"');
      last = '"';
      continue;
    }
    const close = c === "'" ? "'" : c === "\u201c" ? "\u201d" : c === "\u2018" ? "\u2019" : "";
    if (close && OPENERS.has(last)) {
      const { body, end } = quoted(text, i + 1, close);
      const json = `"${body}"`;
      note(c === "'" ? "single_quotes" : "smart_quotes", text.slice(i, Math.min(end, i + 80)), json);
      replace(i, end, json);
      last = '"';
      i = end;
      continue;
    }
    if (c === "/" && (text[i + 1] === "/" || text[i + 1] === "*")) {
      const lineComment = text[i + 1] === "/";
      const stop = lineComment ? text.indexOf("\n", i) : text.indexOf("*/", i + 2);
      const end = stop < 0 ? n : lineComment ? stop : stop + 2;
      note("comments", text.slice(i, Math.min(end, i + 80)), "");
      replace(i, end, "");
      i = end;
      continue;
    }
    if (c === ",") {
      let j = i + 1;
      while (j < n && isSpace(text[j] as string)) j++;
      const next = text[j];
      if (next === "}" || next === "]") {
        note("trailing_comma", text.slice(i, j + 1), text.slice(i + 1, j + 1));
        replace(i, i + 1, "");
        i = j;
        continue;
      }
    }
    if (isWordStart(c)) {
      let j = i + 1;
      while (j < n && isWordChar(text[j] as string)) j++;
      const word = text.slice(i, j);
      const inObject = objects[objects.length - 1] === true;
      if (inObject && (last === "{" || last === ",") && nextSignificant(text, j) === ":") {
        note("unquoted_keys", `${word}:`, `"${word}":`);
        replace(i, j, `"${word}"`);
        last = '"';
      } else if (PYTHON[word] !== undefined && (last === ":" || last === "[" || last === ",")) {
        note("python_literals", word, PYTHON[word] as string);
        replace(i, j, PYTHON[word] as string);
        last = "e";
      } else {
        last = word[word.length - 1] as string;
      }
      i = j;
      continue;
    }
    if (c === "{" || c === "[") objects.push(c === "{");
    else if (c === "}" || c === "]") objects.pop();
    if (!isSpace(c)) last = c;
    i++;
  }
  if (copied === 0) return { text, repairs: [] };
  pieces.push(text.slice(copied));
  return { text: pieces.join(""), repairs: [...found.values()] };
}

/** The body of a single/typographic-quoted string as JSON string content, and where it ends. */
function quoted(text: string, start: number, close: string): { body: string; end: number } {
  let body = "";
  let j = start;
  while (j < text.length) {
    const d = text[j] as string;
    if (d === "\\" && j + 1 < text.length) {
      const next = text[j + 1] as string;
      body += next === "'" ? "'" : d + next;
      j += 2;
      continue;
    }
    if (d === close && (close !== "'" || closesHere(text, j + 1))) return { body, end: j + 1 };
    body += d === '"' ? '\\"' : d === "\n" ? "\\n" : d === "\r" ? "\\r" : d === "\t" ? "\\t" : d;
    j++;
  }
  return { body, end: text.length };
}

/** A single quote ends a string only before a JSON delimiter (or the end). */
function closesHere(text: string, at: number): boolean {
  const next = nextSignificant(text, at);
  return next === "" || next === "," || next === "}" || next === "]" || next === ":";
}

function nextSignificant(text: string, at: number): string {
  for (let i = at; i < text.length; i++) {
    const c = text[i] as string;
    if (!isSpace(c)) return c;
  }
  return "";
}

/** Index just past the string starting at `start` (or the end of text when unterminated). */
function stringEnd(text: string, start: number, quote: string): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") i++;
    else if (c === quote) return i + 1;
  }
  return text.length;
}

function isSpace(c: string): boolean {
  return c === " " || c === "\n" || c === "\t" || c === "\r";
}

function isWordStart(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_" || c === "$";
}

function isWordChar(c: string): boolean {
  return isWordStart(c) || (c >= "0" && c <= "9") || c === "-";
}
