import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** What the fake provider does with one request. */
export type Reply =
  | { status?: number; headers?: Record<string, string>; json: unknown }
  | { status?: number; headers?: Record<string, string>; body: string }
  | { sse: string[] }
  | { hang: true }
  | { destroy: true };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/**
 * A provider stand-in on 127.0.0.1 (random port): replies are queued in
 * order, every request is recorded (parsed JSON body) for assertions.
 */
export class FakeProvider {
  readonly requests: RecordedRequest[] = [];
  private replies: Reply[] = [];
  private server: Server | undefined;
  private hanging = new Set<() => void>();
  url = "";

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {}
        this.requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
        const reply = this.replies.shift() ?? { status: 500, json: { error: { message: "fake: no reply queued" } } };
        if ("hang" in reply) {
          const end = () => res.destroy();
          this.hanging.add(end);
          res.on("close", () => this.hanging.delete(end));
          return;
        }
        if ("destroy" in reply) return req.socket.destroy();
        if ("sse" in reply) {
          res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
          for (const event of reply.sse) res.write(event);
          return res.end();
        }
        const payload = "json" in reply ? JSON.stringify(reply.json) : reply.body;
        res.writeHead(reply.status ?? 200, { "content-type": "application/json", ...reply.headers });
        res.end(payload);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  reply(...replies: Reply[]): this {
    this.replies.push(...replies);
    return this;
  }

  reset(): void {
    this.replies = [];
    this.requests.length = 0;
  }

  async stop(): Promise<void> {
    for (const end of this.hanging) end();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

/** One OpenAI-style SSE event. */
export function sseData(data: unknown): string {
  return `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
}

/** One Anthropic-style SSE event (named). */
export function sseEvent(data: { type: string } & Record<string, unknown>): string {
  return `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
}
