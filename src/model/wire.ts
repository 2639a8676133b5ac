/** Small helpers shared by the HTTP adapters. */

/** Tool-call arguments: parsed when they are valid JSON, otherwise the raw string (the parser reports it). */
export function parseArguments(raw: unknown): unknown {
  // Some OpenAI-compatible servers send arguments as an object, not a JSON string.
  if (typeof raw !== "string") return raw ?? {};
  if (raw.trim() === "") return {};
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

/**
 * Providers' JSON-schema modes want an object at the root (OpenAI rejects a
 * root `anyOf`), but the step union of several intents is an `anyOf`. So the
 * union travels wrapped as `{"step": <union>}` and the answer is unwrapped
 * back to the step's own JSON text. A single-intent schema (already an
 * object) is sent as is.
 */
export function jsonModeSchema(stepSchema: Record<string, unknown>): {
  schema: Record<string, unknown>;
  unwrap: (text: string) => string;
} {
  if (stepSchema.type === "object" && !("anyOf" in stepSchema) && !("oneOf" in stepSchema)) {
    return { schema: stepSchema, unwrap: (text) => text };
  }
  return {
    schema: { type: "object", properties: { step: stepSchema }, required: ["step"], additionalProperties: false },
    unwrap: (text) => {
      try {
        const value = JSON.parse(text) as { step?: unknown };
        return value && typeof value === "object" && "step" in value ? JSON.stringify(value.step) : text;
      } catch {
        return text;
      }
    },
  };
}
