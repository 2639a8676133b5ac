import { readFileSync } from "node:fs";
import createClient from "openapi-fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApiDocument } from "../../src/server/openapi.js";
import { GENERATED, generateClientTypes } from "./generate-client.js";
import type { paths } from "./generated/api.js";
import { KEYS, seen, startTestServer, type TestServer, validate } from "./helpers.js";

/**
 * A client nobody here wrote: openapi-typescript's types for the document
 * the server serves, and openapi-fetch driving the essay's workshop
 * scenario with them. Every response is also validated against the zod
 * schemas the document is generated from.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ config: { secrets: { apiKeys: [{ name: "workshop", key: KEYS.admin }] } } });
});
afterAll(async () => {
  await server?.shutdown();
  expect(seen.filter((s) => s.status >= 500)).toEqual([]);
});

const checked: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  const request = input instanceof Request ? input : new Request(input, init);
  seen.push({ method: request.method, path: new URL(request.url).pathname, status: response.status });
  await validate(request.method, new URL(request.url).pathname, response.clone());
  return response;
};

describe("the OpenAPI document", () => {
  it("is what the server serves, and test/server/generated/api.ts is its openapi-typescript output (npm run generate:client)", async () => {
    const served = (await (await fetch(`${server.url}/v1/openapi.json`)).json()) as Record<string, unknown>;
    expect(served).toEqual(
      openApiDocument({ version: served.info ? (served.info as { version: string }).version : "" }),
    );
    const regenerated = await generateClientTypes({ ...served, info: { ...(served.info as object), version: "test" } });
    expect(readFileSync(GENERATED, "utf8")).toBe(regenerated);
  });
});

describe("a generated client (openapi-typescript + openapi-fetch)", () => {
  it("drives the workshop: launch divide 3 by 4, reject with 'use 5 instead of 4', approve the re-planned call, get 0.6", async () => {
    const client = createClient<paths>({
      baseUrl: server.url,
      headers: { authorization: `Bearer ${KEYS.admin}` },
      fetch: checked,
    });
    const launched = await client.POST("/v1/agents/{agent}/threads", {
      params: { path: { agent: "calculator" }, query: { wait: 5 } },
      body: { message: "divide 3 by 4" },
    });
    expect(launched.response.status).toBe(201);
    const first = launched.data?.request;
    expect(first).toMatchObject({ kind: "approval", intent: "divide", args: { a: 3, b: 4 } });
    if (!first) throw new Error("no request");

    const rejected = await client.POST("/v1/requests/{id}", {
      params: { path: { id: first.id }, query: { wait: 5 } },
      body: { decision: "reject", feedback: "use 5 instead of 4" },
    });
    const second = rejected.data?.request;
    expect(second).toMatchObject({ kind: "approval", args: { a: 3, b: 5 } });
    if (!second?.argsDigest) throw new Error("no re-planned request");

    const stale = await client.POST("/v1/requests/{id}", {
      params: { path: { id: second.id } },
      body: { decision: "approve", digest: first.argsDigest },
    });
    expect(stale.response.status).toBe(409);
    expect(stale.error?.error.code).toBe("request_changed");

    const approved = await client.POST("/v1/requests/{id}", {
      params: { path: { id: second.id }, query: { wait: 5 } },
      body: { decision: "approve", digest: second.argsDigest },
    });
    expect(approved.data?.status).toBe("done");
    expect(approved.data?.output).toEqual({ message: "0.6" });

    const listed = await client.GET("/v1/threads", {
      params: { query: { agent: "calculator", status: ["done", "failed"] } },
    });
    expect(listed.data?.threads.map((t) => t.id)).toContain(launched.data?.id);
    expect(server.runs.divide).toBe(1);
  });
});
