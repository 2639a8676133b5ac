import type { PartialStep } from "../agent/partial.js";

/** The "erase this line" sequence: back to column 0, clear the line. */
const ERASE = "\r\x1b[2K";

export interface LiveLine {
  /** Shows a step's arguments so far, rewriting the one live line. */
  partial(partial: PartialStep): void;
  /** Erases the live line, if one is shown, so the next output starts on a clean line. */
  clear(): void;
}

/**
 * One terminal line rewritten as a step's arguments stream in
 * (`… note {"title":"Groceries","body":"milk…"}`), erased before anything
 * else is printed. Cut to the terminal's width so it never wraps (a wrapped
 * line cannot be rewritten in place). Only for terminals: piped output never
 * gets it, so it stays byte-identical.
 */
export function liveLine(write: (text: string) => void, columns: () => number | undefined, color: boolean): LiveLine {
  let shown = false;
  return {
    partial(partial) {
      if (partial.intent === undefined) return;
      // A terminal that reports no size (0, as under `script` without one) counts as 80 wide.
      const reported = columns() ?? 0;
      const width = Math.max(20, (reported > 0 ? reported : 80) - 1);
      const text = clip(`… ${partial.intent} ${JSON.stringify(markOpen(partial))}`, width);
      write(`${ERASE}${color ? `\x1b[2m${text}\x1b[0m` : text}`);
      shown = true;
    },
    clear() {
      if (!shown) return;
      write(ERASE);
      shown = false;
    },
  };
}

/** The arguments with "…" after each string still being written. */
function markOpen(partial: PartialStep): unknown {
  if (partial.incomplete.length === 0) return partial.value;
  const value = structuredClone(partial.value) as Record<string, unknown>;
  for (const pointer of partial.incomplete) {
    const keys = pointer
      .split("/")
      .slice(1)
      .map((k) => k.replaceAll("~1", "/").replaceAll("~0", "~"));
    const last = keys.pop();
    let here: unknown = value;
    for (const key of keys)
      here = here && typeof here === "object" ? (here as Record<string, unknown>)[key] : undefined;
    if (last !== undefined && here && typeof here === "object") {
      const holder = here as Record<string, unknown>;
      if (typeof holder[last] === "string") holder[last] = `${holder[last]}…`;
    }
  }
  return value;
}

/** At most `width` characters (code points), control characters shown as spaces, cut with "…". */
function clip(text: string, width: number): string {
  const chars = Array.from(text, (c) => (c.charCodeAt(0) < 32 || c === "\u007f" ? " " : c));
  return chars.length <= width ? chars.join("") : `${chars.slice(0, width - 1).join("")}…`;
}
