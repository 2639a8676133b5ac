import type * as zc from "zod/v4/core";
import type { Reading } from "./answer.js";
import type { Repair } from "./errors.js";
import { looseName } from "./normalize.js";
import { decodeJson } from "./syntax.js";

/**
 * A schema-guided reading of a block that is not strict JSON, for what
 * syntax repair cannot know: strings left unquoted (`{name: John Smith}`,
 * values over several lines, a comma inside), strings with unescaped inner
 * quotes, and code in `"""…"""` or a backtick fence. The schema's keys tell
 * where a value ends: an unquoted value runs to the next `key:` of the same
 * object (or its closing brace). Read from `start` in `text` to the
 * object's own end, so braces and quotes inside code do not cut it short.
 * Returns undefined when the block does not read as the schema's object or
 * list of objects; the aligner judges the result like any other reading.
 */
export function guidedReading(text: string, start: number, schema: zc.$ZodType): Reading | undefined {
  if (text.length - start > MAX_GUIDED) return undefined;
  const reader = new Reader(text);
  reader.at = start;
  try {
    const value = reader.value(schema, new Set(), 0);
    if (reader.failed || value === undefined) return undefined;
    return { value, repairs: [...reader.notes.values()] };
  } catch {
    return undefined;
  }
}

/** The guided reader is for answers of human size; larger blocks are left to syntax repair. */
const MAX_GUIDED = 65_536;
const MAX_DEPTH = 64;
const KEY_CHAR = /[\p{L}\p{N}_$-]/u;

type Def = {
  type: string;
  innerType?: zc.$ZodType;
  in?: zc.$ZodType;
  shape?: Record<string, zc.$ZodType>;
  element?: zc.$ZodType;
  items?: zc.$ZodType[];
  options?: zc.$ZodType[];
};

function unwrap(schema: zc.$ZodType): zc.$ZodType {
  let current = schema;
  for (let i = 0; i < 16; i++) {
    const def = current._zod.def as unknown as Def;
    if (def.type === "lazy") current = (current._zod as unknown as { innerType: zc.$ZodType }).innerType;
    else if (def.innerType) current = def.innerType;
    else if (def.type === "pipe" && def.in) current = def.in;
    else return current;
  }
  return current;
}

/** The object shape a value position expects, if any (the first object member of a union). */
function shapeOf(schema: zc.$ZodType | undefined): Record<string, zc.$ZodType> | undefined {
  if (!schema) return undefined;
  const def = unwrap(schema)._zod.def as unknown as Def;
  if (def.type === "object") return def.shape;
  if (def.type === "union") {
    const shapes = (def.options ?? []).map(shapeOf).filter((s) => s !== undefined);
    if (shapes.length === 0) return undefined;
    return Object.assign({}, ...shapes) as Record<string, zc.$ZodType>;
  }
  return undefined;
}

function elementOf(schema: zc.$ZodType | undefined, index: number): zc.$ZodType | undefined {
  if (!schema) return undefined;
  const def = unwrap(schema)._zod.def as unknown as Def;
  if (def.type === "array") return def.element;
  if (def.type === "tuple") return def.items?.[index];
  return undefined;
}

class Reader {
  at = 0;
  failed = false;
  readonly notes = new Map<string, Repair>();
  constructor(private readonly s: string) {}

  note(kind: string, from: string): void {
    if (!this.notes.has(kind)) this.notes.set(kind, { kind, path: "", from: from.slice(0, 40) });
  }

  /** A value at `at` for `schema`; `keys` are the enclosing object's keys (they end an unquoted value). */
  value(schema: zc.$ZodType | undefined, keys: Set<string>, depth: number): unknown {
    if (depth > MAX_DEPTH) {
      this.failed = true;
      return undefined;
    }
    this.space();
    const s = this.s;
    const c = s[this.at];
    if (c === "{" && (shapeOf(schema) || !schema)) return this.object(shapeOf(schema), depth);
    if (c === "[" && (elementOf(schema, 0) || !schema)) return this.array(schema, depth);
    if (s.startsWith('"""', this.at) || s.startsWith("'''", this.at)) return this.triple();
    if (s.startsWith("```", this.at)) return this.fence();
    if (c === '"' || c === "'" || c === "\u201c") return this.quoted(keys);
    if (c === "{" || c === "[") return this.balanced();
    return this.unquoted(keys);
  }

  object(shape: Record<string, zc.$ZodType> | undefined, depth: number): Record<string, unknown> | undefined {
    const s = this.s;
    this.at++; // {
    const out: Record<string, unknown> = {};
    const keys = new Set(Object.keys(shape ?? {}).map(looseName));
    const loose = new Map(Object.keys(shape ?? {}).map((k) => [looseName(k), k]));
    for (let guard = 0; guard < 4096; guard++) {
      const comma = this.commas();
      if (this.at >= s.length) return out; // truncated: what was read
      if (s[this.at] === "}") {
        if (comma && guard > 0) this.note("trailing_comma", ",}");
        this.at++;
        return out;
      }
      if (guard > 0 && !comma) this.note("missing_comma", s.slice(this.at, this.at + 20));
      const key = this.key();
      if (key === undefined) {
        this.failed = true;
        return undefined;
      }
      const field = shape ? (shape[key] ?? shape[loose.get(looseName(key)) ?? ""]) : undefined;
      const value = this.value(field, keys, depth + 1);
      if (this.failed) return undefined;
      if (key === "__proto__")
        Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      else out[key] = value;
    }
    this.failed = true;
    return undefined;
  }

  array(schema: zc.$ZodType | undefined, depth: number): unknown[] | undefined {
    const s = this.s;
    this.at++; // [
    const out: unknown[] = [];
    for (let guard = 0; guard < 65_536; guard++) {
      const comma = this.commas();
      if (this.at >= s.length) return out;
      if (s[this.at] === "]") {
        if (comma && guard > 0) this.note("trailing_comma", ",]");
        this.at++;
        return out;
      }
      if (guard > 0 && !comma) this.note("missing_comma", s.slice(this.at, this.at + 20));
      const item = this.value(elementOf(schema, out.length), new Set(), depth + 1);
      if (this.failed) return undefined;
      out.push(item);
    }
    this.failed = true;
    return undefined;
  }

  /** `"key"`, `'key'` or a bare key, then `:`. */
  key(): string | undefined {
    const s = this.s;
    let key: string;
    const c = s[this.at];
    if (c === '"' || c === "'") {
      const end = s.indexOf(c, this.at + 1);
      if (end < 0) return undefined;
      key = s.slice(this.at + 1, end);
      if (c === "'") this.note("single_quotes", s.slice(this.at, end + 1));
      this.at = end + 1;
    } else {
      const from = this.at;
      while (this.at < s.length && KEY_CHAR.test(s[this.at] as string)) this.at++;
      key = s.slice(from, this.at);
      if (!key) return undefined;
      this.note("unquoted_keys", key);
    }
    this.space();
    if (s[this.at] !== ":") return undefined;
    this.at++;
    return key;
  }

  /** Whether a key of the enclosing object (`key:`, `"key":`) starts at `i` (after spaces). */
  keyAt(i: number, keys: Set<string>): boolean {
    const s = this.s;
    let j = i;
    while (j < s.length && (s[j] === " " || s[j] === "\t" || s[j] === "\n" || s[j] === "\r")) j++;
    let key: string;
    const q = s[j];
    if (q === '"' || q === "'") {
      const end = s.indexOf(q, j + 1);
      if (end < 0 || end - j > 128) return false;
      key = s.slice(j + 1, end);
      j = end + 1;
    } else {
      const from = j;
      while (j < s.length && j - from < 128 && KEY_CHAR.test(s[j] as string)) j++;
      key = s.slice(from, j);
    }
    while (s[j] === " " || s[j] === "\t") j++;
    // With no schema for this object, any `key:` ends a value.
    return s[j] === ":" && key !== "" && (keys.size === 0 || keys.has(looseName(key)));
  }

  /** Where a value ends: before `,` + next key, a newline + next key, or the object's closing brace. */
  endsValue(i: number, keys: Set<string>): boolean {
    const s = this.s;
    let j = i;
    while (s[j] === " " || s[j] === "\t") j++;
    if (j >= s.length || s[j] === "}" || s[j] === "]") return true;
    if (s[j] === ",") return this.keyAt(j + 1, keys) || this.closerAfter(j + 1);
    if (s[j] === "\n" || s[j] === "\r") return this.keyAt(j, keys) || this.closerAfter(j);
    return false;
  }

  /** Only spaces, then `}` or `]` (a trailing comma). */
  closerAfter(i: number): boolean {
    const s = this.s;
    let j = i;
    while (j < s.length && /\s/.test(s[j] as string)) j++;
    return s[j] === "}" || s[j] === "]";
  }

  /** A quoted string whose closing quote is the one that ends the value (inner quotes may be unescaped). */
  quoted(keys: Set<string>): string | undefined {
    const s = this.s;
    const open = s[this.at] as string;
    const close = open === "\u201c" ? "\u201d" : open;
    if (open !== '"') this.note(open === "'" ? "single_quotes" : "smart_quotes", s.slice(this.at, this.at + 40));
    const from = this.at + 1;
    let first = -1;
    for (let j = from; j < s.length; j++) {
      const c = s[j];
      if (c === "\\") {
        j++;
        continue;
      }
      if (c !== close) continue;
      if (first < 0) first = j;
      if (this.endsValue(j + 1, keys)) return this.finishQuoted(from, j, j !== first);
    }
    if (first < 0) {
      // Unterminated (truncated): the rest is the string.
      this.at = s.length;
      return this.unescape(s.slice(from));
    }
    this.at = first + 1;
    return this.unescape(s.slice(from, first));
  }

  finishQuoted(from: number, end: number, inner: boolean): string {
    this.at = end + 1;
    const body = this.s.slice(from, end);
    if (inner) this.note("inner_quotes_kept", body);
    return this.unescape(body);
  }

  unescape(body: string): string {
    if (!body.includes("\\")) return body;
    try {
      return JSON.parse(`"${body.replace(/(?<!\\)"/g, '\\"').replace(/\n/g, "\\n")}"`) as string;
    } catch {
      return body;
    }
  }

  /** `"""…"""` (or `'''…'''`): code, dedented. */
  triple(): string {
    const s = this.s;
    const mark = s.slice(this.at, this.at + 3);
    const from = this.at + 3;
    const end = s.indexOf(mark, from);
    const body = s.slice(from, end < 0 ? s.length : end);
    this.at = end < 0 ? s.length : end + 3;
    this.note("code_block", `${mark}${body}`);
    return dedent(body);
  }

  /** A backtick fence: info string dropped, code dedented. */
  fence(): string {
    const s = this.s;
    let from = this.at + 3;
    while (s[from] === "`") from++;
    const newline = s.indexOf("\n", from);
    const close = s.indexOf("```", from);
    if (newline >= 0 && (close < 0 || newline < close)) from = newline + 1; // the info string
    const end = close < 0 ? s.length : close;
    const body = s.slice(from, end);
    this.at = close < 0 ? s.length : close + 3;
    while (s[this.at] === "`") this.at++;
    this.note("code_block", s.slice(from - 1, end));
    return dedent(body);
  }

  /** A nested value the schema does not describe as an object or list: its balanced span, decoded. */
  balanced(): unknown {
    const s = this.s;
    const from = this.at;
    let depth = 0;
    let quote = "";
    for (let j = from; j < s.length; j++) {
      const c = s[j] as string;
      if (quote) {
        if (c === "\\") j++;
        else if (c === quote) quote = "";
        continue;
      }
      if (c === '"') quote = c;
      else if (c === "{" || c === "[") depth++;
      else if (c === "}" || c === "]") {
        depth--;
        if (depth === 0) {
          this.at = j + 1;
          const decoded = decodeJson(s.slice(from, j + 1));
          if (decoded.ok) return decoded.value;
          this.failed = true;
          return undefined;
        }
      }
    }
    this.failed = true;
    return undefined;
  }

  /** An unquoted value: up to the next key of this object, or its closing brace (braces inside balanced). */
  unquoted(keys: Set<string>): unknown {
    const s = this.s;
    const from = this.at;
    let depth = 0;
    let j = from;
    for (; j < s.length; j++) {
      const c = s[j];
      if (c === "{" || c === "[") depth++;
      else if (c === "}" || c === "]") {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && (c === "," || c === "\n") && this.endsValue(j, keys)) break;
    }
    this.at = j;
    const raw = s.slice(from, j).trim();
    if (raw === "") return "";
    const literal = plainJson(raw);
    if (literal !== undefined && typeof literal !== "string") return literal;
    this.note("unquoted_string", raw);
    return raw;
  }

  /** Skips spaces and commas; whether there was a comma. */
  commas(): boolean {
    const s = this.s;
    let comma = false;
    this.space();
    while (s[this.at] === ",") {
      comma = true;
      this.at++;
      this.space();
    }
    return comma;
  }

  space(): void {
    const s = this.s;
    while (this.at < s.length && /\s/.test(s[this.at] as string)) this.at++;
  }
}

/** A number, `true`, `false` or `null` written bare. */
function plainJson(raw: string): unknown {
  if (!/^(?:-?\d|true$|false$|null$)/.test(raw)) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/** Drops a first empty line and a last blank line, then the indentation all lines share. */
export function dedent(body: string): string {
  const lines = body.split("\n");
  if (lines.length > 1 && (lines[0] as string).trim() === "") lines.shift();
  if (lines.length > 1 && (lines[lines.length - 1] as string).trim() === "") lines.pop();
  let common = Number.POSITIVE_INFINITY;
  for (const line of lines) {
    if (line.trim() === "") continue;
    const indent = line.length - line.trimStart().length;
    if (indent < common) common = indent;
  }
  const cut = Number.isFinite(common) ? common : 0;
  return lines
    .map((line) => line.slice(Math.min(cut, line.length - line.trimStart().length)))
    .join("\n")
    .trimEnd();
}

/**
 * An object written as `key: value` lines, as models do in markdown:
 * `**Name:** Ann Lee`, `- Age: 30`, `Email = a@b.c`. Only lines whose key
 * is one of the schema's (loosely) count; other non-empty lines continue
 * the previous value. Values stay text: the aligner converts them.
 */
export function keyValueLines(text: string, schema: zc.$ZodType): Reading | undefined {
  const shape = shapeOf(schema);
  if (!shape || text.length > MAX_LINES_TEXT) return undefined;
  const loose = new Map(Object.keys(shape).map((k) => [looseName(k), k]));
  const out: Record<string, string> = {};
  let current: string | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("```")) {
      current = undefined;
      continue;
    }
    if (line.length > 2000) return undefined;
    const item = line.replace(/^(?:[-*+]|\d{1,3}[.)])\s+/, "");
    const colon = item.search(/[:=]/);
    const key =
      colon > 0 && colon <= 60
        ? loose.get(
            looseName(
              item
                .slice(0, colon)
                .replace(/[*_`#]/g, "")
                .trim(),
            ),
          )
        : undefined;
    if (key !== undefined && !Object.hasOwn(out, key)) {
      current = key;
      out[key] = item
        .slice(colon + 1)
        .replace(/^[\s*_`]+|[\s*_`]+$/g, "")
        .trim();
    } else if (current !== undefined) {
      out[current] = `${out[current]}\n${line}`;
    }
  }
  if (Object.keys(out).length === 0) return undefined;
  return { value: out, repairs: [{ kind: "key_value_lines", path: "", from: text.slice(0, 40) }] };
}

const MAX_LINES_TEXT = 20_000;
