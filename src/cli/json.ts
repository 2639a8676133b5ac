import { TwelveError } from "../errors/index.js";

/**
 * How deeply arrays and objects may nest in JSON the CLI reads (thread
 * files, --edit, --result). JSON.parse itself takes any depth, but storing,
 * cloning and hashing such a value recurse and overflow the stack a few
 * thousand levels down; no real thread comes near this.
 */
export const MAX_JSON_DEPTH = 512;

/** The offset in `text` where arrays and objects nest deeper than `max`, or -1. Strings are skipped. */
export function nestedTooDeep(text: string, max = MAX_JSON_DEPTH): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max) return i;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
  }
  return -1;
}

/**
 * JSON.parse that refuses values nested deeper than MAX_JSON_DEPTH with a
 * clear TwelveError (`code`, message starting with `what`) instead of a
 * RangeError later, and names `what` when the text is not JSON.
 */
export function parseJsonText(text: string, what: string, code = "invalid_thread"): unknown {
  const at = nestedTooDeep(text);
  if (at >= 0) {
    throw new TwelveError(
      code,
      `${what} is too deeply nested: more than ${MAX_JSON_DEPTH} levels of arrays/objects (at character ${at})`,
      { maxDepth: MAX_JSON_DEPTH, offset: at },
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TwelveError(code, `${what} is not valid JSON: ${(error as Error).message}`);
  }
}
