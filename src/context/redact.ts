/**
 * Secrets never reach the prompt unless the user puts them there: values
 * under secret-looking keys, and secret-looking strings anywhere, are
 * replaced before rendering. Only the rendered copy changes; the stored
 * thread keeps the original.
 */
export interface RedactOptions {
  /** Keys whose values are always hidden (matched case-insensitively, as a pattern). */
  keys?: RegExp;
  /** Patterns hidden wherever they appear in a string. */
  patterns?: RegExp[];
  replacement?: string;
}

export const DEFAULT_SECRET_KEYS =
  /^(pass(word|wd)?|secret|.*_secret|client_secret|token|.*_token|access_?token|refresh_?token|api_?key|.*_api_?key|apikey|authorization|cookie|set-cookie|private_?key|credentials?)$/i;

export const DEFAULT_SECRET_PATTERNS: RegExp[] = [
  /\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}/g, // OpenAI / Anthropic style keys
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g, // Slack tokens
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g, // GitHub tokens
  /\bAKIA[0-9A-Z]{16}\b/g, // AWS access key ids
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /\bBearer\s+[A-Za-z0-9._~+/-]{16,}=*/g,
];

export function redactValue(value: unknown, options: RedactOptions = {}): unknown {
  const keys = options.keys ?? DEFAULT_SECRET_KEYS;
  const patterns = options.patterns ?? DEFAULT_SECRET_PATTERNS;
  const replacement = options.replacement ?? "[REDACTED]";
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") {
      let out = v;
      for (const p of patterns) out = out.replace(p, replacement);
      return out;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, inner] of Object.entries(v)) out[k] = keys.test(k) ? replacement : walk(inner);
      return out;
    }
    return v;
  };
  return walk(value);
}
