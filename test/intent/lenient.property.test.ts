import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ParseError, parseLenient } from "../../src/intent/parse/index.js";
import { arbitraryOf, arbitrarySchema } from "./arbitrary.js";

/**
 * parseLenient properties: take a valid value, perturb it the way models do
 * (strings unquoted, numbers formatted for people, a scalar wrapped in prose,
 * code fenced, text decomposed NFC → NFD, a list split into top-level
 * objects), and it must parse back to the same value.
 */
function runs(fallback: number): number {
  const wanted = Number(process.env.PARSE_PROPERTY_RUNS);
  return Number.isInteger(wanted) && wanted > 0 ? wanted : fallback;
}

const word = fc.stringMatching(/^[a-z]{1,8}$/).filter((w) => !["null", "true", "false"].includes(w));
/** Prose-like values: words, spaces, commas, periods and line breaks (no `:`, quotes or brackets). */
const phrase = fc
  .array(fc.tuple(word, fc.constantFrom(" ", " ", ", ", ". ", "\n")), { minLength: 1, maxLength: 8 })
  .map((parts) =>
    parts
      .map(([w, sep]) => w + sep)
      .join("")
      .replace(/[\s,.]+$/, ""),
  );

const schemaAndValue = arbitrarySchema.chain((schema) => arbitraryOf(schema).map((value) => ({ schema, value })));

describe("parseLenient properties", () => {
  it("never changes a valid value and reports no repairs, whatever the schema", () => {
    fc.assert(
      fc.property(schemaAndValue, ({ schema, value }) => {
        const parsed = parseLenient(JSON.stringify(value), schema);
        expect(parsed.value).toEqual(schema.parse(value));
        expect(parsed.repairs).toEqual([]);
      }),
      { numRuns: runs(300) },
    );
  });

  it("recovers a valid value from a fenced, indented, trailing-comma answer after prose, whatever the schema", () => {
    fc.assert(
      fc.property(
        schemaAndValue,
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom("", "Here is the result:", "Let me extract that."),
        ({ schema, value }, fence, trailing, before) => {
          let json = JSON.stringify(value, null, 2);
          if (trailing && json.endsWith("\n}")) json = `${json.slice(0, -2)},\n}`;
          const body = fence ? `\`\`\`json\n${json}\n\`\`\`` : json;
          const parsed = parseLenient(before ? `${before}\n${body}` : body, schema);
          expect(parsed.value).toEqual(schema.parse(value));
          const allowed = new Set(["fence_stripped", "text_dropped", "trailing_comma"]);
          for (const repair of parsed.repairs) expect(allowed, JSON.stringify(repair)).toContain(repair.kind);
        },
      ),
      { numRuns: runs(300) },
    );
  });

  it("arbitrary text against any schema throws nothing but ParseError", () => {
    fc.assert(
      fc.property(arbitrarySchema, fc.string({ maxLength: 200 }), (schema, text) => {
        try {
          parseLenient(text, schema);
        } catch (error) {
          expect(error).toBeInstanceOf(ParseError);
        }
      }),
      { numRuns: runs(300) },
    );
  });

  it("strings left unquoted inside an object parse back", () => {
    const schema = z.object({ title: z.string(), body: z.string(), count: z.number().int() });
    fc.assert(
      fc.property(phrase, phrase, fc.integer({ min: -1000, max: 1000 }), fc.boolean(), (title, body, count, lines) => {
        const sep = lines ? "\n  " : ", ";
        const text = `{${sep === ", " ? "" : "\n  "}title: ${title}${sep}body: ${body}${sep}count: ${count}${lines ? "\n" : ""}}`;
        const parsed = parseLenient(text, schema);
        expect(parsed.value).toEqual({ title, body, count });
      }),
      { numRuns: runs(300) },
    );
  });

  it("strings with unescaped inner quotes parse back", () => {
    const schema = z.object({ title: z.string(), body: z.string() });
    const quotedPhrase = fc.tuple(phrase, word, phrase).map(([a, w, b]) => `${a} "${w}" ${b}`);
    fc.assert(
      fc.property(quotedPhrase, phrase, (title, body) => {
        const parsed = parseLenient(`{"title": "${title}", "body": "${body}"}`, schema);
        expect(parsed.value).toEqual({ title, body });
      }),
      { numRuns: runs(300) },
    );
  });

  it("numbers formatted with thousands separators and currency parse back", () => {
    const schema = z.object({ item: z.string(), price: z.number() });
    const group = (digits: string, sep: string) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, sep);
    fc.assert(
      fc.property(
        fc.integer({ min: 100_000, max: 9_999_999_999 }),
        fc.constantFrom("en$", "en-code", "de€", "de-bare"),
        (cents, style) => {
          const whole = String(Math.floor(cents / 100));
          const fraction = String(cents % 100).padStart(2, "0");
          const text =
            style === "en$"
              ? `$${group(whole, ",")}.${fraction}`
              : style === "en-code"
                ? `${group(whole, ",")}.${fraction} USD`
                : style === "de€"
                  ? `${group(whole, ".")},${fraction} €`
                  : `${group(whole, ".")},${fraction}`;
          const parsed = parseLenient(JSON.stringify({ item: "lamp", price: text }), schema);
          expect(parsed.value).toEqual({ item: "lamp", price: cents / 100 });
          expect(parsed.repairs.map((r) => r.kind)).toEqual(["number_from_text"]);
        },
      ),
      { numRuns: runs(300) },
    );
  });

  it("an enum value wrapped in prose, markdown and another case parses back", () => {
    const values = ["billing", "shipping", "technical_support", "other"] as const;
    const schema = z.enum(values);
    const styles = fc.constantFrom(
      (v: string) => `The category is **${v}**, because the user asked.`,
      (v: string) => `Category: \`${v}\`.`,
      (v: string) => `## ${v}`,
      (v: string) => `I would say ${v}!`,
      (v: string) => `${v}.`,
    );
    const cases = fc.constantFrom(
      (v: string) => v,
      (v: string) => v.toUpperCase(),
      (v: string) => v.replace(/_/g, " "),
      (v: string) => v.replace(/_/g, "-").replace(/^./, (c) => c.toUpperCase()),
    );
    fc.assert(
      fc.property(fc.constantFrom(...values), styles, cases, (value, style, spell) => {
        expect(parseLenient(style(spell(value)), schema).value).toBe(value);
      }),
      { numRuns: runs(200) },
    );
  });

  it("a number wrapped in prose or followed by a unit parses back", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -999, max: 999 }),
        fc.constantFrom("", " kg", " items", "%", ", because I counted"),
        fc.boolean(),
        (n, unit, sentence) => {
          const text = sentence ? `The answer is ${n}${unit}.` : `${n}${unit}`;
          expect(parseLenient(text, z.number()).value).toBe(n);
        },
      ),
      { numRuns: runs(200) },
    );
  });

  it("code in a backtick fence or triple quotes parses back, dedented, info string dropped", () => {
    const schema = z.object({ language: z.string(), code: z.string() });
    const line = fc
      .tuple(fc.integer({ min: 0, max: 3 }), fc.stringMatching(/^[a-z(){}=;"' +.]{1,20}$/))
      .map(([indent, body]) => `${"  ".repeat(indent)}${body.trim() || "x"}`);
    const code = fc
      .array(line, { minLength: 1, maxLength: 6 })
      .map((lines) => {
        const min = Math.min(...lines.map((l) => l.length - l.trimStart().length));
        return lines.map((l) => l.slice(min)).join("\n");
      })
      .filter((c) => !c.includes('"""'));
    fc.assert(
      fc.property(code, fc.constantFrom("fence", "triple"), fc.integer({ min: 0, max: 6 }), (body, style, pad) => {
        const indented = body
          .split("\n")
          .map((l) => " ".repeat(pad) + l)
          .join("\n");
        const value =
          style === "fence" ? `\`\`\`python\n${indented}\n\`\`\`` : `"""\n${indented}\n${" ".repeat(pad)}"""`;
        const parsed = parseLenient(`{"language": "python", "code": ${value}}`, schema);
        expect(parsed.value).toEqual({ language: "python", code: body });
      }),
      { numRuns: runs(300) },
    );
  });

  it("keys and enum values decomposed (NFC → NFD) or stripped of accents parse back", () => {
    const schema = z.object({ título: z.string(), año: z.number(), trato: z.enum(["señor", "señora", "niño"]) });
    fc.assert(
      fc.property(
        word,
        fc.integer({ min: 1900, max: 2100 }),
        fc.constantFrom("señor", "señora", "niño"),
        fc.constantFrom("NFD", "ascii", "upper"),
        (title, year, trato, form) => {
          const change = (text: string) =>
            form === "NFD"
              ? text.normalize("NFD")
              : form === "ascii"
                ? text.normalize("NFD").replace(/\p{M}/gu, "")
                : text.toUpperCase();
          const text = `{"${change("título")}": "${title}", "${change("año")}": ${year}, "trato": "${change(trato)}"}`;
          expect(parseLenient(text, schema).value).toEqual({ título: title, año: year, trato });
        },
      ),
      { numRuns: runs(200) },
    );
  });

  it("a list split into top-level objects (lines, prose, fences) parses back", () => {
    const person = z.object({ name: z.string(), age: z.number().int() });
    const people = fc.array(fc.record({ name: word, age: fc.integer({ min: 0, max: 120 }) }), {
      minLength: 2,
      maxLength: 6,
    });
    fc.assert(
      fc.property(people, fc.constantFrom("lines", "prose", "fences"), (list, style) => {
        const blocks = list.map((p) => JSON.stringify(p));
        const text =
          style === "lines"
            ? blocks.join("\n")
            : style === "prose"
              ? blocks.map((b, i) => `Person ${i + 1}: ${b}.`).join(" ")
              : blocks.map((b) => `\`\`\`json\n${b}\n\`\`\``).join("\n");
        const parsed = parseLenient(text, z.array(person));
        expect(parsed.value).toEqual(list);
        expect(parsed.repairs.map((r) => r.kind)).toContain("objects_collected");
      }),
      { numRuns: runs(200) },
    );
  });

  it("any JSON value parses back unchanged, without repairs, against a recursive JSON-value schema", () => {
    type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
    const json: z.ZodType<Json> = z.lazy(() =>
      z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(json), z.record(z.string(), json)]),
    );
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (value) => {
        const text = JSON.stringify(value);
        const decoded = JSON.parse(text) as unknown;
        if (typeof decoded === "string") return; // a bare JSON string is text: covered by the corpus
        // zod's own output is the reference (its records drop a "__proto__" key).
        const expected = json.parse(decoded);
        const parsed = parseLenient(text, json);
        expect(parsed.value).toEqual(expected);
        expect(parsed.repairs).toEqual([]);
      }),
      { numRuns: runs(300) },
    );
  });
});
