/**
 * Loose name matching for enums, literals, intent names and object keys:
 * case, accents, Unicode normalization (NFC/NFD), whitespace and word
 * separators (`-`, `_`) do not count, so
 * `"Free Text"`, `"free-text"` and `"FREE_TEXT"` all match `free_text`, and
 * `dueDate` matches `due_date`. Long strings never match (names are short).
 */
export function looseName(text: string): string {
  if (text.length > 256) return "";
  return fold(text).replace(/[\s_-]+/g, "");
}

const NON_ASCII = /[\u0080-\uffff]/;
const MARKS = /\p{M}+/gu;

/**
 * Lower case without accents, so `Señor`, `senor` and a decomposed (NFD)
 * `señor` compare equal. ASCII text (the common case) skips normalization.
 */
export function fold(text: string): string {
  if (!NON_ASCII.test(text)) return text.toLowerCase();
  return text.normalize("NFKD").replace(MARKS, "").normalize("NFC").toLowerCase();
}

/**
 * The one candidate equal to `value` under `looseName`; undefined when none
 * or several match (ambiguous: no guessing).
 */
export function matchLoose<T>(value: string, candidates: Iterable<T>, nameOf: (c: T) => string): T | undefined {
  const wanted = looseName(value);
  if (wanted === "") return undefined;
  let found: T | undefined;
  let count = 0;
  for (const candidate of candidates) {
    if (looseName(nameOf(candidate)) === wanted) {
      found = candidate;
      count++;
    }
  }
  return count === 1 ? found : undefined;
}
