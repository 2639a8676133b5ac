import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { threadsCommand } from "../../src/cli/commands/threads.js";
import { startStored } from "../../src/runtime/index.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { deploybotAgent, planningModel } from "../crash/fixtures/agents.js";

function capture(cwd: string) {
  const io = {
    out: "",
    err: "",
    cwd,
    stdout: (t: string) => {
      io.out += t;
    },
    stderr: (t: string) => {
      io.err += t;
    },
  };
  return io;
}

describe("twelve threads", () => {
  let dir: string;
  let ids: string[];
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "twelve-threads-cli-"));
    // The default store, exactly where `twelve run` puts it.
    const store = await openSqliteStore({ cwd: dir });
    const agent = deploybotAgent(join(dir, "effects"));
    ids = [];
    for (const tag of ["v1", "v2", "v3"]) {
      ids.push(
        (
          await startStored(
            store,
            agent,
            { type: "user_message", data: `deploy:${tag}`, meta: { channel: `cli:${tag}` } },
            { model: planningModel() },
          )
        ).id,
      );
    }
    await store.close();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function twelve(...argv: string[]) {
    const io = capture(dir);
    const code = await threadsCommand(argv, io);
    return { code, out: io.out, err: io.err };
  }

  it("ls lists the stored threads with what they wait for, and filters", async () => {
    const r = await twelve("ls");
    expect(r.code).toBe(0);
    for (const id of ids) expect(r.out).toContain(id);
    expect(r.out).toMatch(/awaiting_approval\s+approval of deploy_backend/);
    const json = await twelve("ls", "--status", "awaiting_approval", "--channel", "cli:v2", "--json");
    expect(JSON.parse(json.out).threads.map((t: { id: string }) => t.id)).toEqual([ids[1]]);
    const paged = await twelve("ls", "--limit", "2", "--json");
    const page = JSON.parse(paged.out);
    expect(page.threads).toHaveLength(2);
    const rest = await twelve("ls", "--limit", "2", "--json", "--cursor", page.nextCursor);
    expect(JSON.parse(rest.out).threads).toHaveLength(1);
    expect((await twelve("ls", "--status", "done")).out).toContain("no threads");
  });

  it("show prints status, the pending request and every event", async () => {
    const r = await twelve("show", ids[0] as string);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`thread ${ids[0]} · agent deploybot · awaiting_approval`);
    expect(r.out).toContain("waiting for: approval of deploy_backend");
    expect(r.out).toContain("list_tags_result (result)");
    const json = JSON.parse((await twelve("show", ids[0] as string, "--json")).out);
    expect(json.id).toBe(ids[0]);
  });

  it("export writes a JSON thread file atomically, import stores it (under a new id), fork copies a prefix", async () => {
    const id = ids[0] as string;
    const exported = await twelve("export", id, "--out", "out/thread.json");
    expect(exported.code).toBe(0);
    expect(readdirSync(join(dir, "out"))).toEqual(["thread.json"]);
    const file = JSON.parse(readFileSync(join(dir, "out/thread.json"), "utf8"));
    expect(file.id).toBe(id);
    const stdout = await twelve("export", id);
    expect(JSON.parse(stdout.out)).toEqual(file);

    const dup = await twelve("import", "out/thread.json");
    expect(dup.code).toBe(2);
    expect(dup.err).toMatch(
      /already exists in the store; import it under another id with --id <newId> \[thread_exists\]/,
    );
    const imported = await twelve("import", "out/thread.json", "--id", "thr_copy");
    expect(imported.out).toContain("thr_copy");
    expect(JSON.parse((await twelve("show", "thr_copy", "--json")).out).events).toEqual(file.events);

    const at = file.events[0].id;
    const forked = await twelve("fork", id, "--at", at, "--id", "thr_fork");
    expect(forked.code).toBe(0);
    const fork = JSON.parse((await twelve("show", "thr_fork", "--json")).out);
    expect(fork.events).toHaveLength(1);
    expect(fork.parent).toEqual({ threadId: id, eventId: at });
  });

  it("imports a thread file from before schemaVersion existed", async () => {
    const fixture = new URL("./fixtures/thread-v0.json", import.meta.url);
    writeFileSync(join(dir, "legacy.json"), readFileSync(fixture));
    const r = await twelve("import", "legacy.json");
    expect(r.code).toBe(0);
    expect(r.out).toContain("thr_legacy_0001 (2 events, awaiting_approval)");
  });

  it("archive hides a thread from ls", async () => {
    await twelve("archive", ids[2] as string);
    expect((await twelve("ls")).out).not.toContain(ids[2]);
    expect((await twelve("ls", "--archived")).out).toContain(`${ids[2]}`);
  });

  it("does not create a database just to look: no store yet means no threads", async () => {
    const empty = mkdtempSync(join(tmpdir(), "twelve-threads-empty-"));
    try {
      const io = capture(empty);
      expect(await threadsCommand(["ls"], io)).toBe(0);
      expect(io.out).toContain("no threads");
      const show = capture(empty);
      expect(await threadsCommand(["show", "thr_x"], show)).toBe(2);
      expect(show.err).toMatch(/\[thread_not_found\]/);
      expect(existsSync(join(empty, ".twelve"))).toBe(false);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("names bad input: unknown ids, bad files, bad flags, bad stores", async () => {
    const missing = await twelve("show", "thr_nope");
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/no thread "thr_nope" in the store.*\[thread_not_found\]/);
    writeFileSync(join(dir, "bad.json"), '{"id": "x", "events": [');
    expect((await twelve("import", "bad.json")).err).toMatch(/bad.json is not valid JSON/);
    writeFileSync(join(dir, "notthread.json"), '{"id": "x", "agent": "a", "events": [{"id": "e"}]}');
    expect((await twelve("import", "notthread.json")).err).toMatch(/events\[0\]/);
    expect((await twelve("import", "missing.json")).err).toMatch(/cannot read thread file missing.json/);
    const badStatus = await twelve("ls", "--status", "sleeping");
    expect(badStatus.code).toBe(2);
    expect(badStatus.err).toMatch(/sleeping/);
    expect((await twelve("ls", "--limit", "0")).err).toMatch(/--limit/);
    expect((await twelve("fork", ids[0] as string, "--at", "evt_missing")).err).toMatch(
      /no event with id "evt_missing"/,
    );
    writeFileSync(join(dir, "garbage.db"), "not a database at all\n".repeat(100));
    const corrupt = await twelve("ls", "--store", "garbage.db");
    expect(corrupt.code).toBe(2);
    expect(corrupt.err).toMatch(/damaged or not a twelve database.*\[store_corrupt\]/);
    expect((await twelve("frobnicate")).code).toBe(2);
  });
});
