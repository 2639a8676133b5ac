import { intentOfResult, resultType } from "../thread/builtin.js";
import type { Event } from "../thread/event.js";
import { stepArguments } from "../thread/status.js";
import type { Thread } from "../thread/thread.js";
import { redactValue } from "./redact.js";
import { type ContextRenderer, type RenderOptions, truncate } from "./types.js";
import { errorIntent, hiddenFromModel, visibleEvents } from "./visible.js";
import { toYaml } from "./yaml-fast.js";

/**
 * A unit of the rendered context: a step and the visible events that answer
 * it (folded into one element), or any other event on its own.
 */
interface Unit {
  head: Event;
  answers: Event[];
}

/** What a previous render of a thread produced, so a grown thread only renders its new events. */
interface Memo {
  length: number;
  last: Event | undefined;
  /** The rendered units before the trailing one: nothing later can change them. */
  stable: string;
  /** The trailing unit: an answer arriving later still joins it, so it is re-rendered. */
  open: Unit | undefined;
  text: string;
  /** Intents with visible errors ("*" for errors naming no intent): a later success would hide them. */
  openErrors: Set<string>;
}

/**
 * Factor 3's default: the thread as tagged elements in one text block.
 *
 * Each step is one element named after its intent, its arguments as
 * attributes with JSON values, and what answered it inside:
 * `<add a=1000 b=17>1017</add>`. The result (or a human's answer to
 * `request_human_input`) is the body, inline when it is one line, else
 * YAML on its own lines; approvals, rejections and errors are child tags
 * before it (`<approved/>`, `<rejected>feedback</rejected>`,
 * `<error>message</error>`). A step nothing answered yet is `<add a=1 b=2/>`.
 * Every other event is `<type>` + YAML body + `</type>` (the essay's
 * format), one-line bodies on the tag's line. docs/factors.md has the rules;
 * `{ fold: false, args: "yaml" }` gives one block per event back.
 *
 * Events are immutable, so each is rendered once; and a thread that only
 * grew since the last render is extended, not re-joined (only its trailing
 * unit, which a late answer can still change, is rendered again), which
 * keeps the cost of a turn flat as the thread gets long.
 */
export function xmlYaml(options: RenderOptions = {}): ContextRenderer {
  const blocks = new WeakMap<Event, string | null>();
  const folded = new WeakMap<Event, { answers: Event[]; text: string | null }>();
  const memos = new WeakMap<Event, Memo>();
  const hideResolved = options.hideResolvedErrors ?? true;
  const separator = options.separator ?? "\n";
  const fold = options.fold !== false && options.args !== "yaml";

  const block = (event: Event): string | null => {
    let b = blocks.get(event);
    if (b === undefined) {
      b = renderBlock(event, options);
      blocks.set(event, b);
    }
    return b;
  };

  const render = (unit: Unit): string | null => {
    if (fold && foldable(unit, options)) {
      const cached = folded.get(unit.head);
      if (cached && sameEvents(cached.answers, unit.answers)) return cached.text;
      const text = renderFolded(unit, options);
      folded.set(unit.head, { answers: unit.answers.slice(), text });
      return text;
    }
    const parts: string[] = [];
    for (const event of [unit.head, ...unit.answers]) {
      const b = block(event);
      if (b !== null) parts.push(b);
    }
    return parts.length > 0 ? parts.join(separator) : null;
  };

  /** Groups `events` (visible, in order) into units and renders them after `stable`. */
  const build = (stable: string, start: Unit | undefined, events: readonly Event[]) => {
    let open = start;
    const parts: string[] = stable === "" ? [] : [stable];
    for (const event of events) {
      if (fold && open && answers(open, event)) {
        open.answers.push(event);
        continue;
      }
      if (open) {
        const text = render(open);
        if (text !== null) parts.push(text);
      }
      open = { head: event, answers: [] };
    }
    const closed = parts.join(separator);
    const tail = open ? render(open) : null;
    const text = tail === null ? closed : closed === "" ? tail : `${closed}${separator}${tail}`;
    return { stable: closed, open, text };
  };

  const full = (events: readonly Event[]): Memo => {
    const openErrors = new Set<string>();
    const visible = visibleEvents(events, hideResolved, options.annotations);
    for (const event of visible) if (event.type === "error") openErrors.add(errorIntent(event) ?? "*");
    return { length: events.length, last: events.at(-1), ...build("", undefined, visible), openErrors };
  };

  const extend = (memo: Memo, events: readonly Event[]): Memo | undefined => {
    const openErrors = new Set(memo.openErrors);
    const added: Event[] = [];
    for (let i = memo.length; i < events.length; i++) {
      const event = events[i] as Event;
      if (event.meta?.kind === "result" && hideResolved) {
        const intent = event.meta.intent ?? intentOfResult(event.type) ?? event.type;
        // A success hides earlier errors: visibility of old blocks changes, so start over.
        if (openErrors.has(intent) || openErrors.has("*")) return undefined;
      }
      if (hiddenFromModel(event, options.annotations)) continue;
      if (event.type === "error") openErrors.add(errorIntent(event) ?? "*");
      added.push(event);
    }
    const base = { length: events.length, last: events.at(-1), openErrors };
    if (added.length === 0) return { ...memo, ...base };
    const start = memo.open && { head: memo.open.head, answers: memo.open.answers.slice() };
    return { ...base, ...build(memo.stable, start, added) };
  };

  return (thread: Thread) => {
    const events = thread.events;
    const first = events[0];
    if (!first) return "";
    const memo = memos.get(first);
    const grown =
      memo && events.length >= memo.length && events[memo.length - 1] === memo.last ? extend(memo, events) : undefined;
    const next = grown ?? full(events);
    memos.set(first, next);
    return next.text;
  };
}

function sameEvents(a: readonly Event[], b: readonly Event[]): boolean {
  return a.length === b.length && a.every((e, i) => e === b[i]);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A step the model chose, or one a prefetch hook added as if the model had chosen it. */
function isStep(event: Event): boolean {
  if (!isRecord(event.data)) return false;
  return event.meta?.kind === "step" || (event.meta?.prefetch === true && event.data.intent === event.type);
}

function stepIntent(step: Event): string {
  return step.meta?.intent ?? step.type;
}

/**
 * Whether `event` answers the unit's step: it names the step (`meta.stepId`),
 * or, in threads built by hand or by a prefetch hook (no stepId), it is the
 * step's result, an error about its intent, or an approval or human response
 * before the step has a result.
 */
function answers(unit: Unit, event: Event): boolean {
  const step = unit.head;
  if (!isStep(step) || isStep(event)) return false;
  const stepId = event.meta?.stepId;
  if (stepId !== undefined) return stepId === step.id;
  if (unit.answers.some((a) => a.meta?.kind === "result")) return false;
  const intent = stepIntent(step);
  if (event.meta?.kind === "result") return (event.meta.intent ?? intentOfResult(event.type) ?? event.type) === intent;
  if (event.type === "error") return errorIntent(event) === intent;
  return event.type === "approval" || event.type === "human_response";
}

/** A custom renderer for any of the unit's types (or the step's result type) keeps its events as separate blocks. */
function foldable(unit: Unit, options: RenderOptions): boolean {
  if (!isStep(unit.head)) return false;
  const custom = options.renderers;
  if (!custom) return true;
  if (custom[unit.head.type] || custom[resultType(stepIntent(unit.head))]) return false;
  return !unit.answers.some((a) => custom[a.type]);
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** ` a=1 note="x"`: each value as JSON, so strings are quoted and escaped and objects stay on one line. */
function attributes(args: Record<string, unknown>): string {
  let out = "";
  for (const [key, value] of Object.entries(args)) {
    if (value === undefined) continue;
    out += ` ${NAME.test(key) ? key : JSON.stringify(key)}=${JSON.stringify(value) ?? "null"}`;
  }
  return out;
}

function clean(value: unknown, options: RenderOptions): unknown {
  return options.redact === false ? value : redactValue(value, options.redact ?? {});
}

/** `<name attrs/>`; `<name attrs>…</name>` with the parts inline when all are one line, else each on its own lines. */
function element(name: string, attrs: string, parts: readonly string[]): string {
  if (parts.length === 0) return `<${name}${attrs}/>`;
  if (!parts.some((p) => p.includes("\n"))) return `<${name}${attrs}>${parts.join("")}</${name}>`;
  return `<${name}${attrs}>\n${parts.join("\n")}\n</${name}>`;
}

function stepAttributes(step: Event, options: RenderOptions): string {
  const args = clean(stepArguments(step), options) as Record<string, unknown>;
  return options.intentField ? attributes({ intent: stepIntent(step), ...args }) : attributes(args);
}

function renderFolded(unit: Unit, options: RenderOptions): string {
  const step = unit.head;
  const asks = stepIntent(step) === "request_human_input";
  const parts: string[] = [];
  for (const answer of unit.answers) {
    if (answer.meta?.kind === "result") parts.push(resultBody(answer, options));
    else if (answer.type === "human_response" && asks) parts.push(humanAnswer(answer, options));
    else parts.push(child(answer, options));
  }
  return element(step.type, stepAttributes(step, options), parts);
}

/** A result's body: a string as it is, anything else as YAML; `null` (a handler that returned nothing) as `null`. */
function resultBody(event: Event, options: RenderOptions): string {
  const data = clean(event.data, options);
  const body = typeof data === "string" ? data : toYaml(data ?? null);
  return truncate(body, options.maxResultChars ?? 8000);
}

/** The human's answer to a question: just the response, unless the event carries more. */
function humanAnswer(event: Event, options: RenderOptions): string {
  const data = clean(event.data, options);
  if (isRecord(data) && Object.keys(data).length === 1 && "response" in data) {
    return typeof data.response === "string" ? data.response : toYaml(data.response ?? null);
  }
  return typeof data === "string" ? data : toYaml(data ?? null);
}

/** An answer that is not the step's result, as a child tag. */
function child(event: Event, options: RenderOptions): string {
  const data = clean(event.data, options);
  if (event.type === "approval" && isRecord(data) && typeof data.approved === "boolean") {
    const { approved, feedback, arguments: edited, ...rest } = data;
    const plain = Object.keys(rest).length === 0 && (feedback === undefined || typeof feedback === "string");
    if (plain && (edited === undefined || isRecord(edited))) {
      const attrs = edited ? attributes(edited as Record<string, unknown>) : "";
      return element(approved ? "approved" : "rejected", attrs, feedback ? [feedback as string] : []);
    }
  }
  if (event.type === "error" && isRecord(data) && typeof data.message === "string") {
    const { message, kind: _kind, intent: _intent, ...rest } = data;
    if (Object.keys(rest).length === 0) return element("error", "", [message]);
  }
  return renderBlock(event, options) ?? "";
}

/** One event as its own block: `<type>` + body + `</type>` (a step's arguments as attributes unless `args: "yaml"`). */
export function renderBlock(event: Event, options: RenderOptions): string | null {
  const custom = options.renderers?.[event.type];
  if (!custom && options.args !== "yaml" && isStep(event))
    return element(event.type, stepAttributes(event, options), []);
  const body = custom ? custom(event) : yamlBody(event, options);
  if (body === null) return null;
  if (!body.includes("\n")) return `<${event.type}>${body}</${event.type}>`;
  return `<${event.type}>\n${body}\n</${event.type}>`;
}

function yamlBody(event: Event, options: RenderOptions): string {
  let data = clean(event.data, options);
  // The tag already names the intent: `<add>a: 1</add>`, not `<add>intent: add …</add>`.
  const named = isRecord(data) && data.intent === event.type;
  if (named && !options.intentField) {
    const { intent: _named, ...args } = data as Record<string, unknown>;
    data = Object.keys(args).length > 0 ? args : null;
  }
  let body: string;
  if (typeof data === "string") body = data;
  else if (data === null || data === undefined) body = "";
  else body = toYaml(data);
  return event.meta?.kind === "result" ? truncate(body, options.maxResultChars ?? 8000) : body;
}
