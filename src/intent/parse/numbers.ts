/**
 * Numbers as people write them: `1,234.5`, `1.234,5`, `$1,000`, `12%`,
 * `1/2`, `3 kg`, "42, because…", "The total is $1,234.56.".
 *
 * The separator rule (docs/structured-output.md, "Numbers"):
 * - a string JSON reads as a number is read as JSON reads it (`1.234` is 1.234);
 * - with both `,` and `.`, the last one is the decimal mark (`1.234,5`);
 * - a repeated separator groups thousands (`1,234,567`, `1.234.567`);
 * - a single `,` followed by exactly three digits (`1,234`) reads two ways and
 *   is ambiguous, unless a `$`, `£` or `¥` before it says comma-thousands;
 *   any other single `,` is a decimal comma (`12,50`);
 * - `12%` is 12 (the sign is a unit, like `kg`); `1/2` is 0.5;
 * - number words ("three") are not read.
 */
export type NumberReading =
  | { ok: true; value: number }
  | { ok: false; ambiguous?: string[]; detail: string }
  | undefined;

/** Strict JSON number syntax (what `JSON.parse` and the step parser accept in a string). */
export const PLAIN_NUMBER = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;

/** Longer texts are not searched for a number (an essay is not a number). */
const MAX_TEXT = 2000;
const MARKDOWN = /[*_`~]+/g;
const TOKEN = /([-+\u2212]?)[ \t]?([$€£¥₹])?[ \t]?(\d[\d.,]*)(?:[ \t]*\/[ \t]*(\d+))?/g;
const LEADING = /^[-+\u2212]?[ \t]?[$€£¥₹]?[ \t]?\d/;

/** A plain JSON-syntax number, refusing integers that would lose digits. */
export function plainNumber(text: string): number | undefined {
  if (text.length > 40 || !PLAIN_NUMBER.test(text)) return undefined;
  const number = Number(text);
  const exact = !/^[-+]?\d+$/.test(text) || Number.isSafeInteger(number);
  return Number.isFinite(number) && exact ? number : undefined;
}

/**
 * The number a short text states. A text that starts with a number is that
 * number (the rest is a unit or a reason); otherwise the one number it
 * contains. Two different numbers: ambiguous. None: undefined.
 */
export function readNumber(input: string): NumberReading {
  if (input.length > MAX_TEXT) return undefined;
  const text = input.replace(MARKDOWN, "").trim();
  const plain = plainNumber(text);
  if (plain !== undefined) return { ok: true, value: plain };
  if (PLAIN_NUMBER.test(text)) return { ok: false, detail: `"${text}" has more digits than a number can hold` };
  const tokens: { value: number; text: string }[] = [];
  const problems: string[] = [];
  TOKEN.lastIndex = 0;
  for (let match = TOKEN.exec(text); match; match = TOKEN.exec(text)) {
    const [whole, sign, currency, digits, denominator] = match;
    const read = digitsValue(
      (digits as string).replace(/[.,]+$/, ""),
      currency !== undefined && "$£¥".includes(currency),
    );
    if (typeof read === "string") {
      problems.push(read);
      if (match.index === 0 || tokens.length === 0) tokens.push({ value: Number.NaN, text: whole.trim() });
      continue;
    }
    let value = read;
    if (denominator !== undefined) {
      const d = Number(denominator);
      if (d === 0) continue;
      value /= d;
    }
    if (sign === "-" || sign === "\u2212") value = -value;
    tokens.push({ value, text: whole.trim() });
    if (match.index === 0 && LEADING.test(text)) break;
  }
  const first = tokens[0];
  if (!first) return undefined;
  const leads = LEADING.test(text);
  if (Number.isNaN(first.value) && (leads || tokens.length === 1)) {
    const detail = problems[0] ?? `"${first.text}" is not a number`;
    // Only a lone `1,234` reads two ways; `1,23,456` is simply not a number here.
    return detail.includes(" could be ") ? { ok: false, ambiguous: [first.text], detail } : { ok: false, detail };
  }
  if (leads) return { ok: true, value: first.value };
  const values = [...new Set(tokens.filter((t) => !Number.isNaN(t.value)).map((t) => t.value))];
  if (values.length === 1) return { ok: true, value: values[0] as number };
  const named = tokens.map((t) => t.text);
  return {
    ok: false,
    ambiguous: named,
    detail: `the text names more than one number (${named.slice(0, 4).join(", ")})`,
  };
}

/** A run of digits and separators → its value, or why it cannot be read. */
function digitsValue(digits: string, currency: boolean): number | string {
  const commas = count(digits, ",");
  const dots = count(digits, ".");
  let integer: string;
  let fraction = "";
  if (commas > 0 && dots > 0) {
    const decimal = digits.lastIndexOf(",") > digits.lastIndexOf(".") ? "," : ".";
    const group = decimal === "," ? "." : ",";
    if (count(digits, decimal) > 1) return `"${digits}" has two decimal marks`;
    [integer, fraction] = digits.split(decimal) as [string, string];
    if (!grouped(integer, group)) return `"${digits}" is not grouped in thousands`;
    integer = integer.split(group).join("");
  } else if (commas + dots > 1) {
    const group = commas > 0 ? "," : ".";
    if (!grouped(digits, group)) return `"${digits}" is not grouped in thousands`;
    integer = digits.split(group).join("");
  } else if (commas === 1) {
    const [head, tail] = digits.split(",") as [string, string];
    if (tail.length === 3 && !head.startsWith("0")) {
      if (!currency) return `"${digits}" could be ${head}${tail} or ${head}.${tail}`;
      integer = head + tail;
    } else {
      integer = head;
      fraction = tail;
    }
  } else if (dots === 1) {
    [integer, fraction] = digits.split(".") as [string, string];
  } else {
    integer = digits;
  }
  const text = fraction ? `${integer}.${fraction}` : integer;
  const value = Number(text);
  if (!Number.isFinite(value) || (!fraction && !Number.isSafeInteger(value))) {
    return `"${digits}" has more digits than a number can hold`;
  }
  return value;
}

/** `1,234,567` with `,`: a first group of 1–3 digits, then groups of exactly three. */
function grouped(text: string, group: string): boolean {
  const parts = text.split(group);
  const head = parts[0] as string;
  return head.length >= 1 && head.length <= 3 && parts.slice(1).every((p) => p.length === 3);
}

function count(text: string, char: string): number {
  let n = 0;
  for (const c of text) if (c === char) n++;
  return n;
}
