/**
 * Provider webhooks in: `POST /webhooks/<provider>` verifies a payment provider's webhook with its
 * gateway, records the provider's event once (the inbox), and hands its payment events to the machine.
 *
 * Not part of the merchant API: no API key (the provider's signature is the authentication), not in the
 * route table nor in `/openapi.json`, and its own small JSON shapes (`{ received, … }` and
 * `{ error: { code, message } }`), since the caller is a provider, not a merchant's client.
 *
 * The inbox is the idempotency table: the provider's event id is an idempotency key in the provider
 * account's scope, so the store's unique (account, mode, key) constraint records each event once, and the
 * last command of an event stores the answer in its own atomic write. No check-then-insert anywhere.
 */
import { createHash } from "node:crypto";
import type {
  CommandOptions,
  IdempotencyStore,
  PaylinkError,
  Payment,
  PaymentGateway,
  PaymentLinks,
  ProviderPaymentEvent,
  Scope,
} from "@paylink/core";
import { readBody } from "./body.js";
import { IdempotencyStoreError, idempotent } from "./idempotency.js";
import { type Reply, toResponse } from "./replies.js";

/**
 * One provider account, served at `/webhooks/${gateway.provider}`: the gateway that verifies its webhooks
 * and the one Paylink account and mode (`scope`) its payments belong to. A provider account is one
 * Paylink account+mode: a Stripe test-mode account goes with `livemode: false`, its live account (another
 * signing secret, another endpoint at Stripe) with `livemode: true` of the same Paylink account — served
 * by another app, since the path is per provider.
 */
export interface ProviderAccount {
  /** Verifies the provider's webhooks and maps them to machine events (`parseWebhook`). */
  readonly gateway: PaymentGateway;
  /** The Paylink account and mode the provider account's payments belong to. */
  readonly scope: Scope;
}

/** The largest provider webhook body accepted: 256 KiB. Larger bodies answer 413. */
export const PROVIDER_WEBHOOK_BODY_LIMIT_BYTES = 256 * 1024;

/** A provider name that can be a path segment as it is: letters, digits, `_` and `-`, at most 64. */
const PROVIDER_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/i;

/** The path a provider's webhooks are served at: `/webhooks/stripe`, `/webhooks/dna`, `/webhooks/test`. */
export function providerWebhookPath(provider: string): string {
  return `/webhooks/${provider}`;
}

/**
 * The inbox key of a provider event in its account's scope: `provider,<provider>,<eventId>`. A
 * merchant's `Idempotency-Key` lives in the same table but can never contain a comma (the transport
 * refuses it: two merged headers would otherwise pass as one key), so no merchant key can take an event's
 * slot.
 */
export function providerEventKey(provider: string, eventId: string): string {
  return `provider,${provider},${eventId}`;
}

/**
 * What the same provider event must repeat: SHA-256 of provider and event id, NOT of the body. A provider
 * may sign a redelivery anew (another timestamp, another signature header) or reserialize it; it is still
 * the same event.
 */
export function providerEventFingerprint(provider: string, eventId: string): string {
  return createHash("sha256").update(`${provider}\n${eventId}`, "utf8").digest("hex");
}

/** What a provider webhook's answer says happened to one machine event. */
export type ProviderEventResult =
  /** The machine took the event (it may have changed nothing, e.g. a failure reported on a paid link). */
  | {
      readonly type: ProviderPaymentEvent["type"];
      readonly payment: string;
      readonly outcome: "applied";
      readonly status: Payment["status"];
    }
  /** The machine refused the event for the link's state (`link_not_payable` on a paid link, say). */
  | {
      readonly type: ProviderPaymentEvent["type"];
      readonly payment: string;
      readonly outcome: "refused";
      readonly code: string;
      readonly status: Payment["status"] | null;
    };

/** The codes of a provider webhook's error answers. */
export type ProviderWebhookErrorCode =
  | "signature_invalid"
  | "signature_missing"
  | "signature_stale"
  | "body_malformed"
  | "body_too_large"
  | "method_not_allowed"
  | "event_in_progress"
  | "conflict"
  | "store_unavailable"
  | "internal_error";

/** What the handler needs from the app. */
export interface ProviderWebhookContext {
  readonly links: PaymentLinks;
  readonly idempotency: IdempotencyStore;
  readonly now: () => Date;
  readonly leaseMs: number;
  /** Unexpected failures, for logs (never shown to the provider). */
  readonly report: (error: unknown, request: { method: string; path: string }) => void;
}

/** A provider webhook handler: the request, and whether it came framed by HTTP/1.x headers (see `readBody`). */
export type ProviderWebhookHandler = (request: Request, framedByHeaders: boolean) => Promise<Response>;

const REJECTIONS = {
  bad_signature: ["signature_invalid", "The webhook signature does not match the body."],
  missing_signature: ["signature_missing", "The webhook carries no signature."],
  stale: ["signature_stale", "The webhook signature is too old (or too far ahead)."],
  malformed: ["body_malformed", "The signed body is not this provider's webhook."],
} as const satisfies Record<string, readonly [ProviderWebhookErrorCode, string]>;

/** Refusals by the machine: the link's state decided, and the event is acknowledged with them. */
const MACHINE_REFUSALS: ReadonlySet<PaylinkError["code"]> = new Set([
  "link_not_payable",
  "payment_not_cancelable",
  "charge_not_cancelable",
]);

const reply = (status: number, value: unknown, headers?: Record<string, string>): Reply =>
  headers === undefined
    ? { status, body: JSON.stringify(value) }
    : { status, body: JSON.stringify(value), headers };

const failure = (
  status: number,
  code: ProviderWebhookErrorCode,
  message: string,
  headers?: Record<string, string>,
): Reply => reply(status, { error: { code, message } }, headers);

const unavailable = () =>
  failure(503, "store_unavailable", "The service is temporarily unavailable; nothing was recorded. Retry.", {
    "Retry-After": "1",
  });
const busy = () =>
  failure(503, "conflict", "The payment kept changing concurrently; nothing was recorded. Retry.", {
    "Retry-After": "1",
  });
const internal = () => failure(500, "internal_error", "Something went wrong on our side. Retry later.");

/** The body of a processed event: a pure function of its results, so a stored answer equals a fresh one. */
const processedBody = (eventId: string, eventType: string, results: readonly ProviderEventResult[]) =>
  JSON.stringify({ received: true, eventId, eventType, results });

/** The command of each machine event a provider reports. */
const commandOf = (links: PaymentLinks, type: ProviderPaymentEvent["type"]) =>
  type === "START_PAYMENT"
    ? links.startPayment
    : type === "PAYMENT_FAILED"
      ? links.paymentFailed
      : links.paymentSucceeded;

/**
 * The handler of `POST /webhooks/<provider>` for one provider account; any other method is 405 with
 * `Allow: POST`. See the package README ("Provider webhooks") for every answer.
 */
export function providerWebhookHandler(
  account: ProviderAccount,
  context: ProviderWebhookContext,
): ProviderWebhookHandler {
  const { gateway, scope } = account;
  const { links, idempotency, report } = context;
  const provider = gateway.provider;
  const path = providerWebhookPath(provider);

  /** Runs the events of one verified provider event under its inbox claim (`token`). */
  async function apply(
    eventId: string,
    eventType: string,
    events: readonly ProviderPaymentEvent[],
    key: string,
    token: string,
    stored: () => void,
  ): Promise<Reply> {
    const results: ProviderEventResult[] = [];
    for (const [index, event] of events.entries()) {
      const last = index === events.length - 1;
      const applied = (payment: Payment): ProviderEventResult => ({
        type: event.type,
        payment: event.paylinkId,
        outcome: "applied",
        status: payment.status,
      });
      // The last command records the event with its own write (one atomic write): its answer is the
      // handler's answer, built from the same results.
      const options: CommandOptions = {
        ...(last
          ? {
              idempotency: {
                key,
                token,
                onStored: stored,
                respond: (payment: Payment) => ({
                  status: 200,
                  body: processedBody(eventId, eventType, [...results, applied(payment)]),
                }),
              },
            }
          : {}),
        ...(event.type === "PAYMENT_SUCCEEDED" && event.paymentReference !== undefined
          ? { providerPayment: { reference: event.paymentReference } }
          : {}),
      };
      const result = await commandOf(links, event.type)(scope, event.paylinkId, options);
      if (result.isOk()) {
        results.push(applied(result.value));
        continue;
      }
      const error = result.error;
      if (MACHINE_REFUSALS.has(error.code)) {
        results.push({
          type: event.type,
          payment: event.paylinkId,
          outcome: "refused",
          code: error.code,
          status: "status" in error ? error.status : null,
        });
        continue;
      }
      // Not recorded: a 5xx releases the claim, and the provider's retry runs the event again (the
      // machine makes a repeated event harmless).
      if (error.code === "store_unavailable") {
        report(error.cause, { method: "POST", path });
        return unavailable();
      }
      if (error.code === "conflict") return busy();
      report(error, { method: "POST", path });
      return internal();
    }
    return { status: 200, body: processedBody(eventId, eventType, results) };
  }

  async function handle(request: Request, framedByHeaders: boolean): Promise<Reply> {
    if (request.method !== "POST") {
      return failure(405, "method_not_allowed", `${request.method} is not allowed here; use POST.`, {
        Allow: "POST",
      });
    }
    let raw = readBody(request, PROVIDER_WEBHOOK_BODY_LIMIT_BYTES, framedByHeaders);
    if (raw instanceof Promise) raw = await raw;
    if (!raw.ok) {
      return raw.error.code === "body_too_large"
        ? failure(413, "body_too_large", raw.error.message)
        : failure(400, "body_malformed", raw.error.message);
    }
    const headers: Record<string, string> = {};
    // A fetch `Headers` yields names in lower case.
    for (const [name, value] of request.headers) headers[name] = value;

    const parsed = await gateway.parseWebhook(raw.text, headers);
    if (parsed.outcome === "rejected") {
      const [code, message] = REJECTIONS[parsed.reason] ?? REJECTIONS.malformed;
      return failure(400, code, message);
    }
    const { eventId, eventType, events } = parsed;
    if (events.length === 0) return reply(200, { received: true, ignored: eventType });

    // Every payment the event names must be one of this provider account's. Another account's (or an
    // unknown) payment is acknowledged and ignored: a 4xx would have the provider retry it for days.
    for (const id of new Set(events.map((event) => event.paylinkId))) {
      const found = await links.get(scope, id);
      if (found.isOk()) continue;
      if (found.error.code === "not_found") return reply(200, { received: true, ignored: "unknown_payment" });
      if (found.error.code === "store_unavailable") {
        report(found.error.cause, { method: "POST", path });
        return unavailable();
      }
      report(found.error, { method: "POST", path });
      return internal();
    }

    const key = providerEventKey(provider, eventId);
    const answer = await idempotent(
      idempotency,
      scope,
      key,
      providerEventFingerprint(provider, eventId),
      context.now(),
      context.leaseMs,
      (token, stored) => apply(eventId, eventType, events, key, token, stored),
      (error) => report(error, { method: "POST", path }),
    );
    if ("status" in answer) return answer;
    if (answer.code === "idempotency_key_in_use") {
      // The same event is being processed by a concurrent delivery: the provider retries.
      return failure(409, "event_in_progress", "This event is being processed; retry later.", {
        "Retry-After": String(answer.retryAfterSeconds ?? 1),
      });
    }
    // `idempotency_key_reused`: cannot happen (a merchant's key has no comma; see providerEventKey), so a bug.
    report(new Error(`provider event key ${key} is held by another request`), { method: "POST", path });
    return internal();
  }

  return async (request, framedByHeaders) => {
    try {
      return toResponse(await handle(request, framedByHeaders));
    } catch (error) {
      report(error, { method: request.method, path });
      return toResponse(error instanceof IdempotencyStoreError ? unavailable() : internal());
    }
  };
}

/**
 * The provider accounts of an app, by path. Throws a `RangeError` (a configuration error, at
 * `createPaylinkApp`) for a provider name that is not a plain path segment, or for two accounts of one
 * provider (one path cannot verify with two gateways).
 */
export function providerWebhookRoutes(
  providers: readonly ProviderAccount[],
  context: ProviderWebhookContext,
): Map<string, ProviderWebhookHandler> {
  const routes = new Map<string, ProviderWebhookHandler>();
  for (const account of providers) {
    const provider = account.gateway.provider;
    if (!PROVIDER_NAME.test(provider)) {
      throw new RangeError(
        `providers: the provider name ${JSON.stringify(provider)} must be 1-64 letters, digits, "_" or "-"`,
      );
    }
    const path = providerWebhookPath(provider);
    if (routes.has(path)) {
      throw new RangeError(
        `providers: ${provider} is given twice; one provider account per provider and app`,
      );
    }
    routes.set(path, providerWebhookHandler(account, context));
  }
  return routes;
}
