import { stringify } from "yaml";

/**
 * YAML for context blocks. The `yaml` package is the reference, but it
 * builds a whole document per call (tens of microseconds). Most event data
 * is small and plain — numbers, identifiers, flat objects — and for those
 * this emitter writes exactly what `yaml` would, without the document.
 * Anything it is not sure about (strings that need quoting or block style,
 * odd keys, nested sequences) goes to `yaml` itself. A property test keeps
 * the two byte-identical.
 */
export function toYaml(value: unknown): string {
  const fast = fastYaml(value);
  return fast ?? stringify(value, { lineWidth: 0 }).trimEnd();
}

/** The emitter's own output, or undefined where it defers to the `yaml` package. */
export function fastYaml(value: unknown): string | undefined {
  return emit(value, 0);
}

const PLAIN = /^[A-Za-z_][A-Za-z0-9 _.,/()+=@-]*$/;
const RESERVED = /^(true|false|null|yes|no|on|off|y|n)$/i;
const KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function scalar(value: unknown): string | undefined {
  switch (typeof value) {
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0) ? String(value) : undefined;
    case "boolean":
      return String(value);
    case "string":
      return PLAIN.test(value) && !value.endsWith(" ") && !value.includes("  ") && !RESERVED.test(value)
        ? value
        : undefined;
    default:
      return value === null ? "null" : undefined;
  }
}

/** Returns the YAML lines for `value` at `indent`, or undefined to defer to the `yaml` package. */
function emit(value: unknown, indent: number): string | undefined {
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const pad = " ".repeat(indent);
    const items: string[] = [];
    for (const item of value) {
      if (Array.isArray(item)) return undefined;
      if (isObject(item)) {
        if (Object.keys(item).length === 0) {
          items.push(`${pad}- {}`);
          continue;
        }
        const body = emit(item, indent + 2);
        if (body === undefined) return undefined;
        items.push(`${pad}- ${body.slice(indent + 2)}`);
        continue;
      }
      const s = scalar(item);
      if (s === undefined) return undefined;
      items.push(`${pad}- ${s}`);
    }
    return items.join("\n");
  }
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0) return "{}";
    const pad = " ".repeat(indent);
    const lines: string[] = [];
    for (const key of keys) {
      if (!KEY.test(key) || RESERVED.test(key)) return undefined;
      const inner = value[key];
      if (inner === undefined) continue;
      if ((Array.isArray(inner) && inner.length > 0) || (isObject(inner) && Object.keys(inner).length > 0)) {
        const body = emit(inner, Array.isArray(inner) ? indent + 2 : indent + 2);
        if (body === undefined) return undefined;
        lines.push(`${pad}${key}:\n${body}`);
        continue;
      }
      const s = Array.isArray(inner) ? "[]" : isObject(inner) ? "{}" : scalar(inner);
      if (s === undefined) return undefined;
      lines.push(`${pad}${key}: ${s}`);
    }
    return lines.length > 0 ? lines.join("\n") : "{}";
  }
  const s = scalar(value);
  return s;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
