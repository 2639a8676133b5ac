// The deploybot for `twelve run`, configured from environment variables:
//
//   DEPLOYBOT_REPO=path/to/repo \
//   DEPLOYBOT_DEPLOY_BACKEND='./scripts/deploy-backend.sh' \
//   DEPLOYBOT_DEPLOY_FRONTEND='./scripts/deploy-frontend.sh' \
//   DEPLOYBOT_CHECK_STATUS='./scripts/status.sh' \
//   twelve run examples/deploybot/agent.ts "deploy the latest release to production"
//
// The commands get TAG, COMMIT and ENVIRONMENT in their environment. To build
// the agent from code instead, use createDeploybot() from ./deploybot.ts.
import { configFromEnv } from "./config.js";
import { createDeploybot } from "./deploybot.js";

export default createDeploybot(configFromEnv());
