import { createInterface } from "node:readline";
import type { NewEvent } from "../agent/agent.js";
import { approve, humanResponse, reject } from "../agent/events.js";
import { TwelveError } from "../errors/index.js";
import type { PendingRequest } from "../thread/status.js";

/** Where the CLI gets a human's decision for a paused thread. `undefined`: nobody answered. */
export type Decide = (pending: PendingRequest) => Promise<NewEvent | undefined>;

export interface AnswerFlags {
  yes?: boolean;
  approve?: boolean;
  reject?: string;
  edit?: string;
  answer?: string[];
}

function parseEdit(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value;
  } catch {
    // fall through to the error below
  }
  throw new TwelveError("invalid_flag", `--edit needs a JSON object of arguments, e.g. '{"a":3,"b":5}'; got ${text}`);
}

/** Answers given on the command line; each one-shot flag is used once. */
export function flagAnswers(flags: AnswerFlags): Decide {
  let once = { approve: flags.approve, reject: flags.reject, edit: flags.edit };
  const answers = [...(flags.answer ?? [])];
  return async (pending) => {
    if (pending.kind === "approval" || pending.kind === "uncertain_execution") {
      if (once.edit !== undefined) {
        const edited = parseEdit(once.edit);
        once = { ...once, edit: undefined };
        return approve({ arguments: edited, by: "cli" });
      }
      if (once.reject !== undefined) {
        const feedback = once.reject;
        once = { ...once, reject: undefined };
        return reject(feedback, { by: "cli" });
      }
      if (once.approve) {
        once = { ...once, approve: false };
        return approve({ by: "cli" });
      }
      if (flags.yes && pending.kind === "approval") return approve({ by: "cli --yes" });
      return undefined;
    }
    if (pending.kind === "human_input") {
      const next = answers.shift();
      return next === undefined ? undefined : humanResponse(next, { by: "cli" });
    }
    return undefined;
  };
}

/**
 * Answers read line by line from standard input (for scripts): for an
 * approval `y`/`yes`, `n <feedback>` or `edit <json>`; for a question, the
 * line is the answer.
 */
export function stdinAnswers(input: NodeJS.ReadableStream = process.stdin): Decide {
  const lines: string[] = [];
  const waiting: ((line: string | undefined) => void)[] = [];
  let closed = false;
  const rl = createInterface({ input });
  rl.on("line", (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else lines.push(line);
  });
  rl.on("close", () => {
    closed = true;
    for (const w of waiting.splice(0)) w(undefined);
  });
  const nextLine = (): Promise<string | undefined> =>
    lines.length > 0
      ? Promise.resolve(lines.shift())
      : closed
        ? Promise.resolve(undefined)
        : new Promise((r) => waiting.push(r));
  return async (pending) => {
    const line = await nextLine();
    if (line === undefined) return undefined;
    if (pending.kind === "human_input") return humanResponse(line, { by: "stdin" });
    if (pending.kind === "external_result") return undefined;
    const trimmed = line.trim();
    if (/^(y|yes|approve)$/i.test(trimmed)) return approve({ by: "stdin" });
    const edit = trimmed.match(/^edit\s+(.+)$/i);
    if (edit?.[1]) return approve({ arguments: parseEdit(edit[1]), by: "stdin" });
    const no = trimmed.match(/^(?:n|no|reject)\b[:\s]*(.*)$/i);
    if (no) return reject(no[1] || "rejected", { by: "stdin" });
    throw new TwelveError("invalid_answer", `cannot read "${line}" as an approval; use y, n <feedback> or edit <json>`);
  };
}

/** Interactive prompts in a terminal (approve / reject with feedback / edit arguments; questions). */
export function terminalAnswers(): Decide {
  return async (pending) => {
    const { confirm, input, select } = await import("@inquirer/prompts");
    if (pending.kind === "human_input") {
      if (pending.format === "yes_no") {
        return humanResponse(await confirm({ message: pending.question }), { by: "terminal" });
      }
      if (pending.format === "multiple_choice" && pending.choices?.length) {
        const choice = await select({ message: pending.question, choices: pending.choices.map((c) => ({ value: c })) });
        return humanResponse(choice, { by: "terminal" });
      }
      return humanResponse(await input({ message: pending.question, required: true }), { by: "terminal" });
    }
    if (pending.kind === "external_result") return undefined;
    const label =
      pending.kind === "approval"
        ? `Approve ${pending.intent} ${JSON.stringify(pending.arguments)}?`
        : `${pending.intent} ${JSON.stringify(pending.arguments)} may or may not have run. Run it again?`;
    const action = await select({
      message: label,
      choices: [
        { name: "approve", value: "approve" },
        { name: "reject with feedback", value: "reject" },
        { name: "edit arguments, then approve", value: "edit" },
      ],
    });
    if (action === "approve") return approve({ by: "terminal" });
    if (action === "reject")
      return reject(await input({ message: "Feedback for the agent:", required: true }), { by: "terminal" });
    const text = await input({
      message: "Arguments (JSON):",
      default: JSON.stringify(pending.arguments),
      validate: (v) => {
        try {
          parseEdit(v);
          return true;
        } catch (error) {
          return (error as Error).message;
        }
      },
    });
    return approve({ arguments: parseEdit(text), by: "terminal" });
  };
}

/** Flags first, then stdin or the terminal. */
export function chain(...sources: Decide[]): Decide {
  return async (pending) => {
    for (const source of sources) {
      const answer = await source(pending);
      if (answer) return answer;
    }
    return undefined;
  };
}
