#!/usr/bin/env node
import { Command, Option } from "commander";
import { isTwelveError, TwelveError } from "../errors/index.js";
import { type CliIO, EXIT, runCommand } from "./commands/run.js";
import { threadsCommand } from "./commands/threads.js";

// Ctrl-C and SIGTERM abort the run, which gives the thread's lease back before the process exits.
const interrupt = new AbortController();
for (const name of ["SIGINT", "SIGTERM"] as const) {
  process.once(name, () => interrupt.abort(new TwelveError("interrupted", `interrupted (${name})`)));
}

function io(): CliIO {
  return {
    signal: interrupt.signal,
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    cwd: process.cwd(),
    env: process.env,
    interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
    color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
  };
}

export function program(): Command {
  const cli = new Command("twelve")
    .description("Build, run and resume 12-factor agents.")
    .showHelpAfterError()
    .exitOverride();

  cli
    .command("run")
    .description("Run an agent on a message (or resume a saved thread) in the terminal")
    .argument("<agent>", "agent module (.ts or .js) exporting an agent made with defineAgent()")
    .argument("[message]", "the user's message that starts the thread (or continues a finished one)")
    .option("-m, --model <spec>", "model to use, e.g. script:steps.json, replay:cassette.json (default: $TWELVE_MODEL)")
    .option("-t, --thread <id>", "resume the saved thread with this id")
    .option(
      "--store <spec>",
      "thread store: SQLite file, sqlite:<path> or postgres:// URL (default: $TWELVE_STORE or .twelve/twelve.db)",
    )
    .option("--request <id>", "the request a decision flag answers (printed when the thread paused)")
    .option(
      "--digest <digest>",
      "digest of the arguments you were shown (printed with approvals; refuses if they changed)",
    )
    .option("--approve", "approve the request named by --request")
    .option("--reject <feedback>", "reject the request with feedback for the agent")
    .option("--edit <json>", "approve the request with edited arguments (JSON object)")
    .option("--answer <text>", "answer the question named by --request")
    .option("--result <json>", "give the result an async step waits for")
    .option("--mark-done [json]", "uncertain step: it ran (optionally with its result as JSON)")
    .option("--run-again", "uncertain step: it did not run; run it again")
    .option("--abandon <reason>", "uncertain step: do not run it; the agent is told it did not run")
    .option("-y, --yes", "approve the approval requests this invocation raises (never an uncertain step)")
    .option(
      "--stdin",
      "answer the requests this invocation raises from standard input, one line each (y | n <feedback> | edit <json> | text | done | again | abandon <reason>)",
    )
    .addOption(new Option("--no-input", "never prompt; pause and print how to resume instead"))
    .addHelpText(
      "after",
      "\nExit codes: 0 done, 1 the thread failed, 2 bad input, configuration or a refused answer (already answered, arguments changed, not allowed), 3 paused awaiting an answer.\nThreads are saved in the store (.twelve/twelve.db by default). A paused thread prints the request it waits on and the exact command that answers it (--request <id> [--digest <d>] and one decision); --thread <id> continues or shows a thread. Answers are recorded as $TWELVE_USER (default: your OS user).",
    )
    .action(async (agent: string, message: string | undefined, options) => {
      process.exitCode = await runCommand(agent, message, options, io());
    });

  cli
    .command("threads")
    .description("List, show, fork, export, import and archive stored threads (twelve threads --help)")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument("[args...]")
    .action(async (_args: string[], _options: unknown, command: Command) => {
      process.exitCode = await threadsCommand(command.args, io());
    });

  return cli;
}

async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (error) {
    const e = error as { code?: string; exitCode?: number };
    if (typeof e.code === "string" && e.code.startsWith("commander.")) {
      process.exitCode = e.code === "commander.helpDisplayed" || e.code === "commander.version" ? 0 : EXIT.usage;
      return;
    }
    // Ctrl-C at a prompt ends the prompt (ExitPromptError); the thread is paused and stays resumable.
    if (interrupt.signal.aborted || (error as Error)?.name === "ExitPromptError") {
      process.stderr.write(
        "twelve: interrupted; the thread was saved up to its last step and resumes with --thread <id>\n",
      );
      process.exitCode = 130;
      return;
    }
    if (isTwelveError(error)) {
      process.stderr.write(`twelve: ${error.message} [${error.code}]\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    process.stderr.write(
      `twelve: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 70;
  }
}

await main(process.argv);
// Exit explicitly: an abandoned download or an SDK keep-alive socket must not keep the CLI hanging.
process.exit(process.exitCode ?? 0);
