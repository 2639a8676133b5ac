import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineIntent } from "../../src/intent/intent.js";
import { parsePartial, parsePartialArguments, parsePartialStep } from "../../src/intent/parse/partial.js";

/** A sample schema with every kind of field a stream fills in: strings, numbers, enums, lists, nesting, nulls. */
const ticket = z.object({
  title: z.string(),
  count: z.number().int(),
  ratio: z.number(),
  done: z.boolean(),
  kind: z.enum(["bug", "bugfix", "feature"]),
  tags: z.array(z.string()),
  owner: z.object({ name: z.string(), age: z.number().int() }).optional(),
  note: z.string().nullable(),
  items: z.array(z.object({ id: z.number().int(), label: z.string() })),
});
type Ticket = z.output<typeof ticket>;

const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 8 }),
  fc.constantFrom('say "hi"', "back\\slash", "line\nbreak", "{[not json]}", "ünï", "emoji 🎉"),
);
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n));
const tickets: fc.Arbitrary<Ticket> = fc.record(
  {
    title: text,
    count: fc.integer(),
    ratio: finite,
    done: fc.boolean(),
    kind: fc.constantFrom("bug", "bugfix", "feature"),
    tags: fc.array(text, { maxLength: 3 }),
    owner: fc.record({ name: text, age: fc.nat(120) }),
    note: fc.option(text, { nil: null }),
    items: fc.array(fc.record({ id: fc.integer(), label: text }), { maxLength: 3 }),
  },
  { requiredKeys: ["title", "count", "ratio", "done", "kind", "tags", "note", "items"] },
);

/** Renderings a model streams: compact, pretty, fenced after a sentence. */
const render = fc.constantFrom(
  (v: unknown) => JSON.stringify(v),
  (v: unknown) => JSON.stringify(v, null, 2),
  (v: unknown) => `Here is the ticket:\n\`\`\`json\n${JSON.stringify(v, null, 1)}\n\`\`\`\n`,
);

type Leaf = { path: string; value: unknown };

/** Every leaf (scalar, or empty container) with its JSON pointer. */
function leavesOf(value: unknown, path = ""): Leaf[] {
  if (Array.isArray(value)) {
    return value.length === 0 ? [{ path, value: [] }] : value.flatMap((v, i) => leavesOf(v, `${path}/${i}`));
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    return entries.length === 0 ? [{ path, value: {} }] : entries.flatMap(([k, v]) => leavesOf(v, `${path}/${k}`));
  }
  return [{ path, value }];
}

function at(value: unknown, pointer: string): unknown {
  let here = value;
  for (const key of pointer.split("/").slice(1)) {
    if (here === null || typeof here !== "object" || !Object.hasOwn(here, key)) return undefined;
    here = (here as Record<string, unknown>)[key];
  }
  return here;
}

describe("parsePartial", () => {
  it("property: every prefix parses; finished fields keep their value; open strings grow; the full text gives the value", () => {
    fc.assert(
      fc.property(tickets, render, (value, show) => {
        const full = show(value);
        let previous: Map<string, unknown> | undefined;
        for (let end = 0; end <= full.length; end++) {
          const partial = parsePartial(full.slice(0, end), ticket);
          const finished = new Map<string, unknown>();
          for (const leaf of partial.value === undefined ? [] : leavesOf(partial.value)) {
            const expected = at(value, leaf.path);
            if (partial.incomplete.includes(leaf.path)) {
              // A string still being written is a prefix of the string it becomes.
              expect(typeof leaf.value).toBe("string");
              expect(String(expected).startsWith(leaf.value as string)).toBe(true);
            } else if (Array.isArray(leaf.value) || (leaf.value !== null && typeof leaf.value === "object")) {
              // An empty container may still fill up; its place in the value is right.
              expect(typeof expected).toBe("object");
            } else {
              expect(leaf.value).toEqual(expected);
              finished.set(leaf.path, leaf.value);
            }
          }
          for (const [path, was] of previous ?? []) expect(finished.get(path)).toEqual(was);
          previous = finished;
          if (end < full.length) expect(partial.complete).toBe(end >= full.lastIndexOf("}") + 1);
        }
        const whole = parsePartial(full, ticket);
        expect(whole).toEqual({ value, incomplete: [], complete: true });
      }),
      { numRuns: 60 },
    );
  });

  it("drops a dangling key, a half-written number and a half-written literal", () => {
    expect(parsePartial('{"title": "a", "cou', ticket).value).toEqual({ title: "a" });
    expect(parsePartial('{"title": "a", "count"', ticket).value).toEqual({ title: "a" });
    expect(parsePartial('{"title": "a", "count": 1', ticket).value).toEqual({ title: "a" });
    expect(parsePartial('{"title": "a", "count": 12,', ticket).value).toEqual({ title: "a", count: 12 });
    expect(parsePartial('{"done": tru', ticket).value).toEqual({});
    expect(parsePartial('{"done": true ', ticket).value).toEqual({ done: true });
  });

  it("marks the open string with a JSON pointer, nested in lists and objects", () => {
    const partial = parsePartial('{"items": [{"id": 1, "label": "fir', ticket);
    expect(partial).toEqual({
      value: { items: [{ id: 1, label: "fir" }] },
      incomplete: ["/items/0/label"],
      complete: false,
    });
    expect(parsePartial('{"owner": {"name": "Ad', ticket).incomplete).toEqual(["/owner/name"]);
  });

  it("does not show a half-written enum value, even one that is a valid value already", () => {
    // "bug" is a prefix of "bugfix": it is known only once the string closes.
    expect(parsePartial('{"kind": "bug', ticket).value).toEqual({});
    expect(parsePartial('{"kind": "bug"', ticket).value).toEqual({ kind: "bug" });
  });

  it("leaves out a finished field that does not fit the schema, and keeps going", () => {
    expect(parsePartial('{"count": "many", "title": "x"', ticket).value).toEqual({ title: "x" });
    // Lenient alignment applies as in the full parser: "12" for a number, loose enum names.
    expect(parsePartial('{"count": "12", "kind": "Feature", "title": "x', ticket).value).toEqual({
      count: 12,
      kind: "feature",
      title: "x",
    });
  });

  it("reads lenient JSON slips in a prefix: single quotes, bare keys, comments, trailing commas, Python literals", () => {
    const partial = parsePartial(
      "{title: 'it''s', // a comment\n done: True, tags: ['a',], note: None, kind: 'bu",
      ticket,
    );
    expect(partial.value).toEqual({ title: "it''s", done: true, tags: ["a"], note: null });
  });

  it("reads key: value lines; the last line is still open", () => {
    const partial = parsePartial("title: Broken login\ncount: 3\nnote: users can", ticket);
    expect(partial).toEqual({
      value: { title: "Broken login", count: 3, note: "users can" },
      incomplete: ["/note"],
      complete: false,
    });
  });

  it("a discriminated union follows the member its tag names, once the tag has arrived", () => {
    const contact = z.discriminatedUnion("kind", [
      z.object({ kind: z.literal("email"), address: z.string() }),
      z.object({ kind: z.literal("phone"), number: z.string(), ext: z.number().optional() }),
    ]);
    expect(parsePartial('{"kind": "pho', contact).value).toEqual({});
    expect(parsePartial('{"kind": "phone", "number": "+44 20', contact)).toEqual({
      value: { kind: "phone", number: "+44 20" },
      incomplete: ["/number"],
      complete: false,
    });
    expect(parsePartial('{"kind": "phone", "number": "1", "ext": 12}', contact)).toEqual({
      value: { kind: "phone", number: "1", ext: 12 },
      incomplete: [],
      complete: true,
    });
  });

  it("a recursive schema (z.lazy) fills in at any depth", () => {
    type Tree = { name: string; children: Tree[] };
    const tree: z.ZodType<Tree> = z.lazy(() => z.object({ name: z.string(), children: z.array(tree) }));
    const partial = parsePartial('{"name": "root", "children": [{"name": "a", "children": []}, {"name": "b', tree);
    expect(partial).toEqual({
      value: { name: "root", children: [{ name: "a", children: [] }, { name: "b" }] },
      incomplete: ["/children/1/name"],
      complete: false,
    });
  });

  it("a closed answer that is not valid yet is not complete", () => {
    const partial = parsePartial('{"title": "x"}', ticket);
    expect(partial).toEqual({ value: { title: "x" }, incomplete: [], complete: false });
  });

  it("never throws on text that is not a prefix of an answer", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (junk) => {
        const partial = parsePartial(junk, ticket);
        expect(Array.isArray(partial.incomplete)).toBe(true);
      }),
      { numRuns: 300 },
    );
    expect(parsePartial("[".repeat(5000), ticket).complete).toBe(false);
    expect(parsePartial(`{"title": "${"x".repeat(1_048_577)}`, ticket)).toEqual({
      value: undefined,
      incomplete: [],
      complete: false,
    });
  });
});

const add = defineIntent("add", z.object({ a: z.number(), b: z.number(), why: z.string().optional() }), {
  description: "Add",
});
const note = defineIntent("note", z.object({ text: z.string() }), { description: "Note" });

describe("parsePartialStep", () => {
  it("names the intent once its name has arrived, then fills its arguments", () => {
    expect(parsePartialStep('{"intent": "ad', [add, note])).toEqual({ value: {}, incomplete: [], complete: false });
    expect(parsePartialStep('{"intent": "add", "a": 1, "why": "be', [add, note])).toEqual({
      intent: "add",
      value: { a: 1, why: "be" },
      incomplete: ["/why"],
      complete: false,
    });
    expect(parsePartialStep('{"intent": "add", "a": 1, "b": 2}', [add, note])).toEqual({
      intent: "add",
      value: { a: 1, b: 2 },
      incomplete: [],
      complete: true,
    });
  });

  it("looks through json mode's {step: …} wrapper and a fence", () => {
    expect(parsePartialStep('{"step": {"intent": "note", "text": "hel', [add, note])).toMatchObject({
      intent: "note",
      value: { text: "hel" },
      incomplete: ["/text"],
    });
    expect(parsePartialStep('Noting.\n```json\n{"intent": "Note", "text": "hel', [add, note])).toMatchObject({
      intent: "note",
      value: { text: "hel" },
    });
  });

  it("reads a tool-call-shaped answer: {name, arguments}", () => {
    expect(parsePartialStep('{"name": "note", "arguments": {"text": "hel', [add, note])).toEqual({
      intent: "note",
      value: { text: "hel" },
      incomplete: ["/text"],
      complete: false,
    });
  });

  it("an unknown intent gives nothing", () => {
    expect(parsePartialStep('{"intent": "launch", "x": 1', [add, note])).toEqual({
      value: {},
      incomplete: [],
      complete: false,
    });
  });

  it("tool-call arguments: a prefix of the arguments JSON for a known intent", () => {
    expect(parsePartialArguments('{"a": 4, "b": 2', add)).toEqual({
      intent: "add",
      value: { a: 4 },
      incomplete: [],
      complete: false,
    });
    expect(parsePartialArguments("", add)).toEqual({ intent: "add", value: {}, incomplete: [], complete: false });
  });
});
