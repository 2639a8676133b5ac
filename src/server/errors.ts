import type { Context } from "hono";
import type { z } from "zod";
import { httpStatusOf, TwelveError } from "../errors/index.js";
import type { Logger } from "./context.js";
import type { ErrorBody } from "./schemas.js";

/** Request input the schema refuses: 400 `invalid_input`, each problem with its path. */
export function invalidInput(where: string, error: z.ZodError): TwelveError {
  const [first] = error.issues;
  const path = first?.path.length ? first.path.map(String).join(".") : "";
  return new TwelveError("invalid_input", `${where}${path ? ` ${path}` : ""}: ${first?.message ?? "invalid"}`, {
    issues: error.issues.map((i) => ({ path: i.path.map(String), message: i.message, code: i.code })),
  });
}

/**
 * Every error becomes `{error: {code, message, details}}` with the status
 * from the one error table (errors/codes.ts). Anything that is not a
 * TwelveError is a bug: 500 `internal`, logged with its stack, its message
 * not shown to the caller.
 */
export function errorResponse(c: Context, error: unknown, logger: Logger): Response {
  if (error instanceof TwelveError) {
    const status = httpStatusOf(error);
    const body: ErrorBody = {
      error: { code: error.code, message: error.message, ...(error.details && { details: jsonSafe(error.details) }) },
    };
    if (status >= 500) logger.error(error.message, { code: error.code, path: c.req.path });
    if (error.code === "lease_held" || error.code === "busy" || error.code === "draining") c.header("Retry-After", "1");
    return c.json(body, status as 400);
  }
  logger.error("internal error", {
    path: c.req.path,
    error: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
  return c.json({ error: { code: BUG_CODE, message: "internal error (a bug); see the server log" } }, 500);
}

/**
 * The body code of a 500: not an error code of the table (nothing throws
 * it), the server's word for "an error that is not a TwelveError", like the
 * CLI's `[internal]` and exit 70.
 */
export const BUG_CODE = "internal";

/** Details may hold errors, dates or cycles; send what JSON can carry. */
function jsonSafe(details: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(details)) as Record<string, unknown>;
  } catch {
    return {};
  }
}
