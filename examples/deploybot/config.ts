import { statSync } from "node:fs";
import { TwelveError } from "twelve-agents";
import type { DeploybotConfig } from "./deploybot.js";

const REQUIRED = {
  repo: "DEPLOYBOT_REPO",
  deployBackend: "DEPLOYBOT_DEPLOY_BACKEND",
  deployFrontend: "DEPLOYBOT_DEPLOY_FRONTEND",
} as const;

/** Reads the deploybot's configuration from environment variables; names every missing one. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): DeploybotConfig {
  const missing = Object.values(REQUIRED).filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new TwelveError(
      "config_error",
      `deploybot needs ${missing.join(", ")} set. DEPLOYBOT_REPO: the git repository whose tags are the releases; DEPLOYBOT_DEPLOY_BACKEND, DEPLOYBOT_DEPLOY_FRONTEND: shell commands run with TAG, COMMIT and ENVIRONMENT set; DEPLOYBOT_CHECK_STATUS (optional): a status command run with ENVIRONMENT set`,
      { missing },
    );
  }
  const repo = env[REQUIRED.repo] as string;
  // Catch a typo now rather than as an error event in the first step.
  if (!statSync(repo, { throwIfNoEntry: false })?.isDirectory()) {
    throw new TwelveError("config_error", `DEPLOYBOT_REPO="${repo}" is not a directory`, { repo });
  }
  const config: DeploybotConfig = {
    repo,
    deployBackend: env[REQUIRED.deployBackend] as string,
    deployFrontend: env[REQUIRED.deployFrontend] as string,
  };
  if (env.DEPLOYBOT_CHECK_STATUS) config.checkStatus = env.DEPLOYBOT_CHECK_STATUS;
  return config;
}
