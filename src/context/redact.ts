/**
 * Secrets never reach the prompt unless the user puts them there: values
 * under secret-looking keys, and secret-looking strings anywhere, are
 * replaced before rendering. Only the rendered copy changes; the stored
 * thread keeps the original.
 *
 * Your own `keys` and `patterns` ADD to the built-in ones
 * (`DEFAULT_SECRET_KEYS`, `DEFAULT_SECRET_PATTERNS`): giving a pattern for
 * your internal token format never lets an `sk-proj-…` key through. To use
 * only yours, say so with `defaults: false`:
 *
 * ```ts
 * xmlYaml({ redact: { patterns: [/\bacme_[a-z0-9]{32}\b/] } });                  // built-ins + yours
 * xmlYaml({ redact: { patterns: [/\bacme_[a-z0-9]{32}\b/], defaults: false } }); // yours only
 * ```
 */
export interface RedactOptions {
  /**
   * Keys whose values are always hidden, in addition to the built-in ones.
   * Tested against the key as written and against its normalized form
   * (camelCase split, `-`, `.` and spaces turned into `_`, lower-cased:
   * `X-Api-Key` and `apiKey` are tested as `x_api_key` and `api_key` too).
   * The `g` and `y` flags are ignored (a key test never depends on an earlier one).
   */
  keys?: RegExp;
  /**
   * Patterns hidden wherever they appear in a string, in addition to the
   * built-in ones. Every match is hidden: a pattern without the `g` flag is
   * used as if it had it (its other flags kept; `y`, which would stop at the
   * first gap, is dropped).
   */
  patterns?: RegExp[];
  /**
   * `false`: use only the `keys` and `patterns` given here, none of the
   * built-in ones (with neither given, nothing is redacted). Default true:
   * yours are added to the built-ins.
   */
  defaults?: boolean;
  replacement?: string;
}

/**
 * The built-in secret key names, matched against a key's normalized form
 * (`authToken`, `Auth-Token` and `AUTH_TOKEN` are all `auth_token`): a key
 * ending in the word `password`, `passwd`, `passphrase`, `secret(s)`,
 * `token`, `api_key`/`apikey`, `private_key`, `secret_key`,
 * `secret_access_key` (and a few other `…_key`s of that kind),
 * `credential(s)`, `authorization` or `cookie`, or the key `pass`. Not a
 * key merely containing one of them (`tokens_used`, `max_tokens`,
 * `token_count`, `password_policy`, `secret_name`, `key`), nor a pagination
 * cursor (`page_token`, `next_page_token`, `nextToken`, `continuation_token`),
 * which the model needs to ask for the next page.
 */
export const DEFAULT_SECRET_KEYS =
  /^(?!(?:.*_)?(?:page|next|prev|previous|continuation|cursor|pagination|sync)_token$)(?:pass|(?:.*_)?(?:password|passwd|passphrase|secrets?|(?:access|refresh|auth|session|bearer)?token|api_?key|(?:private|secret)_?key|(?:secret_access|signing|encryption|master)_key|credentials?|authorization|cookie))$/i;

export const DEFAULT_SECRET_PATTERNS: RegExp[] = [
  /\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}/g, // OpenAI / Anthropic style keys
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g, // Slack tokens
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g, // GitHub tokens
  /\bAKIA[0-9A-Z]{16}\b/g, // AWS access key ids
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /\bBearer\s+[A-Za-z0-9._~+/-]{16,}=*/g,
];

/** `authToken` → `auth_token`, `X-Api-Key` → `x_api_key`, `OpenAIKey` → `open_ai_key`. */
export function normalizeKey(key: string): string {
  if (!/[A-Z\-\s.]/.test(key)) return key;
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .replace(/[-\s.]+/g, "_")
    .toLowerCase();
}

interface Compiled {
  isSecretKey: (key: string) => boolean;
  patterns: readonly RegExp[];
  replacement: string;
}

const DEFAULT_COMPILED: Compiled = {
  isSecretKey: (key) => DEFAULT_SECRET_KEYS.test(normalizeKey(key)),
  patterns: DEFAULT_SECRET_PATTERNS,
  replacement: "[REDACTED]",
};

/** A pattern that finds every match: `g` added, `y` dropped; compiled once per pattern. */
const everyMatch = new WeakMap<RegExp, RegExp>();
function global(pattern: RegExp): RegExp {
  if (pattern.global && !pattern.sticky) return pattern;
  let g = everyMatch.get(pattern);
  if (!g) {
    g = new RegExp(pattern.source, `${pattern.flags.replace(/[gy]/g, "")}g`);
    everyMatch.set(pattern, g);
  }
  return g;
}

/** A key test that never depends on an earlier one (`test` on a `g`/`y` pattern moves its lastIndex). */
function stateless(pattern: RegExp): RegExp {
  return pattern.global || pattern.sticky ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, "")) : pattern;
}

/** Options are usually one object reused for every render: compile them once. */
const compiledFor = new WeakMap<RedactOptions, Compiled>();
function compile(options: RedactOptions): Compiled {
  if (options.keys === undefined && options.patterns === undefined && options.defaults !== false) {
    return options.replacement === undefined
      ? DEFAULT_COMPILED
      : { ...DEFAULT_COMPILED, replacement: options.replacement };
  }
  let c = compiledFor.get(options);
  if (c) return c;
  const defaults = options.defaults !== false;
  const custom = options.keys ? stateless(options.keys) : undefined;
  const isSecretKey = (key: string): boolean => {
    const normal = normalizeKey(key);
    if (defaults && DEFAULT_SECRET_KEYS.test(normal)) return true;
    return custom !== undefined && (custom.test(key) || (normal !== key && custom.test(normal)));
  };
  const own = (options.patterns ?? []).map(global);
  c = {
    isSecretKey,
    patterns: defaults ? [...DEFAULT_SECRET_PATTERNS, ...own] : own,
    replacement: options.replacement ?? "[REDACTED]",
  };
  compiledFor.set(options, c);
  return c;
}

export function redactValue(value: unknown, options: RedactOptions = {}): unknown {
  const { isSecretKey, patterns, replacement } = compile(options);
  const replace = () => replacement; // taken literally: no `$&` or `$1` expansion
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") {
      let out = v;
      // `replace` with a global pattern starts at 0 and leaves lastIndex at 0: no state carries over.
      for (const p of patterns) out = out.replace(p, replace);
      return out;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, inner] of Object.entries(v)) out[k] = isSecretKey(k) ? replacement : walk(inner);
      return out;
    }
    return v;
  };
  return walk(value);
}
