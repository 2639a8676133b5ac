import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import type * as zc from "zod/v4/core";
import type { AnyIntent } from "../intent.js";
import { type CoerceMode, coerce, coerceContext, isPlainObject, STEP_MODE, validates } from "./coerce.js";
import type { Repair } from "./errors.js";
import { MAX_ANSWER_LENGTH, MAX_NESTING, parseStep } from "./index.js";
import { parseLenient } from "./lenient.js";
import { matchLoose } from "./normalize.js";

type Schema = zc.$ZodType;
type Def = zc.$ZodTypeDef & Record<string, unknown>;

/** Every field optional, at every depth: what a stream has delivered so far. */
export type DeepPartial<T> = T extends (infer U)[]
  ? DeepPartial<U>[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/**
 * What a prefix of a streamed answer says so far. `value` holds the fields
 * that have arrived (a field not yet arrived is missing; a number or a
 * literal still being written is missing too); `incomplete` lists, as JSON
 * pointers (`/items/2/label`), the strings still being written (they may
 * grow); `complete` is true once the whole answer has arrived and parses to
 * a valid value (then `value` is that value, defaults filled in).
 */
export interface PartialResult<T> {
  value: DeepPartial<T> | undefined;
  incomplete: string[];
  complete: boolean;
}

/** A partial step: the intent once its name has arrived, and its arguments so far. */
export interface PartialStep {
  intent?: string;
  value: Record<string, unknown>;
  incomplete: string[];
  complete: boolean;
}

/**
 * Turns a prefix of a streaming answer (JSON, fenced or bare, with the
 * common lenient slips; or `key: value` lines) into the value known so far,
 * aligned with `schema` made deep-partial. Never throws: a prefix it cannot
 * read yet gives `{ value: undefined, incomplete: [], complete: false }`.
 */
export function parsePartial<S extends z.ZodType>(prefix: string, schema: S): PartialResult<z.output<S>> {
  try {
    return partialOf(String(prefix), schema as unknown as Schema) as PartialResult<z.output<S>>;
  } catch {
    return nothing();
  }
}

/**
 * A prefix of a step answer (`{"intent": …, …arguments}`, as in prompt and
 * json modes; json mode's `{"step": …}` wrapper is looked through) → the
 * intent once named, and its arguments so far. Never throws.
 */
export function parsePartialStep(prefix: string, intents: readonly AnyIntent[]): PartialStep {
  try {
    return partialStep(String(prefix), intents);
  } catch {
    return { value: {}, incomplete: [], complete: false };
  }
}

/** A prefix of one tool call's arguments (tools mode) → the arguments so far, for that intent. */
export function parsePartialArguments(prefix: string, intent: AnyIntent): PartialStep {
  const partial = parsePartial(prefix, intent.schema as unknown as z.ZodType);
  const value = isPlainObject(partial.value) ? partial.value : {};
  return { intent: intent.name, value, incomplete: partial.incomplete, complete: partial.complete };
}

function nothing<T>(): PartialResult<T> {
  return { value: undefined, incomplete: [], complete: false };
}

// ---------------------------------------------------------------- the prefix, read

type Key = string | number;

/** What the scan of a prefix found: the value so far, whether its root closed, and the string still open. */
interface Scanned {
  value: unknown;
  closed: boolean;
  /** Path of the string cut by the end of the prefix, if one is. */
  open?: Key[];
  /** Where the root value starts and ends in the text. */
  start: number;
  end: number;
}

const MISSING: unique symbol = Symbol("missing");
type Got = unknown | typeof MISSING;

/**
 * Reads a prefix of (almost-)JSON, closing whatever is still open: an open
 * string keeps what it has (and is reported open), a dangling key or a
 * half-written number or literal is dropped. Lenient like the parser's
 * pre-pass: single quotes, unquoted keys, comments, trailing commas,
 * Python literals. Stops quietly at anything else, keeping what it has.
 */
class PrefixScanner {
  i: number;
  open: Key[] | undefined;
  /** The scan met text it cannot read: what came before it stands, nothing after. */
  stuck = false;
  constructor(
    readonly text: string,
    start: number,
  ) {
    this.i = start;
  }

  get eof(): boolean {
    return this.i >= this.text.length;
  }

  skip(): void {
    const t = this.text;
    while (this.i < t.length) {
      const c = t[this.i] as string;
      if (c === " " || c === "\n" || c === "\r" || c === "\t" || c === "\ufeff" || c === "\u00a0") {
        this.i++;
      } else if (c === "/" && t[this.i + 1] === "/") {
        const eol = t.indexOf("\n", this.i);
        this.i = eol < 0 ? t.length : eol + 1;
      } else if (c === "/" && t[this.i + 1] === "*") {
        const close = t.indexOf("*/", this.i + 2);
        this.i = close < 0 ? t.length : close + 2;
      } else {
        return;
      }
    }
  }

  /** A value at `path`; MISSING when the prefix ends before it is known. */
  value(path: Key[], depth: number): { got: Got; closed: boolean } {
    this.skip();
    if (this.eof || this.stuck) return { got: MISSING, closed: false };
    if (depth > MAX_NESTING) {
      this.stuck = true;
      return { got: MISSING, closed: false };
    }
    const c = this.text[this.i] as string;
    if (c === "{") return this.object(path, depth);
    if (c === "[") return this.array(path, depth);
    if (c === '"' || c === "'" || c === "\u201c") {
      const s = this.string(c === "\u201c" ? "\u201d" : c);
      if (!s.closed) this.open = path;
      return { got: s.value, closed: s.closed };
    }
    if (c === "-" || c === "+" || c === "." || (c >= "0" && c <= "9")) return { got: this.number(), closed: true };
    if (isWordChar(c)) return { got: this.word(), closed: true };
    this.stuck = true;
    return { got: MISSING, closed: false };
  }

  object(path: Key[], depth: number): { got: Got; closed: boolean } {
    this.i++;
    const out: Record<string, unknown> = {};
    for (;;) {
      this.skip();
      if (this.eof || this.stuck) return { got: out, closed: false };
      const c = this.text[this.i] as string;
      if (c === "}") {
        this.i++;
        return { got: out, closed: true };
      }
      if (c === ",") {
        this.i++;
        continue;
      }
      const key = this.key();
      if (key === undefined) return { got: out, closed: false };
      this.skip();
      if (this.eof) return { got: out, closed: false };
      if (this.text[this.i] !== ":") {
        this.stuck = true;
        return { got: out, closed: false };
      }
      this.i++;
      const item = this.value([...path, key], depth + 1);
      if (item.got !== MISSING) setOwn(out, key, item.got);
      if (!item.closed) return { got: out, closed: false };
    }
  }

  array(path: Key[], depth: number): { got: Got; closed: boolean } {
    this.i++;
    const out: unknown[] = [];
    for (;;) {
      this.skip();
      if (this.eof || this.stuck) return { got: out, closed: false };
      const c = this.text[this.i] as string;
      if (c === "]") {
        this.i++;
        return { got: out, closed: true };
      }
      if (c === ",") {
        this.i++;
        continue;
      }
      const item = this.value([...path, out.length], depth + 1);
      if (item.got !== MISSING) out.push(item.got);
      if (!item.closed) return { got: out, closed: false };
    }
  }

  /** A key, quoted or bare; undefined when the prefix ends inside it (a dangling key is dropped). */
  key(): string | undefined {
    const c = this.text[this.i] as string;
    if (c === '"' || c === "'" || c === "\u201c") {
      const s = this.string(c === "\u201c" ? "\u201d" : c);
      return s.closed ? s.value : undefined;
    }
    if (!isWordChar(c)) {
      this.stuck = true;
      return undefined;
    }
    const start = this.i;
    while (!this.eof && isWordChar(this.text[this.i] as string)) this.i++;
    return this.eof ? undefined : this.text.slice(start, this.i);
  }

  /** A string body with JSON escapes decoded; an escape cut by the end is dropped. */
  string(close: string): { value: string; closed: boolean } {
    const t = this.text;
    let j = this.i + 1;
    let out = "";
    let run = j;
    while (j < t.length) {
      const c = t[j] as string;
      if (c === close && (close !== "'" || closesSingle(t, j + 1))) {
        this.i = j + 1;
        return { value: out + t.slice(run, j), closed: true };
      }
      if (c === "\\") {
        out += t.slice(run, j);
        const next = t[j + 1];
        if (next === undefined) {
          run = j = t.length;
          break;
        }
        if (next === "u") {
          const hex = t.slice(j + 2, j + 6);
          if (hex.length < 4) {
            run = j = t.length;
            break;
          }
          const code = Number.parseInt(hex, 16);
          out += Number.isNaN(code) ? hex : String.fromCharCode(code);
          j += 6;
        } else {
          out += ESCAPES[next] ?? next;
          j += 2;
        }
        run = j;
        continue;
      }
      j++;
    }
    this.i = t.length;
    out += t.slice(run, j);
    // Half of a surrogate pair is not text yet.
    const last = out.charCodeAt(out.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) out = out.slice(0, -1);
    return { value: out, closed: false };
  }

  /** A number, or MISSING while it may still grow (nothing after it yet). */
  number(): Got {
    const t = this.text;
    const start = this.i;
    while (this.i < t.length && /[-+0-9.eE]/.test(t[this.i] as string)) this.i++;
    if (this.eof) return MISSING;
    const n = Number(t.slice(start, this.i));
    if (!Number.isFinite(n)) {
      this.stuck = true;
      return MISSING;
    }
    return n;
  }

  /** `true`, `false`, `null` (and Python's spellings), or MISSING while the word may still grow. */
  word(): Got {
    const t = this.text;
    const start = this.i;
    while (this.i < t.length && isWordChar(t[this.i] as string)) this.i++;
    if (this.eof) return MISSING;
    const word = t.slice(start, this.i);
    if (Object.hasOwn(WORDS, word)) return WORDS[word];
    this.stuck = true;
    return MISSING;
  }
}

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", b: "\b", f: "\f", "/": "/", "\\": "\\" };
const WORDS: Record<string, unknown> = { true: true, false: false, null: null, True: true, False: false, None: null };

function isWordChar(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c === "_" || c === "$";
}

function closesSingle(text: string, at: number): boolean {
  for (let k = at; k < text.length; k++) {
    const c = text[k] as string;
    if (c === " " || c === "\n" || c === "\t" || c === "\r") continue;
    return c === "," || c === "}" || c === "]" || c === ":";
  }
  return true;
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__")
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * Where the answer's JSON starts: inside the latest markdown fence when
 * there is one, else at the first `{` (or a `[` that opens a list of
 * values). -1 when nothing has started yet.
 */
function rootStart(text: string): number {
  const fence = text.lastIndexOf("```");
  if (fence >= 0) {
    // An odd number of fences: the last one is open and the answer is inside it.
    const count = text.split("```").length - 1;
    const from = count % 2 === 1 ? fence : text.lastIndexOf("```", fence - 1);
    if (from >= 0) {
      const newline = text.indexOf("\n", from + 3);
      const info = text.slice(from + 3, newline < 0 ? text.length : newline);
      const inline = /^\s*[[{]/.test(info);
      const content = inline ? from + 3 : newline < 0 ? -1 : newline + 1;
      if (content < 0) return -1;
      const at = firstOpener(text, content);
      if (at >= 0) return at;
    }
  }
  return firstOpener(text, 0);
}

function firstOpener(text: string, from: number): number {
  for (let k = from; k < text.length; k++) {
    const c = text[k];
    if (c === "{") return k;
    if (c === "[") {
      const next = text.slice(k + 1).trimStart()[0];
      if (next === undefined || '{["-0123456789tfn]'.includes(next)) return k;
    }
  }
  return -1;
}

function scan(text: string): Scanned | undefined {
  const start = rootStart(text);
  if (start < 0) return undefined;
  const scanner = new PrefixScanner(text, start);
  const { got, closed } = scanner.value([], 0);
  if (got === MISSING) return undefined;
  return {
    value: got,
    closed: closed && !scanner.stuck,
    start,
    end: scanner.i,
    ...(scanner.open && { open: scanner.open }),
  };
}

/** A YAML-ish answer (`key: value` lines): the whole lines so far; the last line's value is still open. */
function scanYaml(text: string): Scanned | undefined {
  // Only an answer that is nothing but such lines: prose and fences before a JSON block are not YAML.
  if (text.length > 4096 || /[`{[]/.test(text) || !/^\s*[\w"'-]+[ \t]*:/.test(text)) return undefined;
  const newline = text.lastIndexOf("\n");
  const whole = newline < 0 ? "" : text.slice(0, newline);
  let value: unknown = {};
  if (whole.trim() !== "") {
    try {
      value = parseYaml(whole);
    } catch {
      return undefined;
    }
  }
  if (!isPlainObject(value)) return undefined;
  const last = /^([\w-]+)[ \t]*:[ \t]*(\S.*)$/.exec(text.slice(newline + 1));
  if (last?.[1] && last[2] !== undefined && !Object.hasOwn(value, last[1])) {
    const partial = last[2].replace(/^["']/, "");
    const out = { ...value };
    setOwn(out, last[1], partial);
    return { value: out, closed: false, open: [last[1]], start: 0, end: text.length };
  }
  return { value, closed: false, start: 0, end: text.length };
}

// ---------------------------------------------------------------- aligned with the schema

function partialOf(text: string, schema: Schema): PartialResult<unknown> {
  if (text.length > MAX_ANSWER_LENGTH) return nothing();
  const scanned = scan(text) ?? scanYaml(text);
  if (!scanned) return nothing();
  if (scanned.closed) {
    const full = parseWhole(text.slice(scanned.start, scanned.end), schema);
    if (full.ok) return { value: full.value, incomplete: [], complete: true };
  }
  return align(schema, scanned, LENIENT);
}

/** The whole answer has arrived: parseLenient's reading of it, when it is valid. */
function parseWhole(json: string, schema: Schema): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: parseLenient(json, schema as unknown as z.ZodType).value };
  } catch {
    return { ok: false };
  }
}

/** Partial values are aligned the way the whole will be: parseLenient's rules for values, parseStep's for steps. */
const LENIENT: CoerceMode = { lenient: true, prose: true };

/** The scanned value moved toward the schema, and every field that does not fit (yet) left out. */
function align(schema: Schema, scanned: Scanned, mode: CoerceMode): PartialResult<unknown> {
  const repairs: Repair[] = [];
  const coerced = coerce(schema, scanned.value, null, coerceContext(repairs, mode));
  const open = scanned.open && follow(coerced, scanned.open, repairs);
  const kept = prune(schema, coerced, open, 0);
  if (kept === MISSING) return nothing();
  const incomplete = open && has(kept, open) ? [pointer(open)] : [];
  return { value: kept, incomplete, complete: false };
}

/** The open string's path in the coerced value: keys renamed and values wrapped in a list followed. */
function follow(value: unknown, path: Key[], repairs: Repair[]): Key[] | undefined {
  const out: Key[] = [];
  let here = value;
  for (const key of path) {
    if (Array.isArray(here) && typeof key === "string") {
      out.push(0);
      here = here[0];
    }
    if (isPlainObject(here)) {
      const name =
        typeof key === "string" && Object.hasOwn(here, key)
          ? key
          : repairs.find(
              (r) => r.kind === "key_renamed" && r.from === key && Object.hasOwn(here as object, String(r.to)),
            )?.to;
      if (typeof name !== "string") return undefined;
      out.push(name);
      here = here[name];
    } else if (Array.isArray(here) && typeof key === "number") {
      out.push(key);
      here = here[key];
    } else {
      return undefined;
    }
  }
  return out;
}

function has(value: unknown, path: Key[]): boolean {
  let here = value;
  for (const key of path) {
    if (here === null || typeof here !== "object" || !Object.hasOwn(here, key)) return false;
    here = (here as Record<Key, unknown>)[key];
  }
  return true;
}

/** RFC 6901: `~` and `/` in keys escaped. */
function pointer(path: Key[]): string {
  return path.map((k) => `/${String(k).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

function defOf(schema: Schema): Def {
  return schema._zod.def as Def;
}

const MAX_DEPTH = 1500;

/**
 * The schema made deep-partial: containers keep what fits of what arrived,
 * each finished leaf is kept only when it is valid, and the open string
 * only where any string is (so a half-written enum value or number does not
 * show up as a value it will not be).
 */
function prune(schema: Schema, value: unknown, open: Key[] | undefined, depth: number): Got {
  if (depth > MAX_DEPTH) return value;
  const def = defOf(schema);
  const here = open?.length === 0;
  const down = (key: Key) => (open && open.length > 0 && open[0] === key ? open.slice(1) : undefined);
  switch (def.type) {
    case "optional":
    case "default":
    case "prefault":
    case "readonly":
    case "catch":
    case "nonoptional":
    case "success":
      return value === undefined ? MISSING : prune(def.innerType as Schema, value, open, depth + 1);
    case "nullable":
      return value === null ? null : prune(def.innerType as Schema, value, open, depth + 1);
    case "pipe":
      return prune(def.in as Schema, value, open, depth + 1);
    case "lazy":
      return prune((def.getter as () => Schema)(), value, open, depth + 1);
    case "any":
    case "unknown":
      return value;
    case "object": {
      if (!isPlainObject(value)) return MISSING;
      const shape = def.shape as Record<string, Schema>;
      const catchall = def.catchall as Schema | undefined;
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        const field = Object.hasOwn(shape, key) ? shape[key] : catchall;
        if (!field || defOf(field).type === "never") continue;
        const kept = prune(field, value[key], down(key), depth + 1);
        if (kept !== MISSING) setOwn(out, key, kept);
      }
      return out;
    }
    case "record": {
      if (!isPlainObject(value)) return MISSING;
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        const kept = prune(def.valueType as Schema, value[key], down(key), depth + 1);
        if (kept !== MISSING && validates(def.keyType as Schema, key)) setOwn(out, key, kept);
      }
      return out;
    }
    case "array": {
      if (!Array.isArray(value)) return MISSING;
      const out: unknown[] = [];
      for (const [index, item] of value.entries()) {
        const kept = prune(def.element as Schema, item, down(index), depth + 1);
        // Positions must not shift: a later element never moves into an earlier one's place.
        if (kept === MISSING) break;
        out.push(kept);
      }
      return out;
    }
    case "tuple": {
      if (!Array.isArray(value)) return MISSING;
      const items = def.items as Schema[];
      const rest = (def.rest as Schema | null) ?? null;
      const out: unknown[] = [];
      for (const [index, item] of value.entries()) {
        const itemSchema = items[index] ?? rest;
        const kept = itemSchema ? prune(itemSchema, item, down(index), depth + 1) : MISSING;
        if (kept === MISSING) break;
        out.push(kept);
      }
      return out;
    }
    case "union":
      return pruneUnion(schema, value, open, depth);
    case "intersection":
      return here ? MISSING : value;
    default:
      if (here) return acceptsAnyString(schema, 0) ? value : MISSING;
      return validates(schema, value) ? value : MISSING;
  }
}

/**
 * A union: the member named by a discriminator that has arrived, else the
 * first member the value already validates against, else the member that
 * keeps the most of it.
 */
function pruneUnion(schema: Schema, value: unknown, open: Key[] | undefined, depth: number): Got {
  const def = defOf(schema);
  const options = def.options as Schema[];
  const discriminator = def.discriminator as string | undefined;
  if (discriminator && isPlainObject(value) && typeof value[discriminator] === "string") {
    const tag = value[discriminator];
    const member = options.find((o) => discriminatorValues(o, discriminator).has(tag));
    if (member) return prune(member, value, open, depth + 1);
  }
  if (!open) {
    const valid = options.find((o) => validates(o, value));
    if (valid) return value;
  }
  let best: { kept: Got; size: number } | undefined;
  for (const option of options) {
    const kept = prune(option, value, open, depth + 1);
    if (kept === MISSING) continue;
    const size = leaves(kept);
    if (!best || size > best.size) best = { kept, size };
  }
  return best ? best.kept : MISSING;
}

function discriminatorValues(option: Schema, key: string): Set<unknown> {
  const propValues = option._zod.propValues as Record<string, Set<unknown>> | undefined;
  return propValues?.[key] ?? new Set();
}

function leaves(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + leaves(v), 0);
  if (isPlainObject(value)) return Object.values(value).reduce((n: number, v) => n + leaves(v), 0);
  return 1;
}

/** Whether every string (so any prefix of one) is a value of this schema's kind: plain strings, any, unknown. */
function acceptsAnyString(schema: Schema, depth: number): boolean {
  if (depth > 16) return false;
  const def = defOf(schema);
  switch (def.type) {
    case "string":
    case "any":
    case "unknown":
      return true;
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "readonly":
    case "catch":
    case "nonoptional":
      return acceptsAnyString(def.innerType as Schema, depth + 1);
    case "pipe":
      return acceptsAnyString(def.in as Schema, depth + 1);
    case "lazy":
      return acceptsAnyString((def.getter as () => Schema)(), depth + 1);
    case "union":
      return (def.options as Schema[]).some((o) => acceptsAnyString(o, depth + 1));
    default:
      return false;
  }
}

// ---------------------------------------------------------------- steps

const ARGUMENT_KEYS = ["arguments", "args", "parameters", "params", "input"];
const NAME_KEYS = ["name", "tool", "tool_name", "function"];

function partialStep(text: string, intents: readonly AnyIntent[]): PartialStep {
  const empty: PartialStep = { value: {}, incomplete: [], complete: false };
  if (text.length > MAX_ANSWER_LENGTH) return empty;
  const scanned = scan(text) ?? scanYaml(text);
  if (!scanned) return empty;
  if (scanned.closed) {
    try {
      const { intent, ...args } = parseStep(text, intents).value;
      return { intent, value: args, incomplete: [], complete: true };
    } catch {
      // Not a valid step (yet, or at all): show what has arrived.
    }
  }
  let root = scanned.value;
  let open = scanned.open;
  // json mode's wrapper: {"step": {"intent": …}}.
  if (isPlainObject(root) && !findKey(root, "intent")) {
    const keys = Object.keys(root);
    if (keys.length === 1 && isPlainObject(root[keys[0] as string])) {
      const key = keys[0] as string;
      root = root[key];
      open = open?.[0] === key ? open.slice(1) : undefined;
    }
  }
  if (!isPlainObject(root)) return empty;
  // The intent's key: `intent`, or a tool-call-like `name` (`{"name": …, "arguments": {…}}`).
  const intentKey =
    findKey(root, "intent") ??
    NAME_KEYS.find((k) => typeof root[k] === "string" && ARGUMENT_KEYS.some((a) => Object.hasOwn(root, a)));
  let intent: AnyIntent | undefined;
  if (intentKey !== undefined) {
    const name = root[intentKey];
    // A name still being written is not a name yet.
    if (typeof name !== "string" || open?.[0] === intentKey) return empty;
    intent = intents.find((i) => i.name === name) ?? matchLoose(name, intents, (i) => i.name);
  } else if (intents.length === 1) {
    intent = intents[0];
  }
  if (!intent) return empty;
  let args: Record<string, unknown> = { ...root };
  if (intentKey !== undefined) delete args[intentKey];
  const shape = intent.schema.shape as Record<string, unknown>;
  const wrapper = Object.keys(args).find((k) => ARGUMENT_KEYS.includes(k) && !Object.hasOwn(shape, k));
  if (wrapper !== undefined && isPlainObject(args[wrapper]) && Object.keys(args).length === 1) {
    args = args[wrapper] as Record<string, unknown>;
    open = open?.[0] === wrapper ? open.slice(1) : undefined;
  }
  const aligned = align(
    intent.schema as unknown as Schema,
    {
      value: args,
      closed: false,
      start: scanned.start,
      end: scanned.end,
      ...(open && { open }),
    },
    STEP_MODE,
  );
  const value = isPlainObject(aligned.value) ? aligned.value : {};
  return { intent: intent.name, value, incomplete: aligned.incomplete, complete: false };
}

function findKey(value: Record<string, unknown>, wanted: string): string | undefined {
  if (Object.hasOwn(value, wanted)) return wanted;
  return matchLoose(wanted, Object.keys(value).slice(0, 64), (k) => k);
}
