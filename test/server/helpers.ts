import { readFileSync } from "node:fs";
import { z } from "zod";
import { defineAgent } from "../../src/agent/agent.js";
import { loadConfig, type ResolvedConfig, type TwelveConfig } from "../../src/config/index.js";
import { defineIntent } from "../../src/intent/intent.js";
import { type Rule, rulesModel } from "../../src/model/rules.js";
import { ROUTES } from "../../src/server/openapi.js";
import { errorBody } from "../../src/server/schemas.js";
import { type RunningServer, startServer } from "../../src/server/serve.js";
import { memoryStore } from "../../src/store/memory.js";
import type { ThreadStore } from "../../src/store/types.js";

export const RULES_FILE = new URL("./fixtures/workshop.rules.json", import.meta.url);
export const workshopRules = (JSON.parse(readFileSync(RULES_FILE, "utf8")) as { rules: Rule[] }).rules;

/** The essay's workshop calculator, counting each handler run (the "exactly once" checks read these). */
export function calculator() {
  const runs = { add: 0, divide: 0, slow: 0 };
  /** `slow` runs until the test opens the gate: a thread that is busy running. */
  let open: () => void = () => {};
  let gate = new Promise<void>((r) => {
    open = r;
  });
  const control = {
    open: () => open(),
    close: () => {
      gate = new Promise<void>((r) => {
        open = r;
      });
    },
  };
  const operands = z.object({ a: z.number(), b: z.number() });
  const add = defineIntent("add", operands, {
    description: "Add a and b",
    handler: ({ a, b }) => {
      runs.add++;
      return a + b;
    },
  });
  const divide = defineIntent("divide", operands, {
    description: "Divide a by b (a human approves every division)",
    policy: "approve",
    handler: ({ a, b }) => {
      runs.divide++;
      return a / b;
    },
  });
  const slow = defineIntent("slow", z.object({}), {
    description: "Wait until the test says so",
    handler: async () => {
      runs.slow++;
      await gate;
      return "slow done";
    },
  });
  const agent = defineAgent({
    name: "calculator",
    instructions: "You are a careful calculator. Do one operation per step, then report the final result.",
    intents: [add, divide, slow],
  });
  return { agent, runs, gate: control };
}

/** Every response the suite saw: `expectNo5xx` checks them at the end. */
export const seen: { method: string; path: string; status: number }[] = [];

/** Finds the route a request matched, to validate its response against the schemas the OpenAPI document is made of. */
function routeOf(method: string, path: string) {
  const matches = ROUTES.filter((r) => {
    if (r.method !== method.toLowerCase()) return false;
    const pattern = new RegExp(`^${r.path.replace(/\{\w+\}/g, "[^/]+")}$`);
    return pattern.test(path);
  });
  // A static path wins over a parameter (/v1/requests/stream over /v1/requests/{id}), as the router decides.
  return matches.sort((a, b) => (a.path.match(/\{/g)?.length ?? 0) - (b.path.match(/\{/g)?.length ?? 0))[0];
}

/**
 * fetch, recording the status and validating the body: an error against
 * the Error schema, a success against the route's response schema (the
 * same zod schemas /v1/openapi.json is generated from).
 */
export async function call(url: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(url, init);
  const { pathname } = new URL(url);
  const method = init.method ?? "GET";
  seen.push({ method, path: pathname, status: response.status });
  await validate(method, pathname, response.clone());
  return response;
}

export async function validate(method: string, pathname: string, response: Response): Promise<void> {
  if (!pathname.startsWith("/v1/") || pathname === "/v1/openapi.json") return;
  const type = response.headers.get("content-type") ?? "";
  const route = routeOf(method, pathname);
  if (response.status >= 400) {
    if (!type.includes("application/json")) throw new Error(`${method} ${pathname}: ${response.status} is not JSON`);
    errorBody.strict().parse(await response.json());
    // The document lists the error statuses of each route; an unknown route is 404 (route_not_found).
    if (route && !route.errors.includes(response.status)) {
      throw new Error(`${method} ${pathname}: error status ${response.status} is not in the OpenAPI document`);
    }
    if (!route && response.status !== 404 && response.status !== 401 && response.status !== 403) {
      throw new Error(`${method} ${pathname}: ${response.status} on a path the document does not have`);
    }
    return;
  }
  if (!route) throw new Error(`${method} ${pathname}: no route in the OpenAPI table`);
  const schema = route.responses[response.status];
  if (!schema) throw new Error(`${method} ${pathname}: status ${response.status} is not documented`);
  if ("mediaType" in schema) {
    if (!type.startsWith(schema.mediaType)) throw new Error(`${method} ${pathname}: expected ${schema.mediaType}`);
    return;
  }
  const parsed = (schema as z.ZodType).safeParse(await response.json());
  if (!parsed.success) {
    throw new Error(`${method} ${pathname} ${response.status}: ${z.prettifyError(parsed.error)}`);
  }
}

export interface TestServer extends RunningServer {
  store: ThreadStore;
  runs: { add: number; divide: number; slow: number };
  gate: { open(): void; close(): void };
  config: ResolvedConfig;
  logs: string[];
}

export const KEYS = {
  admin: "admin-key-0123456789abcdef",
  reader: "reader-key-0123456789abcdef",
  other: "other-agent-key-0123456789ab",
  second: "second-client-key-0123456789",
};

export async function startTestServer(
  options: { config?: TwelveConfig; store?: ThreadStore; env?: Record<string, string> } = {},
): Promise<TestServer> {
  const { agent, runs, gate } = calculator();
  const store = options.store ?? memoryStore();
  const config = await loadConfig({ config: options.config ?? {}, env: options.env ?? {} });
  const logs: string[] = [];
  const server = await startServer({
    config,
    agents: [agent],
    model: rulesModel(workshopRules, { id: "rules:workshop" }),
    store,
    port: 0,
    logger: {
      info: (m) => logs.push(`info ${m}`),
      warn: (m) => logs.push(`warn ${m}`),
      error: (m, f) => logs.push(`error ${m} ${JSON.stringify(f)}`),
    },
  });
  return { ...server, store, runs, gate, config, logs };
}

export const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});
