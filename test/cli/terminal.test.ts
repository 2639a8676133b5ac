import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

// A person at a real terminal: tmux runs `twelve run`, we type keys and read the screen.
const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(root, "dist/cli/main.js");
const calculator = join(root, "examples/calculator/agent.ts");
const session = `twelve-test-${process.pid}`;

const tmux = (...args: string[]) => execFileSync("tmux", args, { encoding: "utf8" });
const screen = () => tmux("capture-pane", "-p", "-t", session);

async function waitFor(text: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const shown = screen();
    if (shown.includes(text)) return shown;
    if (Date.now() > deadline) throw new Error(`"${text}" never appeared; screen:\n${shown}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function start(script: unknown[], message: string) {
  const dir = mkdtempSync(join(tmpdir(), "twelve-tty-"));
  writeFileSync(join(dir, "script.json"), JSON.stringify(script));
  const command = `cd ${dir} && NO_COLOR=1 ${process.execPath} ${bin} run ${calculator} '${message}' --model script:script.json; echo "EXIT=$?"; sleep 60`;
  tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "40", command);
}

afterEach(() => {
  try {
    tmux("kill-session", "-t", session);
  } catch {
    // already gone
  }
});

describe("twelve run in a terminal", () => {
  it("asks inline: reject with feedback, then approve with edited arguments", async () => {
    start(
      [
        { intent: "divide", a: 3, b: 4 },
        { intent: "divide", a: 3, b: 5 },
        { intent: "done_for_now", message: "done" },
      ],
      "divide 3 by 4",
    );
    await waitFor('Approve divide {"a":3,"b":4}?');
    tmux("send-keys", "-t", session, "Down", "Enter");
    await waitFor("Feedback for the agent");
    tmux("send-keys", "-t", session, "use 5 instead of 4", "Enter");
    await waitFor('Approve divide {"a":3,"b":5}?');
    tmux("send-keys", "-t", session, "Down", "Down", "Enter");
    await waitFor("Arguments (JSON)");
    tmux("send-keys", "-t", session, "C-u", '{"a":3,"b":6}', "Enter");
    const shown = await waitFor("EXIT=");
    expect(shown).toContain('approval: {"approved":false,"feedback":"use 5 instead of 4"}');
    expect(shown).toContain("✓ divide_result: 0.5");
    expect(shown).toContain("EXIT=0");
  });

  it("asks the agent's question and continues with the typed answer", async () => {
    start(
      [
        { intent: "request_human_input", question: "Which number?", options: { format: "free_text" } },
        { intent: "add", a: 41, b: 1 },
        { intent: "done_for_now", message: "42" },
      ],
      "add one to my number",
    );
    await waitFor("Which number?");
    tmux("send-keys", "-t", session, "41", "Enter");
    const shown = await waitFor("EXIT=");
    expect(shown).toContain('human_response: {"response":"41"}');
    expect(shown).toContain("✓ add_result: 42");
    expect(shown).toContain("EXIT=0");
  });
});
