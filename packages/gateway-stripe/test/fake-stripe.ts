/**
 * A local, stateful stand-in for the part of Stripe's API that the gateway calls, for the REAL `stripe`
 * SDK (`host`, `port`, `protocol: "http"`). It reads form-encoded bodies as the SDK sends them, answers
 * in Stripe's JSON shapes and error shape (`{ error: { type, code, message } }`), replays POSTs by
 * `Idempotency-Key`, plays the customer (visit, pay, pay by a delayed method, abandon), signs webhooks
 * with the SDK's `generateTestHeaderString`, and can be made to refuse connections, answer 500 or 429,
 * or hang.
 *
 * Endpoints: POST /v1/payment_links, GET and POST /v1/payment_links/:id, GET /v1/checkout/sessions
 * (payment_link, status, limit, starting_after), GET /v1/checkout/sessions/:id, POST
 * /v1/checkout/sessions/:id/expire, POST /v1/refunds.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import Stripe from "stripe";
import {
  eventOf,
  type FakePaymentIntent,
  type FakePaymentLink,
  type FakeRefund,
  type FakeSession,
  FakeStripeError,
  type Form,
  intentFor,
  invalid,
  listSessions,
  missing,
  parseForm,
  paymentLinkFrom,
  refundFrom,
  sessionFor,
} from "./fake-stripe-objects.js";

/** A webhook as Stripe would POST it: the raw body and lower-case headers. */
export interface SignedWebhook {
  rawBody: string;
  headers: Record<string, string>;
}

/** How the fake misbehaves until `restore()`. */
export type Outage = "refused" | "500" | "429" | "hang";

/** One request the fake answered (or swallowed), for tests that check what the gateway sent. */
export interface SeenRequest {
  method: string;
  path: string;
  params: Form;
  idempotencyKey: string | undefined;
}

const API_KEY = "sk_test_paylink_fake";

/** Starts the fake on a free port of 127.0.0.1. */
export async function startFakeStripe(options: { webhookSecret: string }): Promise<FakeStripe> {
  const fake = new FakeStripe(options.webhookSecret);
  await fake.listen(0);
  return fake;
}

/** The fake Stripe; see the file's header. */
export class FakeStripe {
  readonly links = new Map<string, FakePaymentLink>();
  readonly sessions = new Map<string, FakeSession>();
  readonly intents = new Map<string, FakePaymentIntent>();
  readonly refunds = new Map<string, FakeRefund>();
  readonly requests: SeenRequest[] = [];
  /** Runs before each request is handled: a test's way to let a customer act "during" a call. */
  beforeRequest: ((request: SeenRequest) => void) | undefined;
  port = 0;
  private readonly idempotency = new Map<
    string,
    { path: string; params: string; status: number; body: string }
  >();
  private readonly sockets = new Set<Socket>();
  private readonly hung = new Set<ServerResponse>();
  private readonly server = createServer((req, res) => void this.handle(req, res));
  private mode: Outage | undefined;
  private readonly signer = new Stripe(API_KEY).webhooks;

  constructor(readonly webhookSecret: string) {
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
  }

  /** A client of the official SDK pointed at this fake, with no retries of its own. */
  client(): Stripe {
    return new Stripe(API_KEY, {
      host: "127.0.0.1",
      port: this.port,
      protocol: "http",
      maxNetworkRetries: 0,
    });
  }

  /** @internal Listens on `port` (0: any free one). */
  async listen(port: number): Promise<void> {
    this.server.listen(port, "127.0.0.1");
    await once(this.server, "listening");
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Every call misbehaves as `kind` says until {@link restore}. */
  outage(kind: Outage): void {
    this.mode = kind;
    if (kind === "refused") {
      // Closing the listener refuses new connections; kept-alive ones must go too, or the SDK reuses them.
      this.server.close();
      this.dropSockets();
    }
  }

  /**
   * Back to normal: hung requests dropped, and (after `refused`) listening again on the same port. Synchronous (Node binds
   * a listener within `listen()`), so the very next call connects.
   */
  restore(): void {
    const was = this.mode;
    this.mode = undefined;
    // Only the hung requests' connections: idle kept-alive ones stay usable, as after a real recovery.
    for (const res of this.hung) res.socket?.destroy();
    this.hung.clear();
    if (was === "refused") this.server.listen(this.port, "127.0.0.1");
  }

  /** Stops the server and drops every connection. */
  async close(): Promise<void> {
    this.mode = undefined;
    this.dropSockets();
    if (this.server.listening) {
      const closed = once(this.server, "close");
      this.server.close();
      await closed;
    }
  }

  // --- the customer -------------------------------------------------------------------------------

  /** The customer opens the link: Stripe opens a Checkout Session with the link's metadata. */
  visit(linkId: string): FakeSession {
    const link = this.links.get(linkId);
    if (!link) throw new Error(`no payment link ${linkId}`);
    if (!link.active) throw new Error(`payment link ${linkId} is deactivated: the customer cannot pay`);
    const session = sessionFor(link);
    this.sessions.set(session.id, session);
    return session;
  }

  /** The customer pays by card on `reference` (a link: its open session, or a new one; or a session). */
  pay(reference: string): SignedWebhook {
    const session = this.complete(reference, "paid");
    return this.webhook("checkout.session.completed", session);
  }

  /**
   * The customer pays by a delayed method (a bank debit): the session completes `unpaid` and the
   * payment settles later through {@link settle}. Answers the `checkout.session.completed` webhook.
   */
  payDelayed(reference: string): SignedWebhook {
    return this.webhook("checkout.session.completed", this.complete(reference, "unpaid"));
  }

  /** The delayed payment of `sessionId` succeeds or fails; answers the `async_payment_*` webhook. */
  settle(sessionId: string, succeeded: boolean): SignedWebhook {
    const session = this.sessions.get(sessionId);
    const intent = session?.payment_intent ? this.intents.get(session.payment_intent) : undefined;
    if (!session || !intent || session.status !== "complete")
      throw new Error(`nothing to settle: ${sessionId}`);
    if (succeeded) {
      session.payment_status = "paid";
      Object.assign(intent, { status: "succeeded", amount_received: intent.amount });
    } else intent.status = "requires_payment_method";
    const type = succeeded ? "succeeded" : "failed";
    return this.webhook(`checkout.session.async_payment_${type}`, session);
  }

  /** A session reaches its `expires_at` unpaid (the customer walked away). */
  expireSession(sessionId: string): SignedWebhook {
    const session = this.sessions.get(sessionId);
    if (session?.status !== "open") throw new Error(`session ${sessionId} is not open`);
    Object.assign(session, { status: "expired", url: null });
    return this.webhook("checkout.session.expired", session);
  }

  /** Signs `event` as Stripe does; `secret` and `timestamp` (seconds) can be overridden to forge one. */
  sign(event: object, options: { secret?: string; timestamp?: number } = {}): SignedWebhook {
    const rawBody = JSON.stringify(event, null, 2);
    const signature = this.signer.generateTestHeaderString({
      payload: rawBody,
      secret: options.secret ?? this.webhookSecret,
      ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
    });
    return { rawBody, headers: { "content-type": "application/json", "stripe-signature": signature } };
  }

  /** A signed event of `type` about a snapshot of `object`. */
  webhook(
    type: string,
    object: object,
    options: { secret?: string; timestamp?: number } = {},
  ): SignedWebhook {
    return this.sign(eventOf(type, object), options);
  }

  private complete(reference: string, paymentStatus: "paid" | "unpaid"): FakeSession {
    const session = reference.startsWith("cs_")
      ? this.sessions.get(reference)
      : ([...this.sessions.values()].find((s) => s.payment_link === reference && s.status === "open") ??
        this.visit(reference));
    if (session?.status !== "open") throw new Error(`session for ${reference} is not open`);
    const link = this.links.get(session.payment_link)!;
    const intent = intentFor(link, session);
    if (paymentStatus === "paid")
      Object.assign(intent, { status: "succeeded", amount_received: intent.amount });
    this.intents.set(intent.id, intent);
    Object.assign(session, {
      status: "complete",
      payment_status: paymentStatus,
      payment_intent: intent.id,
      url: null,
    });
    const restriction = link.restrictions?.completed_sessions;
    if (restriction) {
      restriction.count += 1;
      // A link whose completed_sessions limit is met is deactivated by Stripe.
      if (restriction.count >= restriction.limit) link.active = false;
    }
    return session;
  }

  // --- the API ------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", "http://fake");
    const method = req.method ?? "GET";
    const body = Buffer.concat(chunks).toString("utf8");
    const key = req.headers["idempotency-key"];
    const seen: SeenRequest = {
      method,
      path: url.pathname,
      params: parseForm(method === "GET" ? url.search.slice(1) : body),
      idempotencyKey: typeof key === "string" ? key : undefined,
    };
    this.requests.push(seen);
    if (this.mode === "hang") {
      this.hung.add(res); // never answered; dropped on restore() or close()
      return;
    }
    if (this.mode === "500") {
      return send(res, 500, { error: { type: "api_error", message: "An unknown error occurred" } });
    }
    if (this.mode === "429") {
      const error = { type: "invalid_request_error", code: "rate_limit", message: "Too many requests" };
      return send(res, 429, { error }, { "retry-after": "2" });
    }
    if (req.headers.authorization !== `Bearer ${API_KEY}`) {
      return send(res, 401, {
        error: { type: "invalid_request_error", message: "Invalid API Key provided" },
      });
    }
    try {
      this.beforeRequest?.(seen);
      const replay = this.replay(seen);
      if (replay) return send(res, replay.status, JSON.parse(replay.body), { "idempotent-replayed": "true" });
      const answer = this.route(seen);
      if (seen.idempotencyKey && method === "POST") {
        // Stripe keeps the first result of a key; only successes here, as the gateway never sends a
        // request that Stripe would refuse and that a retry could then fix.
        this.idempotency.set(seen.idempotencyKey, {
          path: seen.path,
          params: JSON.stringify(seen.params),
          status: 200,
          body: JSON.stringify(answer),
        });
      }
      send(res, 200, answer);
    } catch (error) {
      if (error instanceof FakeStripeError)
        return send(res, error.status, { error: error.body }, error.headers);
      // A bug in the fake or in a test's hook: a 500 that names it, rather than a hung request.
      send(res, 500, { error: { type: "api_error", message: `fake Stripe failed: ${String(error)}` } });
    }
  }

  private replay(seen: SeenRequest) {
    if (seen.method !== "POST" || !seen.idempotencyKey) return undefined;
    const first = this.idempotency.get(seen.idempotencyKey);
    if (!first) return undefined;
    const type = "idempotency_error";
    if (first.path !== seen.path) {
      const message = `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${first.path}' vs '${seen.path}'). Try using a key other than '${seen.idempotencyKey}' if you meant to execute a different request.`;
      throw new FakeStripeError(400, { type, message });
    }
    if (first.params !== JSON.stringify(seen.params)) {
      const message = `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${seen.idempotencyKey}' if you meant to execute a different request.`;
      throw new FakeStripeError(400, { type, message });
    }
    return first;
  }

  private route({ method, path, params }: SeenRequest): object {
    const parts = path.split("/").filter(Boolean); // ["v1", "payment_links", id] …
    const [, resource, id, action] = parts;
    if (resource === "payment_links") {
      if (method === "POST" && id === undefined) {
        const link = paymentLinkFrom(params);
        this.links.set(link.id, link);
        return link;
      }
      const link = id === undefined ? undefined : this.links.get(id);
      if (!link) throw missing("payment_link", id ?? "");
      if (method === "GET" && action === undefined) return link;
      if (method === "POST" && action === undefined) {
        if (params.active !== undefined) link.active = params.active === "true";
        return link;
      }
    }
    if (resource === "checkout" && id === "sessions")
      return this.sessionRoute(method, parts[3], parts[4], params);
    if (resource === "refunds" && method === "POST" && id === undefined) return this.refund(params);
    throw new FakeStripeError(404, {
      type: "invalid_request_error",
      message: `Unrecognized request URL (${method}: ${path}).`,
    });
  }

  private sessionRoute(
    method: string,
    id: string | undefined,
    action: string | undefined,
    params: Form,
  ): object {
    if (method === "GET" && id === undefined) return listSessions([...this.sessions.values()], params);
    const session = id === undefined ? undefined : this.sessions.get(id);
    if (!session) throw missing("checkout.session", id ?? "");
    if (method === "GET" && action === undefined) return session;
    if (method === "POST" && action === "expire") {
      if (session.status !== "open") {
        throw invalid(
          `Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of \`${session.status}\`.`,
        );
      }
      Object.assign(session, { status: "expired", url: null });
      return session;
    }
    throw invalid(`Unrecognized request URL (${method}: /v1/checkout/sessions/${id}/${action}).`);
  }

  private refund(params: Form): object {
    const made = refundFrom(this.intents, [...this.refunds.values()], params);
    this.refunds.set(made.id, made);
    return made;
  }

  private dropSockets(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }
}

function send(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "request-id": `req_fake_${Date.now()}`,
    ...headers,
  });
  res.end(text);
}
