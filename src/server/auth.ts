import { createHash, timingSafeEqual } from "node:crypto";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context, MiddlewareHandler } from "hono";
import type { ApiKeyConfig } from "../config/index.js";
import { TwelveError } from "../errors/index.js";

/** Who is calling: the API key's name and what it may do. */
export interface Principal {
  /** The key's name; answers are recorded as `by = {id: name, via: "api"}`. */
  name: string;
  readOnly: boolean;
  /** The agents the key is limited to; undefined = every agent. */
  agents?: ReadonlySet<string>;
}

export type AuthEnv = { Variables: { principal: Principal } };

interface StoredKey {
  hash: Buffer;
  principal: Principal;
}

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest();

/**
 * API keys, kept only as SHA-256 hashes. A presented key is hashed and
 * compared with every stored hash with timingSafeEqual (equal-length
 * digests), so neither the comparison nor the loop exits early on a match.
 */
export function apiKeyTable(keys: readonly ApiKeyConfig[]): {
  check(bearer: string): Principal | undefined;
  size: number;
} {
  const stored: StoredKey[] = keys.flatMap((k) =>
    (Array.isArray(k.key) ? k.key : [k.key]).map((key) => ({
      hash: sha256(key),
      principal: {
        name: k.name,
        readOnly: k.readOnly ?? false,
        ...(k.agents && { agents: new Set(k.agents) }),
      },
    })),
  );
  return {
    size: stored.length,
    check(bearer) {
      const presented = sha256(bearer);
      let found: Principal | undefined;
      for (const s of stored) if (timingSafeEqual(s.hash, presented) && !found) found = s.principal;
      return found;
    },
  };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;
const LOCAL: Principal = { name: "local", readOnly: false };

/**
 * Bearer API-key auth for /v1. With no key configured, only loopback
 * callers are served (as `local`): start-up warns loudly about it.
 */
export function apiKeyAuth(keys: readonly ApiKeyConfig[]): MiddlewareHandler<AuthEnv> {
  const table = apiKeyTable(keys);
  return async (c, next) => {
    if (table.size === 0) {
      const address = remoteAddress(c);
      if (!address || !LOOPBACK.test(address)) {
        throw new TwelveError(
          "loopback_only",
          "no API key is configured, so this server answers only on loopback; set TWELVE_API_KEYS or secrets.apiKeys",
        );
      }
      c.set("principal", LOCAL);
    } else {
      const header = c.req.header("authorization");
      const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
      if (!match?.[1]) {
        throw new TwelveError(
          "unauthorized",
          header
            ? "the Authorization header is not 'Bearer <key>'"
            : "an API key is required (Authorization: Bearer <key>)",
        );
      }
      const principal = table.check(match[1]);
      if (!principal) throw new TwelveError("unauthorized", "unknown API key");
      c.set("principal", principal);
    }
    const principal = c.get("principal");
    if (principal.readOnly && !["GET", "HEAD", "OPTIONS"].includes(c.req.method)) {
      throw new TwelveError("forbidden", `API key "${principal.name}" is read-only`, { key: principal.name });
    }
    await next();
  };
}

/** Refuses a key limited to other agents (403 `forbidden`). */
export function checkAgent(principal: Principal, agent: string): void {
  if (principal.agents && !principal.agents.has(agent)) {
    throw new TwelveError("forbidden", `API key "${principal.name}" may not use agent "${agent}"`, {
      key: principal.name,
      agent,
    });
  }
}

function remoteAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}
