/**
 * The one way in: every entry point (CLI, HTTP server, channels, triggers,
 * workers) starts, answers and continues threads through `createRuntime`,
 * under the thread's lease, with the request and responder checks.
 */

export {
  CANCEL_REQUESTED,
  CANCELLED,
  type CancelOptions,
  canCancelNow,
  pendingCancel,
} from "./cancel.js";
export { type AppendOverResult, appendOver, storeCommit } from "./commit.js";
export {
  type InboundProcessor,
  type ReceiveInboundOptions,
  type ReceiveInboundResult,
  type RecoverInboundResult,
  receiveInbound,
  recoverInbound,
} from "./inbound.js";
export { type RunnerLeaseOptions, withLease } from "./lease.js";
export { listRequests, type RequestFilter, type RequestPage } from "./requests.js";
export { checkResponder, respondersFor } from "./responders.js";
export {
  type AgentRuntime,
  createRuntime,
  type RuntimeOptions,
  type RuntimeResult,
  type StartOptions,
} from "./runtime.js";
export {
  type ResumeStoredResult,
  resumeStored,
  runStored,
  type StoredRunOptions,
  type SweepResult,
  startStored,
  sweepRunnable,
} from "./stored.js";
export {
  answerFromToken,
  checkRequestToken,
  type RequestTokenClaims,
  type RequestTokenPayload,
  signRequestToken,
  type TokenAudience,
  TokenError,
  type TokenErrorCode,
  type TokenKey,
  type TokenKeyOptions,
  tokenBy,
  type VerifyTokenOptions,
  verifyRequestToken,
} from "./token.js";
export { type Accepted, createWorker, type Worker, type WorkerOptions } from "./worker.js";
