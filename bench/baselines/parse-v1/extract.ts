/**
 * Finds the JSON-looking blocks in a model's answer with linear scans (no
 * backtracking regexes): markdown fences, and balanced `{…}` / `[{…}]`
 * spans outside strings, including an unclosed span at the end (a
 * truncated answer). The parser tries them last-first.
 */
export interface Candidate {
  text: string;
  start: number;
  end: number;
  /** Inside a markdown fence: its info string (`json`, `""`, …). */
  fence?: string;
  /** The span was still open at the end of the answer; these closers are missing. */
  missing?: string;
  /** Deepest nesting inside the span (scanned spans only). */
  depth?: number;
}

interface Fence {
  start: number;
  end: number;
  contentStart: number;
  contentEnd: number;
  tag: string;
}

/** How many spans are kept (the last ones): bounds work on answers made of many small blocks. */
const MAX_SPANS = 24;
/** How often an unclosed span is rescanned from its next character (a stray `{` in prose). */
const MAX_RESCANS = 3;

export function findCandidates(text: string): Candidate[] {
  const fences = findFences(text);
  const spans: Candidate[] = [];
  let from = 0;
  for (let round = 0; round <= MAX_RESCANS; round++) {
    const { found, innerClosed } = scanSpans(text, from);
    spans.push(...found);
    const open = found[found.length - 1];
    // Rescan an unclosed span only if a complete block sits inside it (a stray `{` before the answer).
    if (!open?.missing || !innerClosed) break;
    from = open.start + 1;
  }
  for (const fence of fences) {
    const inner = trimRange(text, fence.contentStart, fence.contentEnd);
    const first = text[inner.start];
    if (first !== "{" && first !== "[") continue;
    if (spans.some((s) => s.start === inner.start && s.end === inner.end)) continue;
    spans.push({ text: text.slice(inner.start, inner.end), start: inner.start, end: inner.end });
  }
  for (const span of spans) {
    const fence = fences.find((f) => span.start >= f.contentStart && span.end <= f.end);
    if (fence) span.fence = fence.tag;
  }
  // Last-first: the answer usually follows the reasoning; an outer span before the spans inside it.
  spans.sort((a, b) => b.end - a.end || a.start - b.start);
  return dedupe(spans).slice(0, MAX_SPANS + fences.length);
}

function dedupe(spans: Candidate[]): Candidate[] {
  const seen = new Set<string>();
  return spans.filter((s) => {
    const key = `${s.start}:${s.end}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function trimRange(text: string, start: number, end: number): { start: number; end: number } {
  let s = start;
  let e = end;
  while (s < e && isSpace(text.charCodeAt(s))) s++;
  while (e > s && isSpace(text.charCodeAt(e - 1))) e--;
  return { start: s, end: e };
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 0xa0 || c === 0xfeff;
}

/** Markdown fences: "```tag\n … ```"; an unclosed last fence runs to the end (truncated answers). */
export function findFences(text: string): Fence[] {
  const fences: Fence[] = [];
  let at = text.indexOf("```");
  while (at >= 0 && fences.length < 64) {
    let tagEnd = at + 3;
    while (tagEnd < text.length && text[tagEnd] === "`") tagEnd++;
    const newline = text.indexOf("\n", tagEnd);
    const lineEnd = newline < 0 ? text.length : newline;
    const tag = text.slice(tagEnd, lineEnd).trim().slice(0, 40);
    // A tag with a brace in it means the content started on the fence line: "```{...}```".
    const inline = tag.includes("{") || tag.includes("[");
    const contentStart = inline ? tagEnd : Math.min(lineEnd + 1, text.length);
    const close = text.indexOf("```", contentStart);
    const contentEnd = close < 0 ? text.length : close;
    const end = close < 0 ? text.length : close + 3;
    fences.push({ start: at, end, contentStart, contentEnd, tag: inline ? "" : tag });
    if (close < 0) break;
    at = text.indexOf("```", end);
  }
  return fences;
}

/**
 * One linear pass from `from`: every top-level `{…}` (and `[` directly
 * followed by `{`) with its extent, skipping strings and comments inside.
 * Single-quoted strings are recognised only where a value or key may start,
 * so apostrophes in prose do not derail the scan. Keeps the last MAX_SPANS.
 */
function scanSpans(text: string, from: number): { found: Candidate[]; innerClosed: boolean } {
  const spans: Candidate[] = [];
  const stack: number[] = []; // expected closer char codes
  let innerClosed = false; // a nested block closed back to depth 1 since the last top-level open
  let deepest = 0;
  let start = -1;
  let quote = 0; // 0, 34 (") or 39 (')
  let last = 0; // last significant char code outside strings
  const n = text.length;
  for (let i = from; i < n; i++) {
    const c = text.charCodeAt(i);
    if (quote !== 0) {
      if (c === 92) {
        i++;
      } else if (c === quote && (quote === 34 || closesSingle(text, i + 1))) {
        quote = 0;
        last = c;
      }
      continue;
    }
    if (stack.length === 0) {
      if (c === 123 || (c === 91 && nextSignificant(text, i + 1) === 123)) {
        start = i;
        innerClosed = false;
        deepest = 1;
        stack.push(c === 123 ? 125 : 93);
        last = c;
      }
      continue;
    }
    if (c === 123 || c === 91) {
      stack.push(c === 123 ? 125 : 93);
      if (stack.length > deepest) deepest = stack.length;
    } else if (c === 125 || c === 93) {
      stack.pop();
      if (stack.length === 1) innerClosed = true;
      if (stack.length === 0) {
        spans.push({ text: text.slice(start, i + 1), start, end: i + 1, depth: deepest });
        if (spans.length > MAX_SPANS) spans.shift();
      }
    } else if (c === 34) {
      quote = 34;
    } else if (c === 39 && (last === 123 || last === 91 || last === 44 || last === 58)) {
      quote = 39;
    } else if (c === 47 && text.charCodeAt(i + 1) === 47) {
      const eol = text.indexOf("\n", i);
      i = eol < 0 ? n : eol;
      continue;
    } else if (c === 47 && text.charCodeAt(i + 1) === 42) {
      const close = text.indexOf("*/", i + 2);
      i = close < 0 ? n : close + 1;
      continue;
    }
    if (!isSpace(c)) last = c;
  }
  if (stack.length > 0 && start >= 0) {
    let closers = quote !== 0 ? String.fromCharCode(quote) : "";
    for (let k = stack.length - 1; k >= 0 && closers.length < 64; k--) closers += String.fromCharCode(stack[k] ?? 125);
    spans.push({ text: text.slice(start), start, end: n, missing: closers, depth: deepest });
  }
  return { found: spans, innerClosed };
}

/** A single quote ends a string only if a JSON delimiter (or the end) follows. */
function closesSingle(text: string, at: number): boolean {
  const next = nextSignificant(text, at);
  return next === -1 || next === 44 || next === 125 || next === 93 || next === 58;
}

function nextSignificant(text: string, at: number): number {
  for (let i = at; i < text.length && i < at + 256; i++) {
    const c = text.charCodeAt(i);
    if (!isSpace(c)) return c;
  }
  return -1;
}
