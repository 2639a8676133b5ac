import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

/** A Standard Webhooks secret as a provider hands it out. */
export const newSecret = () => `whsec_${randomBytes(24).toString("base64")}`;

export interface Delivery {
  id: string;
  timestamp: number;
  signature: string;
  body: string;
  headers: IncomingHttpHeaders;
  /** What the receiver answered. */
  status: number;
  /** The payload as `Webhook.verify` returned it, or the verification error's message. */
  verified:
    | { ok: true; payload: { type: string; timestamp: string; data: Record<string, unknown> } }
    | { ok: false; error: string };
}

/**
 * A real HTTP receiver, verifying each delivery with the standardwebhooks
 * package exactly as a user's receiver would; it answers with the next
 * status of `statuses` (then 204), or 400 when verification fails.
 */
export async function startReceiver(secret: string): Promise<{
  url: string;
  deliveries: Delivery[];
  statuses: number[];
  /** Awaited before each answer (to hold deliveries in flight). */
  setDelay: (delay: () => Promise<void>) => void;
  close: () => Promise<void>;
}> {
  let delay: () => Promise<void> = async () => {};
  const verifier = new Webhook(secret);
  const deliveries: Delivery[] = [];
  const statuses: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      await delay();
      const body = Buffer.concat(chunks).toString("utf8");
      const h = req.headers;
      let verified: Delivery["verified"];
      try {
        verified = { ok: true, payload: verifier.verify(body, h as Record<string, string>) as never };
      } catch (error) {
        verified = { ok: false, error: (error as Error).message };
      }
      const status = verified.ok ? (statuses.shift() ?? 204) : 400;
      deliveries.push({
        id: String(h["webhook-id"]),
        timestamp: Number(h["webhook-timestamp"]),
        signature: String(h["webhook-signature"]),
        body,
        headers: h,
        status,
        verified,
      });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    deliveries,
    statuses,
    setDelay: (d) => {
      delay = d;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
