import { describe, expect, it } from "vitest";
import { readBy } from "../../src/thread/event.js";
import { findAnswer, requestId } from "../../src/thread/request.js";
import { parseThread } from "../../src/thread/thread.js";

describe("identity: by = {id, via}", () => {
  it("reads the shape, and older versions' plain strings as answers given through the CLI", () => {
    expect(readBy({ id: "alice", via: "slack" })).toEqual({ id: "alice", via: "slack" });
    expect(readBy({ id: "timer", via: "timer" })).toEqual({ id: "timer", via: "timer" });
    expect(readBy("cli")).toEqual({ id: "cli", via: "cli" });
    expect(readBy("cli --yes")).toEqual({ id: "cli --yes", via: "cli" });
    expect(readBy("stdin")).toEqual({ id: "stdin", via: "cli" });
    expect(readBy("terminal")).toEqual({ id: "terminal", via: "cli" });
    // Anything else is not an identity: no guessing.
    expect(readBy({ id: "alice", via: "carrier-pigeon" })).toBeUndefined();
    expect(readBy({ via: "cli" })).toBeUndefined();
    expect(readBy(42)).toBeUndefined();
    expect(readBy("")).toBeUndefined();
    expect(readBy(undefined)).toBeUndefined();
  });

  it("an answer written by an older version names who answered, read from its legacy string", () => {
    const at = "2025-01-01T00:00:00.000Z";
    const thread = parseThread({
      id: "thr_old",
      agent: "deploybot",
      events: [
        { id: "e1", type: "user_message", data: "ship", at },
        {
          id: "e2",
          type: "deploy",
          data: { intent: "deploy", tag: "v1" },
          at,
          meta: { kind: "step", intent: "deploy", policy: "approve" },
        },
        { id: "e3", type: "approval", data: { approved: true }, at, meta: { stepId: "e2", by: "cli --yes" } },
      ],
    });
    expect(findAnswer(thread, requestId("thr_old", "e2"))).toMatchObject({
      eventId: "e3",
      by: { id: "cli --yes", via: "cli" },
    });
  });
});
