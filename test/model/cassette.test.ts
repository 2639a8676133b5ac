import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReplayMissError, recordModel, replayModel, requestKey } from "../../src/model/cassette.js";
import { scriptedModel } from "../../src/model/scripted.js";
import type { GenerateRequest } from "../../src/model/types.js";
import { calculatorOutput } from "./calculator.js";

const system = { role: "system" as const, content: "You are a calculator.\nAnswer with one JSON step.\nBe brief." };
const first: GenerateRequest = {
  messages: [system, { role: "user", content: "<user_message>\nmultiply 3 and 4\n</user_message>" }],
  output: calculatorOutput("json"),
};
const second: GenerateRequest = {
  messages: [
    ...first.messages,
    { role: "user", content: "<multiply>\na: 3\nb: 4\n</multiply>\n<multiply_result>\n12\n</multiply_result>" },
  ],
  output: calculatorOutput("json"),
};

describe("record / replay cassettes", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "twelve-cassette-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("records every call, then replays the same answers offline", async () => {
    const path = join(dir, "calc.json");
    const inner = scriptedModel([
      { intent: "multiply", a: 3, b: 4 },
      {
        toolCalls: [{ id: "c1", name: "done_for_now", arguments: { message: "12" } }],
        usage: { inputTokens: 9, outputTokens: 3 },
        raw: { big: true },
      },
    ]);
    const recorder = recordModel(inner, path);
    const a = await recorder.generate(first);
    const b = await recorder.generate(second);
    expect(recorder.id).toBe(inner.id);

    const cassette = JSON.parse(await readFile(path, "utf8"));
    expect(cassette.version).toBe(1);
    expect(cassette.model).toBe(inner.id);
    expect(cassette.entries).toHaveLength(2);
    expect(cassette.entries[0].key).toBe(requestKey(first));
    expect(cassette.entries[1].request.messages).toEqual(second.messages);
    expect(cassette.entries[1].response.raw).toBeUndefined();

    const replay = await replayModel(path);
    expect(replay.id).toBe(`replay:${path}`);
    // Order does not matter: each answer is found by its request.
    const rb = await replay.generate(second);
    const ra = await replay.generate(first);
    expect(ra.text).toBe(a.text);
    expect(rb.toolCalls).toEqual(b.toolCalls);
    expect(rb.usage).toEqual({ inputTokens: 9, outputTokens: 3 });
  });

  it("keys ignore object key order but nothing else", () => {
    const reordered: GenerateRequest = {
      output: first.output!,
      messages: first.messages.map((m) => ({ content: m.content, role: m.role })),
    };
    expect(requestKey(reordered)).toBe(requestKey(first));
    expect(requestKey({ ...first, temperature: 0 })).not.toBe(requestKey(first));
    expect(requestKey({ ...first, output: calculatorOutput("tools") })).not.toBe(requestKey(first));
    const edited = {
      ...first,
      messages: [system, { role: "user" as const, content: first.messages[1]!.content.replace("3", "5") }],
    };
    expect(requestKey(edited)).not.toBe(requestKey(first));
  });

  it("an unknown request fails loudly, naming the first differing message and line", async () => {
    const path = join(dir, "miss.json");
    const recorder = recordModel(scriptedModel(["one", "two"]), path);
    await recorder.generate(first);
    await recorder.generate(second);
    const replay = await replayModel(path);

    const changed: GenerateRequest = {
      ...second,
      messages: [
        second.messages[0]!,
        second.messages[1]!,
        { role: "user", content: second.messages[2]!.content.replace("12", "13") },
      ],
    };
    const error = (await replay.generate(changed).catch((e) => e)) as ReplayMissError;
    expect(error).toBeInstanceOf(ReplayMissError);
    expect(error.code).toBe("replay_miss");
    expect(error.message).toContain("message 2 (user) line 6");
    expect(error.message).toContain('got "13", recorded "12"');
    expect(error.details?.closestKey).toBe(requestKey(second));

    const otherSystem = {
      ...first,
      messages: [
        { role: "system" as const, content: "You are a calculator.\nAnswer in YAML.\nBe brief." },
        first.messages[1]!,
      ],
    };
    await expect(replay.generate(otherSystem)).rejects.toThrow(
      /message 0 \(system\) line 2: got "Answer in YAML\.", recorded "Answer with one JSON step\."/,
    );
    await expect(replay.generate({ ...first, output: calculatorOutput("tools") })).rejects.toThrow(
      /same messages, different output/,
    );
  });

  it("the same request recorded twice is answered in order, then the last answer repeats", async () => {
    const path = join(dir, "repeat.json");
    const recorder = recordModel(scriptedModel(["first answer", "second answer"]), path);
    await recorder.generate(first);
    await recorder.generate(first);
    const replay = await replayModel(path);
    expect((await replay.generate(first)).text).toBe("first answer");
    expect((await replay.generate(first)).text).toBe("second answer");
    expect((await replay.generate(first)).text).toBe("second answer");
  });

  it("append mode keeps earlier recordings; streaming replays the text through onText", async () => {
    const path = join(dir, "append.json");
    await recordModel(scriptedModel(["a"]), path).generate(first);
    await recordModel(scriptedModel(["b"]), path, { append: true }).generate(second);
    const replay = await replayModel(path);
    const deltas: string[] = [];
    expect((await replay.generate({ ...second, onText: (d) => deltas.push(d) })).text).toBe("b");
    expect(deltas).toEqual(["b"]);
    expect((await replay.generate(first)).text).toBe("a");
  });

  it("errors from the recorded model propagate and are not recorded", async () => {
    const path = join(dir, "errors.json");
    const recorder = recordModel(scriptedModel([{ error: "provider down", code: "server" }, "ok"]), path);
    await expect(recorder.generate(first)).rejects.toMatchObject({ code: "server" });
    await recorder.generate(first);
    const cassette = JSON.parse(await readFile(path, "utf8"));
    expect(cassette.entries.map((e: { response: { text: string } }) => e.response.text)).toEqual(["ok"]);
  });

  it("missing, invalid and foreign cassette files give cassette_invalid", async () => {
    await expect(replayModel(join(dir, "absent.json"))).rejects.toMatchObject({
      code: "cassette_invalid",
      message: expect.stringContaining("does not exist; record one with recordModel"),
    });
    const bad = join(dir, "bad.json");
    await writeFile(bad, "{ nope");
    await expect(replayModel(bad)).rejects.toMatchObject({
      code: "cassette_invalid",
      message: expect.stringContaining("not valid JSON"),
    });
    await writeFile(bad, JSON.stringify({ entries: {} }));
    await expect(replayModel(bad)).rejects.toMatchObject({
      code: "cassette_invalid",
      message: expect.stringContaining("version 1"),
    });
    await writeFile(bad, JSON.stringify({ version: 1, model: "x", entries: [] }));
    await expect((await replayModel(bad)).generate(first)).rejects.toMatchObject({
      code: "replay_miss",
      message: expect.stringContaining("is empty"),
    });
  });
});
