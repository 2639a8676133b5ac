import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, json, seen, startTestServer, type TestServer } from "./helpers.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.shutdown();
});

const url = (path: string) => `${server.url}${path}`;

describe("twelve serve: the workshop scenario over plain fetch", () => {
  it("launch divide 3 by 4, reject with 'use 5 instead of 4', approve the re-planned call, get 0.6", async () => {
    const launched = await call(url("/v1/agents/calculator/threads?wait=5"), json({ message: "divide 3 by 4" }));
    expect(launched.status).toBe(201);
    const thread = await launched.json();
    expect(launched.headers.get("location")).toBe(url(`/v1/threads/${thread.id}`));
    expect(thread.status).toBe("awaiting_approval");
    expect(thread.request).toMatchObject({ kind: "approval", intent: "divide", args: { a: 3, b: 4 } });

    const rejected = await call(
      url(`/v1/requests/${thread.request.id}?wait=5`),
      json({ decision: "reject", feedback: "use 5 instead of 4" }),
    );
    expect(rejected.status).toBe(200);
    const replanned = await rejected.json();
    expect(replanned.request).toMatchObject({ kind: "approval", args: { a: 3, b: 5 } });

    const approved = await call(
      url(`/v1/requests/${replanned.request.id}?wait=5`),
      json({ decision: "approve", digest: replanned.request.argsDigest }),
    );
    expect(approved.status).toBe(200);
    const done = await approved.json();
    expect(done.status).toBe("done");
    expect(done.output).toEqual({ message: "0.6" });
    expect(server.runs.divide).toBe(1);
  });
});

afterAll(() => {
  expect(seen.filter((s) => s.status >= 500)).toEqual([]);
});
