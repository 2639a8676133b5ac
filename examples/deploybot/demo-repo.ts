// Creates a small git repository with the essay's release tags (v1.2.1 ..
// v1.2.3), for the tests and for trying the deploybot from the CLI:
//   npx tsx examples/deploybot/demo-repo.ts /tmp/deploy-demo
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const exec = promisify(execFile);

/** The essay's releases, oldest first, with fixed dates so commit ids are reproducible. */
export const DEMO_RELEASES = [
  { tag: "v1.2.1", date: "2024-03-13T09:15:00Z" },
  { tag: "v1.2.2", date: "2024-03-14T15:30:00Z" },
  { tag: "v1.2.3", date: "2024-03-15T10:00:00Z" },
] as const;

export async function createDemoRepo(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const identity = ["-c", "user.name=Deploy Demo", "-c", "user.email=demo@example.com", "-c", "commit.gpgsign=false"];
  // Keep the user's own git configuration (hooks, signing, templates) out of it.
  const baseEnv = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" };
  const git = (args: string[], env: Record<string, string> = {}) =>
    exec("git", [...identity, "-C", dir, ...args], { env: { ...baseEnv, ...env } });
  await git(["init", "-q", "-b", "main"]);
  for (const { tag, date } of DEMO_RELEASES) {
    await writeFile(join(dir, "VERSION"), `${tag}\n`);
    await git(["add", "VERSION"]);
    await git(["commit", "-q", "-m", `release ${tag}`], { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
    await git(["tag", tag]);
  }
  return dir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = resolve(process.argv[2] ?? "deploy-demo");
  await createDemoRepo(dir);
  process.stdout.write(`created ${dir} with tags ${DEMO_RELEASES.map((r) => r.tag).join(", ")}\n`);
}
