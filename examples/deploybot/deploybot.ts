// The essay's deploybot: deploys tagged releases of a frontend and a backend,
// with a human approving every deployment before it runs.
import { type Agent, type AnyIntent, defineAgent, defineIntent, type NewEvent, TwelveError } from "twelve-agents";
import { z } from "zod";
import { listGitTags, tagCommit } from "./git.js";
import { runShell, tail } from "./shell.js";

/** Command output kept in the thread: the end of it, where the outcome usually is. */
const OUTPUT_CHARS = 4000;

export interface DeploybotConfig {
  /** Path of the git repository whose tags are the deployable releases. */
  repo: string;
  /** Shell command that deploys the backend; gets TAG, COMMIT and ENVIRONMENT in its environment. */
  deployBackend: string;
  /** Shell command that deploys the frontend; same variables. */
  deployFrontend: string;
  /** Shell command that reports deployment status; gets ENVIRONMENT (may be empty). Omitted: no status intent. */
  checkStatus?: string;
  /** Extra environment variables for the commands (credentials stay here, out of the prompt). */
  env?: Record<string, string>;
  /** Commands are stopped after this long. Default 15 minutes. */
  timeoutMs?: number;
  /** Working directory of the commands. Default: the repository. */
  cwd?: string;
}

const environments = z.enum(["staging", "production"]);
const release = z.object({
  tag: z.string().describe("a git tag from list_git_tags, e.g. v1.2.3"),
  environment: environments.describe("where to deploy"),
});

export const DEPLOYBOT_INSTRUCTIONS = [
  "You are a helpful assistant that manages deployments for frontend and backend systems.",
  "You work diligently to ensure safe and successful deployments by following best practices.",
  "Before deploying, make sure you know the environment (staging or production) and which tag to deploy;",
  "the latest release is the highest version tag. If the request is unclear, ask with request_human_input.",
  "A human approves every deployment; when they reject one, follow their feedback.",
].join("\n");

export function createDeploybot(config: DeploybotConfig): Agent {
  for (const key of ["repo", "deployBackend", "deployFrontend"] as const) {
    if (typeof config?.[key] !== "string" || config[key].trim() === "") {
      throw new TwelveError("config_error", `createDeploybot: "${key}" must be a non-empty string`, { key });
    }
  }
  if (
    config.checkStatus !== undefined &&
    (typeof config.checkStatus !== "string" || config.checkStatus.trim() === "")
  ) {
    throw new TwelveError("config_error", 'createDeploybot: "checkStatus" must be a non-empty string when given', {
      key: "checkStatus",
    });
  }
  const { repo } = config;
  const commandOptions = {
    cwd: config.cwd ?? repo,
    env: config.env ?? {},
    timeoutMs: config.timeoutMs ?? 15 * 60_000,
  };

  const deploy = (part: "backend" | "frontend", command: string) =>
    defineIntent(`deploy_${part}`, release, {
      description: `Deploy a tagged release of the ${part} to an environment (a human approves it first)`,
      policy: "approve",
      handler: async ({ tag, environment }, { signal }) => {
        const commit = await tagCommit(repo, tag);
        const env = { ...commandOptions.env, TAG: tag, COMMIT: commit, ENVIRONMENT: environment };
        const { stdout } = await runShell(`deploy_${part}`, command, { ...commandOptions, env, signal });
        return { status: "success", tag, environment, output: tail(stdout, OUTPUT_CHARS) };
      },
    });

  const intents: AnyIntent[] = [
    defineIntent("list_git_tags", z.object({}), {
      description: "List the repository's release tags, newest version first",
      idempotent: true,
      handler: async () => ({ tags: await listGitTags(repo) }),
    }),
    deploy("backend", config.deployBackend),
    deploy("frontend", config.deployFrontend),
  ];
  if (config.checkStatus) {
    const command = config.checkStatus;
    intents.push(
      defineIntent(
        "check_deployment_status",
        z.object({ environment: environments.optional().describe("omit for all environments") }),
        {
          description: "Check the current deployment status (of one environment, or all)",
          idempotent: true,
          handler: async ({ environment }, { signal }) => {
            const env = { ...commandOptions.env, ENVIRONMENT: environment ?? "" };
            const { stdout } = await runShell("check_deployment_status", command, { ...commandOptions, env, signal });
            return { environment: environment ?? "all", output: tail(stdout, OUTPUT_CHARS) };
          },
        },
      ),
    );
  }

  return defineAgent({
    name: "deploybot",
    instructions: DEPLOYBOT_INSTRUCTIONS,
    intents,
    hooks: { prefetch: () => prefetchTags(repo) },
  });
}

/**
 * Factor 13 (pre-fetch): the model nearly always needs the tags first, so
 * fetch them before the first model call instead of spending a round trip on
 * asking for them. Rendered exactly as if the model had called list_git_tags.
 * A git failure becomes a compact error the model can act on.
 */
export async function prefetchTags(repo: string): Promise<NewEvent[]> {
  const call: NewEvent = { type: "list_git_tags", data: { intent: "list_git_tags" } };
  try {
    const tags = await listGitTags(repo);
    return [call, { type: "list_git_tags_result", data: { tags }, meta: { kind: "result", intent: "list_git_tags" } }];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return [call, { type: "error", data: { kind: "prefetch", intent: "list_git_tags", message } }];
  }
}
