import type { Context } from "hono";
import type { z } from "zod";
import { TwelveError } from "../errors/index.js";
import { invalidInput } from "./errors.js";

/**
 * Reads a JSON body, at most `limit` bytes: 415 when it is not JSON, 413
 * when it is too large (counted while reading, whatever Content-Length
 * says), 400 `invalid_json` when it does not parse, 400 `invalid_input`
 * when the schema refuses it. An empty body reads as `{}`.
 */
export async function readJson<T extends z.ZodType>(c: Context, schema: T, limit: number): Promise<z.output<T>> {
  const declared = Number(c.req.header("content-length") ?? "NaN");
  if (declared > limit) throw tooLarge(limit);
  const raw = c.req.raw.body;
  let text = "";
  if (raw) {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = raw.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge(limit);
      }
      chunks.push(value);
    }
    text = Buffer.concat(chunks).toString("utf8");
  }
  let value: unknown = {};
  if (text.trim() !== "") {
    const type = c.req.header("content-type") ?? "";
    if (!/^application\/([a-z0-9.+-]*\+)?json\b/i.test(type.trim())) {
      throw new TwelveError(
        "unsupported_media_type",
        `the body must be JSON (Content-Type: application/json), got ${type ? `"${type}"` : "no Content-Type"}`,
      );
    }
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new TwelveError("invalid_json", `the body is not valid JSON: ${(error as Error).message}`);
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidInput("body", parsed.error);
  return parsed.data;
}

/** Parses the query string with a schema (400 `invalid_input` naming the parameter). */
export function readQuery<T extends z.ZodType>(c: Context, schema: T): z.output<T> {
  // A repeated parameter (?status=done&status=failed) reads as a list, as OpenAPI's form style sends arrays.
  const query = Object.fromEntries(Object.entries(c.req.queries()).map(([k, v]) => [k, v.length === 1 ? v[0] : v]));
  const parsed = schema.safeParse(query);
  if (!parsed.success) throw invalidInput("query", parsed.error);
  return parsed.data;
}

const tooLarge = (limit: number) =>
  new TwelveError("payload_too_large", `the body is larger than ${limit} bytes (server.bodyLimit)`, { limit });

/** The Idempotency-Key header, checked: 1-255 visible ASCII characters. */
export function idempotencyKeyOf(c: Context): string | undefined {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw new TwelveError("invalid_input", "Idempotency-Key must be 1-255 visible ASCII characters");
  }
  return key;
}
