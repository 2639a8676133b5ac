import { createHash } from "node:crypto";

/**
 * Turns whatever a handler returned into a value JSON keeps exactly, so a
 * side effect that succeeded is always recorded as a result, never as an
 * error (a thrown JSON.stringify would make the model retry it). BigInt
 * becomes a decimal string, Date an ISO string, Map an object (or entry
 * pairs when a key is not a string), Set an array, a typed array an array,
 * an Error `{name, message}`, a repeated reference `"[Circular]"`;
 * functions and symbols are dropped as JSON drops them; objects with
 * `toJSON` use it.
 */
export function toJsonSafe(value: unknown): unknown {
  return normalise(value, new WeakSet<object>());
}

function normalise(value: unknown, ancestors: WeakSet<object>): unknown {
  switch (typeof value) {
    case "undefined":
    case "function":
    case "symbol":
      return null;
    case "bigint":
      return value.toString();
    case "number":
      return Number.isFinite(value) ? value : null;
    case "string":
    case "boolean":
      return value;
  }
  if (value === null) return null;
  const object = value as object;
  if (ancestors.has(object)) return "[Circular]";
  if (object instanceof Date) return Number.isNaN(object.getTime()) ? null : object.toISOString();
  ancestors.add(object);
  try {
    return normaliseObject(object, ancestors);
  } finally {
    ancestors.delete(object);
  }
}

function normaliseObject(object: object, ancestors: WeakSet<object>): unknown {
  const toJSON = (object as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") return normalise(toJSON.call(object), ancestors);
  if (Array.isArray(object)) return object.map((v) => normalise(v, ancestors));
  if (ArrayBuffer.isView(object))
    return Array.from(object as unknown as ArrayLike<number | bigint>, (v) => normalise(v, ancestors));
  if (object instanceof Set) return [...object].map((v) => normalise(v, ancestors));
  if (object instanceof Map) {
    const entries = [...object.entries()];
    if (entries.every(([k]) => typeof k === "string")) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of entries) put(out, k as string, normalise(v, ancestors));
      return out;
    }
    return entries.map(([k, v]) => [normalise(k, ancestors), normalise(v, ancestors)]);
  }
  if (object instanceof Error) {
    const out: Record<string, unknown> = { name: object.name, message: object.message };
    for (const [k, v] of Object.entries(object)) put(out, k, normalise(v, ancestors));
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(object)) {
    if (v === undefined || typeof v === "function" || typeof v === "symbol") continue;
    put(out, k, normalise(v, ancestors));
  }
  return out;
}

/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(toJsonSafe(value)));
}

/** Sets an own key, `__proto__` included (a plain assignment would change the prototype and drop the key). */
function put(out: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) put(out, k, sortKeys((value as Record<string, unknown>)[k]));
  return out;
}

/** A short, URL-safe SHA-256 digest (128 bits) of a value's canonical JSON. */
export function digestOf(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("base64url").slice(0, 22);
}
