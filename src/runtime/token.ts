import { createHmac, timingSafeEqual } from "node:crypto";
import { RequestError, TwelveError } from "../errors/index.js";
import type { By } from "../thread/event.js";
import {
  type Answer,
  type Decision,
  type DecisionType,
  type HumanRequest,
  requestId as makeRequestId,
  parseRequestId,
} from "../thread/request.js";
import type { AgentRuntime } from "./runtime.js";

/**
 * Signed request tokens: what a channel (Slack button, email link, inbox
 * link) hands a person so they can answer one human request without
 * logging in. The token names the request, the digest of what the person
 * was shown, who it was sent to, where it may be used and until when.
 * They live here, not in the server, so channels never import the server.
 *
 * Format: `<payload>.<mac>`, both base64url. The payload is binary because
 * JSON (even with one-letter keys) base64url-encoded twice over the request
 * id does not fit Slack's 255-character `action_id`:
 *
 *   u8 version (1) | u8 audience | u8 decision (0 = any) | u32 exp (seconds, BE)
 *   then five strings, each u8 byte length + UTF-8:
 *   kid | threadId | eventId | digest | sub ("" = none)
 *
 * The request id is stored as its thread and event ids (it is rebuilt with
 * `requestId()`), which saves the `rq_` id's own base64 layer. The mac is
 * HMAC-SHA256 over the payload text, truncated to 16 bytes (22 characters):
 * 128 bits is still far beyond forging by guessing, and a forger gets one
 * online try per request.
 */

export type TokenAudience = "inbox" | "email" | "slack" | "webhook";

// Wire numbers: append only, never reorder (tokens already sent carry them).
const AUDIENCES: readonly TokenAudience[] = ["inbox", "email", "slack", "webhook"];
const DECISION_CODES: readonly DecisionType[] = [
  "approve",
  "edit",
  "reject",
  "respond",
  "result",
  "mark_done",
  "run_again",
  "abandon",
];

export interface RequestTokenPayload {
  /** Format version. */
  v: 1;
  /** The id of the key that signed the token. */
  kid: string;
  /** The addressee; becomes `by.id` (via "link") when the token is used. No sub: anonymous, refused by a responders policy. */
  sub?: string;
  requestId: string;
  /** The request's `argsDigest`, or "" for requests without arguments. */
  digest: string;
  /** When set, the token answers with this decision only (an "Approve" button). */
  decision?: DecisionType;
  /** Where the token may be used. */
  aud: TokenAudience;
  /** Expiry, seconds since the epoch: the token is refused from this second on. */
  exp: number;
}

/** What the signer supplies; the version and the key id are filled in. */
export type RequestTokenClaims = Omit<RequestTokenPayload, "v" | "kid">;

/** A signing key. Rotation: put the new key first (it signs), keep the old one until its tokens expire. */
export interface TokenKey {
  kid: string;
  /** At least 32 bytes, e.g. `randomBytes(32)`. */
  secret: string | Uint8Array;
}

export interface TokenKeyOptions {
  /** The first key signs; every key verifies. */
  keys: readonly TokenKey[];
  now?: Date;
}

export interface VerifyTokenOptions extends TokenKeyOptions {
  /** The channel checking the token: a token made for another one is refused. */
  aud: TokenAudience;
}

/**
 * Why a token was refused:
 * - `token_malformed`: not a token, or it does not decode;
 * - `token_invalid`: the signature does not match (tampered, or signed with another secret);
 * - `token_unknown_key`: signed with a key that is not among the keys (retired, or from elsewhere);
 * - `token_expired`: past its `exp`;
 * - `token_audience`: made for another channel.
 */
export type TokenErrorCode =
  | "token_malformed"
  | "token_invalid"
  | "token_unknown_key"
  | "token_expired"
  | "token_audience";

export class TokenError extends TwelveError {
  declare readonly code: TokenErrorCode;
  constructor(code: TokenErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = "TokenError";
  }
}

const VERSION = 1;
const HEAD = 7;
const MAC_BYTES = 16;
const MAC_CHARS = 22;
// Domain separation: the same secret may also sign other things (webhooks); this MAC never equals theirs.
const CONTEXT = "twelve.request-token\n";
// Longer than any token sign() can make (5 × 255-byte strings); refused before any work.
const MAX_TOKEN = 2048;
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function configError(message: string, details?: Record<string, unknown>): never {
  throw new TwelveError("token_key_invalid", message, details);
}

function checkKeys(keys: readonly TokenKey[]): TokenKey {
  const [first] = keys;
  if (!first) return configError("request tokens need at least one key");
  const seen = new Set<string>();
  for (const { kid, secret } of keys) {
    if (kid === "" || Buffer.byteLength(kid) > 255) configError(`token key id "${kid}" must be 1 to 255 bytes`);
    if (seen.has(kid)) configError(`token key id "${kid}" is listed twice`, { kid });
    seen.add(kid);
    const size = Buffer.byteLength(secret);
    if (size < 32) {
      configError(`token key "${kid}": the secret has ${size} bytes; at least 32 are needed (e.g. randomBytes(32))`, {
        kid,
      });
    }
  }
  return first;
}

function mac(secret: string | Uint8Array, body: string): string {
  return createHmac("sha256", secret)
    .update(CONTEXT)
    .update(body)
    .digest()
    .subarray(0, MAC_BYTES)
    .toString("base64url");
}

const seconds = (now: Date | undefined) => Math.floor((now ?? new Date()).getTime() / 1000);

function encode(payload: RequestTokenPayload, threadId: string, eventId: string): Buffer {
  const head = Buffer.alloc(HEAD);
  head[0] = VERSION;
  head[1] = AUDIENCES.indexOf(payload.aud);
  head[2] = payload.decision === undefined ? 0 : DECISION_CODES.indexOf(payload.decision) + 1;
  head.writeUInt32BE(payload.exp, 3);
  const parts = [head];
  for (const text of [payload.kid, threadId, eventId, payload.digest, payload.sub ?? ""]) {
    const bytes = Buffer.from(text, "utf8");
    // Lone surrogates do not survive UTF-8: refuse rather than sign a different addressee.
    if (bytes.length > 255 || bytes.toString("utf8") !== text) {
      configError(`token field "${text.slice(0, 40)}" must be valid text of at most 255 bytes`);
    }
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  return Buffer.concat(parts);
}

/** The payload in `bytes`, or undefined when they are not one (bounds-checked: the MAC is not checked yet). */
function decode(bytes: Buffer): RequestTokenPayload | undefined {
  if (bytes.length < HEAD || bytes[0] !== VERSION) return undefined;
  const aud = AUDIENCES[bytes[1] ?? -1];
  const decisionCode = bytes[2] ?? 0;
  if (!aud || decisionCode > DECISION_CODES.length) return undefined;
  const texts: string[] = [];
  let at = HEAD;
  while (texts.length < 5) {
    const end = at + 1 + (bytes[at] ?? bytes.length);
    if (end > bytes.length) return undefined;
    try {
      texts.push(UTF8.decode(bytes.subarray(at + 1, end)));
    } catch {
      return undefined;
    }
    at = end;
  }
  const [kid = "", threadId = "", eventId = "", digest = "", sub = ""] = texts;
  if (at !== bytes.length || threadId === "" || eventId === "") return undefined;
  const payload: RequestTokenPayload = {
    v: VERSION,
    kid,
    requestId: makeRequestId(threadId, eventId),
    digest,
    aud,
    exp: bytes.readUInt32BE(3),
  };
  if (sub !== "") payload.sub = sub;
  const decision = DECISION_CODES[decisionCode - 1];
  if (decision) payload.decision = decision;
  return payload;
}

/**
 * Signs a token for one request with the first key. Refuses (token_key_invalid)
 * short secrets, an id that is not a request id, an `exp` already past and
 * fields that do not fit.
 */
export function signRequestToken(claims: RequestTokenClaims, options: TokenKeyOptions): string {
  const key = checkKeys(options.keys);
  const ref = parseRequestId(claims.requestId);
  // Only canonical ids: the token stores the parts and rebuilds the id from them.
  if (!ref || makeRequestId(ref.threadId, ref.eventId) !== claims.requestId) {
    configError(`"${claims.requestId}" is not a request id`, { requestId: claims.requestId });
  }
  if (!AUDIENCES.includes(claims.aud)) configError(`token audience must be one of ${AUDIENCES.join(", ")}`);
  if (claims.decision !== undefined && !DECISION_CODES.includes(claims.decision)) {
    configError(`"${claims.decision}" is not a decision`);
  }
  if (claims.sub === "") configError("token sub must not be empty (leave it out for an anonymous token)");
  if (!Number.isInteger(claims.exp) || claims.exp < 0 || claims.exp > 0xffffffff) {
    configError("token exp must be whole seconds since the epoch");
  }
  if (claims.exp <= seconds(options.now)) configError("token exp is already past", { exp: claims.exp });
  const body = encode({ ...claims, v: VERSION, kid: key.kid }, ref.threadId, ref.eventId).toString("base64url");
  return `${body}.${mac(key.secret, body)}`;
}

/**
 * Checks a token and returns its payload, or throws a TokenError. Messages
 * never quote the token: it is a credential, and errors end up in logs.
 */
export function verifyRequestToken(token: string, options: VerifyTokenOptions): RequestTokenPayload {
  checkKeys(options.keys);
  const malformed = (): never => {
    throw new TokenError("token_malformed", "this is not a request token (it does not decode)");
  };
  if (typeof token !== "string" || token.length > MAX_TOKEN) malformed();
  const match = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(token);
  if (!match || match[2]?.length !== MAC_CHARS) return malformed();
  const body = match[1] as string;
  const payload = decode(Buffer.from(body, "base64url")) ?? malformed();
  const key = options.keys.find((k) => k.kid === payload.kid);
  if (!key) {
    throw new TokenError("token_unknown_key", `the token was signed with key "${payload.kid}", which is not in use`, {
      kid: payload.kid,
    });
  }
  // Compare the MAC text, not decoded bytes: a 22-character base64url tail has spare bits, so
  // decoding would accept other spellings of the same MAC.
  const expected = Buffer.from(mac(key.secret, body));
  if (!timingSafeEqual(expected, Buffer.from(match[2] as string))) {
    throw new TokenError("token_invalid", "the token's signature does not match: it was altered or signed elsewhere", {
      kid: payload.kid,
    });
  }
  if (payload.exp <= seconds(options.now)) {
    throw new TokenError("token_expired", `the token expired at ${new Date(payload.exp * 1000).toISOString()}`, {
      exp: payload.exp,
      requestId: payload.requestId,
    });
  }
  if (payload.aud !== options.aud) {
    throw new TokenError("token_audience", `the token was made for ${payload.aud}, not ${options.aud}`, {
      aud: payload.aud,
      expected: options.aud,
    });
  }
  return payload;
}

/** Who answers with this token: the addressee, via "link"; undefined for an anonymous token, so a responders policy refuses it. */
export function tokenBy(payload: Pick<RequestTokenPayload, "sub">): By | undefined {
  return payload.sub === undefined ? undefined : { id: payload.sub, via: "link" };
}

/**
 * Verifies a token and returns it with the request it names, which must
 * still be pending (else the runtime's `already_answered` with who and when,
 * or `request_not_found`) and still show what the token was made for (else
 * `request_changed`). Use it to render the page behind a link, and before
 * answering.
 */
export async function checkRequestToken(
  rt: AgentRuntime,
  token: string,
  options: VerifyTokenOptions,
): Promise<{ payload: RequestTokenPayload; request: HumanRequest }> {
  const payload = verifyRequestToken(token, options);
  const request = await rt.request(payload.requestId);
  const digest = request.argsDigest ?? "";
  if (payload.digest !== digest) {
    throw new RequestError("request_changed", `request ${request.id}: the token was made for other arguments`, {
      requestId: request.id,
      digest: payload.digest,
      argsDigest: digest,
    });
  }
  return { payload, request };
}

/**
 * The answer a verified token gives with `decision`: it names the request
 * and digest from the token and the addressee as `by`. A token bound to one
 * decision refuses any other (`invalid_decision`).
 */
export function answerFromToken(
  payload: RequestTokenPayload,
  decision: Decision & { idempotencyKey?: string },
): Answer {
  if (payload.decision !== undefined && decision.decision !== payload.decision) {
    throw new RequestError(
      "invalid_decision",
      `request ${payload.requestId}: this token may only "${payload.decision}", not "${decision.decision}"`,
      { requestId: payload.requestId, decision: decision.decision, allowed: [payload.decision] },
    );
  }
  const by = tokenBy(payload);
  return {
    ...decision,
    requestId: payload.requestId,
    ...(payload.digest !== "" && { digest: payload.digest }),
    ...(by && { by }),
  };
}
