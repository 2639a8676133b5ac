// Runs the deploybot's configured commands. Arguments reach the command as
// environment variables (TAG, ENVIRONMENT, COMMIT), never by pasting them
// into the command text, so a model-chosen tag cannot inject shell code.
import { execFile } from "node:child_process";

export interface CommandResult {
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Keeps error messages compact (factor 9): the end of the output is where the reason usually is. */
export function tail(text: string, max = 400): string {
  const trimmed = text.trim();
  return trimmed.length <= max ? trimmed : `…${trimmed.slice(-max)}`;
}

/** `sh -c <command>`; resolves with its output, rejects with a short message on a non-zero exit. */
export function runShell(label: string, command: string, options: CommandOptions): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(
      "sh",
      ["-c", command],
      {
        cwd: options.cwd,
        env: { ...process.env, ...options.env },
        timeout: options.timeoutMs,
        signal: options.signal,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (!error) return resolve({ stdout, stderr });
        const e = error as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null };
        let why: string;
        if (typeof e.code === "number") why = `exited with code ${e.code}`;
        else if (e.killed || e.signal) why = `was stopped (${e.signal ?? "timeout"})`;
        else why = `could not start (${e.message})`;
        const output = tail(stderr) || tail(stdout);
        reject(new Error(`${label} command ${why}${output ? `: ${output}` : ""}`));
      },
    );
  });
}
