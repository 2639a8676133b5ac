import type { Agent } from "../agent/agent.js";
import { findIntent } from "../agent/agent.js";
import { RequestError } from "../errors/index.js";
import type { Responders } from "../intent/intent.js";
import type { By } from "../thread/event.js";
import type { HumanRequest } from "../thread/request.js";

/** The responders policy in force for a request: the intent's, else (for questions) humanInput's, else the agent's. */
export function respondersFor(agent: Agent, request: HumanRequest): Responders | undefined {
  const intent = request.intent ? findIntent(agent, request.intent) : undefined;
  if (intent?.responders) return intent.responders;
  if (request.kind === "question" && agent.humanInput.responders) return agent.humanInput.responders;
  return agent.responders;
}

/**
 * Refuses (responder_refused) an answer whose `by` the policy does not
 * allow. No policy: anyone may answer. A policy with no `by`: refused,
 * since nobody can be checked against it.
 */
export async function checkResponder(agent: Agent, request: HumanRequest, by: By | undefined): Promise<void> {
  const policy = respondersFor(agent, request);
  if (!policy) return;
  const refuse = (why: string): never => {
    throw new RequestError("responder_refused", `request ${request.id}: ${why}`, {
      requestId: request.id,
      by: by ?? null,
    });
  };
  if (!by) return refuse("this request has a responders policy and the answer says nobody answered it (no `by`)");
  const allowed =
    typeof policy === "function" ? await policy(by, request) : policy.includes("*") || policy.includes(by.id);
  if (!allowed) refuse(`${by.id} (via ${by.via}) may not answer it`);
}
