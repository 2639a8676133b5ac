import { jsonrepair } from "jsonrepair";
import { type Repair, shorten } from "./errors.js";

export type Decoded = { ok: true; value: unknown; repairs: Repair[] } | { ok: false; error: string };

/**
 * Strict JSON first (the common case costs one JSON.parse); otherwise
 * `jsonrepair`, reporting which syntax slips it fixed.
 */
export function decodeJson(text: string, missing?: string): Decoded {
  let strictError: string;
  try {
    return { ok: true, value: JSON.parse(text), repairs: [] };
  } catch (error) {
    strictError = errorMessage(error);
  }
  let repaired: string;
  try {
    repaired = jsonrepair(text);
  } catch (error) {
    return { ok: false, error: `${shorten(strictError, 120)}; jsonrepair: ${shorten(errorMessage(error), 120)}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(repaired);
  } catch (error) {
    return { ok: false, error: `jsonrepair produced invalid JSON: ${shorten(errorMessage(error), 120)}` };
  }
  const repairs = diagnose(text);
  if (missing) repairs.push({ kind: "truncated", path: "", from: shorten(text.slice(-24), 24), to: missing });
  if (repairs.length === 0) repairs.push({ kind: "json_repaired", path: "", from: shorten(strictError, 120) });
  return { ok: true, value, repairs };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface Finding {
  from: string;
  to: string;
}

/**
 * Names the slips in almost-JSON, one linear pass: trailing commas, single
 * quotes, typographic quotes, unquoted keys, comments, Python literals. Only the first of each
 * kind is quoted (from → to); jsonrepair does the actual fixing.
 */
export function diagnose(text: string): Repair[] {
  const found = new Map<string, Finding>();
  const note = (kind: string, from: string, to: string) => {
    if (!found.has(kind)) found.set(kind, { from: shorten(from, 40), to: shorten(to, 40) });
  };
  const objects: boolean[] = []; // per open bracket: is it an object?
  let expectKey = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text[i] as string;
    if (c === "\u201c" || c === "\u2018") {
      const end = stringEnd(text, i, c === "\u201c" ? "\u201d" : "\u2019");
      note("smart_quotes", text.slice(i, end), `"${text.slice(i + 1, end - 1)}"`);
      i = end - 1;
      expectKey = false;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = stringEnd(text, i, c);
      if (c === "'") note("single_quotes", text.slice(i, end), `"${text.slice(i + 1, end - 1)}"`);
      i = end - 1;
      expectKey = false;
      continue;
    }
    if (c === "/" && (text[i + 1] === "/" || text[i + 1] === "*")) {
      const close = text[i + 1] === "/" ? text.indexOf("\n", i) : text.indexOf("*/", i + 2);
      const end = close < 0 ? n : text[i + 1] === "/" ? close : close + 2;
      note("comments", text.slice(i, end), "");
      i = end - 1;
      continue;
    }
    if (c === "{" || c === "[") {
      objects.push(c === "{");
      expectKey = c === "{";
    } else if (c === "}" || c === "]") {
      objects.pop();
      expectKey = false;
    } else if (c === ",") {
      let j = i + 1;
      while (j < n && /\s/.test(text[j] as string)) j++;
      if (text[j] === "}" || text[j] === "]") note("trailing_comma", text.slice(i, j + 1), text.slice(i + 1, j + 1));
      expectKey = objects[objects.length - 1] === true;
    } else if (c === ":") {
      expectKey = false;
    } else if (isWordStart(c)) {
      let j = i + 1;
      while (j < n && isWordChar(text[j] as string)) j++;
      const word = text.slice(i, j);
      if (expectKey) {
        note("unquoted_keys", `${word}:`, `"${word}":`);
      } else if (word === "True" || word === "False" || word === "None") {
        note("python_literals", word, word === "None" ? "null" : word.toLowerCase());
      }
      i = j - 1;
    }
  }
  return [...found].map(([kind, f]) => ({ kind, path: "", from: f.from, to: f.to }));
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

function isWordStart(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_" || c === "$";
}

function isWordChar(c: string): boolean {
  return isWordStart(c) || (c >= "0" && c <= "9") || c === "-";
}
