/** Small helpers shared by the HTTP adapters. */

/** Tool-call arguments: parsed when they are valid JSON, otherwise the raw string (the parser reports it). */
export function parseArguments(raw: string | undefined | null): unknown {
  if (raw === undefined || raw === null || raw.trim() === "") return {};
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** Arguments as the wire wants them: a JSON string. */
export function stringifyArguments(args: unknown): string {
  return typeof args === "string" ? args : JSON.stringify(args ?? {});
}

export function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}
