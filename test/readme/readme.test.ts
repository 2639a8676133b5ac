import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

describe("README", () => {
  it("opens with exactly the two set-up commands, and they are the ones CI runs", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    const commands = firstBlock
      .trim()
      .split("\n")
      .map((l) => l.replace(/#.*$/, "").trim());
    expect(commands).toEqual(["npm install && npm run example", "npm install && npm test"]);
    const ci = readFileSync(join(root, ".ci/run"), "utf8");
    expect(ci).toContain("npm install");
    expect(ci).toContain("npm test");
    expect(ci).toContain("npm run example");
  });

  it("its 30-line example runs as written", async () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const code = /## An agent in 30 lines\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    expect(code!.split("\n").length).toBeLessThanOrEqual(32);
    // Run it with "twelve-agents" pointing at the sources, capturing what it logs.
    const file = join(root, "test/readme/.readme-example.test-tmp.ts");
    const entry = (sub: string | undefined) =>
      join(root, sub ? `src/${sub === "testing" ? "testing" : `${sub}/index`}.ts` : "src/index.ts");
    const rewritten = code!.replace(
      /from "twelve-agents(?:\/(\w+))?"/g,
      (_m, sub: string | undefined) => `from ${JSON.stringify(entry(sub))}`,
    );
    const logs: unknown[][] = [];
    const lines = rewritten.split("\n");
    const imports = lines.filter((l) => l.startsWith("import "));
    const body = lines.filter((l) => !l.startsWith("import "));
    writeFileSync(
      file,
      `${imports.join("\n")}\nexport async function main(console: { log: (...a: unknown[]) => void }) {\n${body.join("\n")}\n}\n`,
    );
    const { main } = await import(/* @vite-ignore */ file);
    await main({ log: (...args: unknown[]) => logs.push(args) });
    expect(logs[0]).toEqual(["awaiting_approval"]);
    expect(logs[1]?.[0]).toBe("done");
    expect(logs[1]?.[1]).toEqual({ intent: "done_for_now", message: "12 / 2 = 6" });
  });
});
