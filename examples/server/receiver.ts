/**
 * The demo's webhook receiver, `/demo/webhooks`: an inbox (`POST /demo/webhooks/inbox`) that verifies
 * each delivery's Standard Webhooks signature with `standardwebhooks`, as a merchant's receiver would,
 * and a page that shows what arrived. It is also how a newcomer sees the relay and the dispatcher work:
 * cancel a link, and the `payment_link.canceled` event appears here, signed.
 */
import type { Scope } from "@paylink/core";
import type { WebhookEndpoint } from "@paylink/core/store";
import { Webhook } from "standardwebhooks";
import { readBody } from "./web.js";

/** The inbox's path: register `<base>/demo/webhooks/inbox` as an endpoint's URL. */
export const INBOX_PATH = "/demo/webhooks/inbox";
/** How many deliveries the page keeps (newest first). */
export const RECEIVED_KEPT = 100;
/** The largest body the inbox reads; the domain events are a few kB. */
const INBOX_LIMIT_BYTES = 256 * 1024;

/** One delivery as the inbox received it. */
export interface Received {
  /** ISO-8601 arrival time. */
  readonly at: string;
  /** The `webhook-id` header: the event's id, the same on every attempt. */
  readonly webhookId: string;
  /** The event's type and payment, read from the body once verified (`null` when not verified). */
  readonly type: string | null;
  readonly paymentId: string | null;
  /** The endpoint whose secret verified the signature, or `null`. */
  readonly verifiedBy: string | null;
  /** Why it did not verify (`no endpoint …`, `bad signature` …), `null` when it did. */
  readonly problem: string | null;
  /** How many times this `webhook-id` has arrived, counting this one. */
  readonly arrival: number;
  /** What the inbox answered. */
  readonly status: number;
  readonly body: string;
}

/** Options of {@link createReceiver}. */
export interface ReceiverOptions {
  /** The demo's endpoints (their secrets verify signatures). */
  readonly endpoints: (scope: Scope) => Promise<readonly WebhookEndpoint[]>;
  readonly scope: Scope;
  readonly clock: { now(): Date };
}

/** The inbox and its memory. */
export interface Receiver {
  /** Handles `POST /demo/webhooks/inbox`; `undefined` for any other request. */
  handle(request: Request): Promise<Response | undefined>;
  /** What arrived, newest first. */
  received(): readonly Received[];
  /** What the inbox answers next: `200`, or a failure to watch retries (`500`) and disabling (`410`). */
  answer: 200 | 500 | 410;
}

const reply = (status: number, text: string) =>
  new Response(text, { status, headers: { "content-type": "text/plain; charset=utf-8" } });

/** Creates the demo's receiver. Its memory is the process's: a restart empties the page. */
export function createReceiver(options: ReceiverOptions): Receiver {
  const kept: Received[] = [];
  const arrivals = new Map<string, number>();
  const receiver: Receiver = {
    answer: 200,
    received: () => kept,
    async handle(request) {
      if (new URL(request.url).pathname !== INBOX_PATH) return undefined;
      if (request.method !== "POST") return new Response(null, { status: 405, headers: { allow: "POST" } });
      const body = await readBody(request, INBOX_LIMIT_BYTES);
      if (body === "too_large") return reply(413, "too large");
      const headers = Object.fromEntries(request.headers);
      const webhookId = headers["webhook-id"] ?? "";
      let verifiedBy: string | null = null;
      let event: { type?: unknown; paymentId?: unknown } | undefined;
      const inbox = new URL(INBOX_PATH, request.url).href;
      const candidates = (await options.endpoints(options.scope)).filter((e) => e.url === inbox);
      for (const endpoint of candidates) {
        try {
          event = new Webhook(endpoint.secret).verify(body, headers) as typeof event;
          verifiedBy = endpoint.id;
          break;
        } catch {
          // Not this endpoint's signature (or not a valid one): try the next.
        }
      }
      const problem =
        candidates.length === 0
          ? "no endpoint of the demo account points here"
          : verifiedBy === null
            ? "the signature does not verify with any endpoint's secret"
            : null;
      const status = verifiedBy === null ? 400 : receiver.answer;
      // Counted for verified deliveries only, and for as many ids as the page keeps rows.
      const arrival = verifiedBy === null ? 1 : (arrivals.get(webhookId) ?? 0) + 1;
      if (verifiedBy !== null) {
        arrivals.delete(webhookId);
        arrivals.set(webhookId, arrival);
        if (arrivals.size > RECEIVED_KEPT) arrivals.delete(arrivals.keys().next().value!);
      }
      kept.unshift({
        at: options.clock.now().toISOString(),
        webhookId,
        type: typeof event?.type === "string" ? event.type : null,
        paymentId: typeof event?.paymentId === "string" ? event.paymentId : null,
        verifiedBy,
        problem,
        arrival,
        status,
        body,
      });
      kept.length = Math.min(kept.length, RECEIVED_KEPT);
      return reply(status, problem ?? "ok");
    },
  };
  return receiver;
}
