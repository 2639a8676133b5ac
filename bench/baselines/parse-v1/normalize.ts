/**
 * Loose name matching for enums, literals, intent names and object keys:
 * case, whitespace and word separators (`-`, `_`) do not count, so
 * `"Free Text"`, `"free-text"` and `"FREE_TEXT"` all match `free_text`, and
 * `dueDate` matches `due_date`. Long strings never match (names are short).
 */
export function looseName(text: string): string {
  if (text.length > 256) return "";
  return text.toLowerCase().replace(/[\s_-]+/g, "");
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
