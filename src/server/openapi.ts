import { z } from "zod";
import * as s from "./schemas.js";

/**
 * The API's routes with the zod schemas they parse requests with and build
 * responses to. /v1/openapi.json is generated from this table (zod 4's own
 * JSON Schema output, which is the dialect OpenAPI 3.1 uses), and the test
 * suite validates every response it gets against the same schemas.
 */
export interface RouteSpec {
  method: "get" | "post";
  /** OpenAPI path template (`{id}`). */
  path: string;
  operationId: string;
  summary: string;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Success responses by status; a schema, or a media type for non-JSON bodies. */
  responses: Record<number, z.ZodType | { mediaType: string }>;
  /** Error statuses this route documents (every body is an Error). */
  errors: number[];
}

const threadPath = { id: "Thread id" };
const COMMON = [400, 401, 403];
const WRITE = [...COMMON, 413, 415, 503];

export const ROUTES: RouteSpec[] = [
  {
    method: "get",
    path: "/v1/agents",
    operationId: "listAgents",
    summary: "The agents this server runs",
    responses: { 200: s.agentList },
    errors: COMMON,
  },
  {
    method: "get",
    path: "/v1/agents/{agent}",
    operationId: "getAgent",
    summary: "One agent and its intents",
    responses: { 200: s.agentView },
    errors: [...COMMON, 404],
  },
  {
    method: "post",
    path: "/v1/agents/{agent}/threads",
    operationId: "launchThread",
    summary: "Start a thread (202 + Location; with ?wait=<s>, the thread once it pauses or ends)",
    query: s.waitQuery,
    body: s.launchBody,
    responses: { 201: s.threadView, 202: s.threadView },
    errors: [...WRITE, 404, 422],
  },
  {
    method: "get",
    path: "/v1/threads",
    operationId: "listThreads",
    summary: "Threads, most recently updated first, with cursor pagination",
    query: s.threadListQuery,
    responses: { 200: s.threadList },
    errors: COMMON,
  },
  {
    method: "get",
    path: "/v1/threads/{id}",
    operationId: "getThread",
    summary: "A thread: derived status, pending request, output, events",
    responses: { 200: s.threadView },
    errors: [...COMMON, 404],
  },
  {
    method: "get",
    path: "/v1/threads/{id}/markdown",
    operationId: "getThreadMarkdown",
    summary: "A thread as Markdown",
    responses: { 200: { mediaType: "text/markdown" } },
    errors: [...COMMON, 404],
  },
  {
    method: "post",
    path: "/v1/threads/{id}/messages",
    operationId: "sendMessage",
    summary: "Append a user message (or reject the pending approval named in `rejects` with it)",
    query: s.waitQuery,
    body: s.messageBody,
    responses: { 200: s.threadView, 202: s.threadView },
    errors: [...WRITE, 404, 409, 422],
  },
  {
    method: "post",
    path: "/v1/threads/{id}/fork",
    operationId: "forkThread",
    summary: "Copy a thread up to an event into a new thread",
    body: s.forkBody,
    responses: { 201: s.threadView },
    errors: [...WRITE, 404],
  },
  {
    method: "post",
    path: "/v1/threads/{id}/cancel",
    operationId: "cancelThread",
    summary:
      "Cancel a thread at its next step boundary (200 cancelled now; 202 recorded while a handler runs; a finished thread as it is)",
    body: s.cancelBody,
    responses: { 200: s.threadView, 202: s.threadView },
    errors: [...WRITE, 404],
  },
  {
    method: "get",
    path: "/v1/threads/{id}/stream",
    operationId: "streamThread",
    summary:
      "Server-sent events of the thread's stored events (id = event index; resume with Last-Event-ID), from any process",
    responses: { 200: { mediaType: "text/event-stream" } },
    errors: [...COMMON, 404],
  },
  {
    method: "get",
    path: "/v1/requests/stream",
    operationId: "streamRequests",
    summary: "Server-sent events: a snapshot of the pending requests, then their changes (the inbox's feed)",
    responses: { 200: { mediaType: "text/event-stream" } },
    errors: COMMON,
  },
  {
    method: "get",
    path: "/v1/requests",
    operationId: "listRequests",
    summary: "Pending human requests across threads",
    query: s.requestListQuery,
    responses: { 200: s.requestList },
    errors: COMMON,
  },
  {
    method: "get",
    path: "/v1/requests/{id}",
    operationId: "getRequest",
    summary: "A pending request (409 already_answered once answered)",
    responses: { 200: s.humanRequest },
    errors: [...COMMON, 404, 409],
  },
  {
    method: "post",
    path: "/v1/requests/{id}",
    operationId: "answerRequest",
    summary: "Answer a request with one decision",
    query: s.waitQuery,
    body: s.decisionBody,
    responses: { 200: s.threadView, 202: s.threadView },
    errors: [...WRITE, 404, 409, 422],
  },
];

const PATH_PARAMS: Record<string, string> = { ...threadPath, agent: "Agent name" };

/** Routes added by plug-ins (streams, webhooks, cancel) describe themselves here before the document is built. */
export const EXTRA_ROUTES: RouteSpec[] = [];

const COMPONENTS = [
  s.event,
  s.by,
  s.humanRequest,
  s.threadView,
  s.threadSummaryView,
  s.threadList,
  s.requestList,
  s.agentView,
  s.agentList,
  s.errorBody,
  s.launchBody,
  s.decisionBody,
  s.messageBody,
  s.forkBody,
  s.cancelBody,
];

const ref = (schema: z.ZodType): Record<string, unknown> => {
  const id = z.globalRegistry.get(schema)?.id;
  if (id) return { $ref: `#/components/schemas/${id}` };
  return strip(z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>);
};

function strip(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
}

/** The OpenAPI 3.1 document of the API. */
export function openApiDocument(options: { version: string; serverUrl?: string }): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  for (const schema of COMPONENTS) {
    const id = z.globalRegistry.get(schema)?.id;
    if (id) registry.add(schema, { id });
  }
  const generated = z.toJSONSchema(registry, {
    uri: (id) => `#/components/schemas/${id}`,
    unrepresentable: "any",
  }) as { schemas: Record<string, Record<string, unknown>> };
  const schemas = Object.fromEntries(Object.entries(generated.schemas).map(([k, v]) => [k, strip(v)]));

  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of [...ROUTES, ...EXTRA_ROUTES]) {
    const parameters: Record<string, unknown>[] = [];
    for (const name of route.path.match(/\{(\w+)\}/g) ?? []) {
      const key = name.slice(1, -1);
      parameters.push({
        name: key,
        in: "path",
        required: true,
        description: PATH_PARAMS[key],
        schema: { type: "string" },
      });
    }
    for (const [name, prop] of Object.entries(route.query?.shape ?? {})) {
      const schema = strip(
        z.toJSONSchema(prop as z.ZodType, { io: "input", unrepresentable: "any" }) as Record<string, unknown>,
      );
      parameters.push({ name, in: "query", required: !(prop as z.ZodType).safeParse(undefined).success, schema });
    }
    const responses: Record<string, unknown> = {};
    for (const [status, body] of Object.entries(route.responses)) {
      responses[status] =
        "mediaType" in body
          ? { description: "OK", content: { [body.mediaType]: { schema: { type: "string" } } } }
          : {
              description: Number(status) === 202 ? "Accepted" : "OK",
              content: { "application/json": { schema: ref(body) } },
            };
    }
    for (const status of route.errors) {
      responses[String(status)] = {
        description: "Error (docs/errors.md)",
        content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
      };
    }
    const op: Record<string, unknown> = {
      operationId: route.operationId,
      summary: route.summary,
      ...(parameters.length && { parameters }),
      ...(route.body && {
        requestBody: {
          required: route.method === "post" && route.body !== s.forkBody && route.body !== s.cancelBody,
          content: { "application/json": { schema: ref(route.body) } },
        },
      }),
      responses,
      security: [{ apiKey: [] }],
    };
    paths[route.path] = { ...(paths[route.path] ?? {}), [route.method]: op };
  }
  return {
    openapi: "3.1.0",
    info: { title: "twelve", version: options.version, description: "Launch, pause and resume agents over HTTP." },
    ...(options.serverUrl && { servers: [{ url: options.serverUrl }] }),
    paths,
    components: {
      schemas,
      securitySchemes: { apiKey: { type: "http", scheme: "bearer", description: "An API key (secrets.apiKeys)" } },
    },
  };
}
