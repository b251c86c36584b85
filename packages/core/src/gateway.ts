import type { Payment } from "./schemas.js";

/**
 * The payment-provider port: what Paylink asks of Stripe, DNA Payments or the built-in test provider.
 * A gateway creates the provider's object for a link, stops it when the link is canceled, refunds a
 * payment, and turns the provider's signed webhooks into machine events. Every provider object carries
 * the Paylink payment id in its metadata as {@link PAYLINK_ID_METADATA_KEY}, which is how a webhook finds
 * its payment.
 *
 * No method throws or rejects for a provider's answer: an outage, a 429 or a timeout is `retry_later`, a
 * refusal is a value with a reason. A method may reject only on a programming error (a bug). Every gateway
 * must pass `gatewayConformance` from `@paylink/testing`. See `docs/providers.md`.
 */
export interface PaymentGateway {
  /** The provider's name as payments record it (`stripe`, `dna`, `test`). */
  readonly provider: string;

  /**
   * Creates the provider's object for `payment` (a link), carrying `paylink_id` = `payment.id` in its
   * metadata, and answers its reference and the URL the customer pays at. Called once per link; a retry
   * after `retry_later` must not create a second payable object (use `payment.id` as the provider's
   * idempotency key where it has one).
   */
  createLink(payment: Payment): Promise<CreateLinkResult>;

  /**
   * Stops the provider's object `reference` so that it can no longer take money. Safe to call again:
   * a second call answers `already_stopped`. `already_paid` means the customer paid before the stop took
   * effect: the caller records a late payment (never "fine").
   */
  stopLink(reference: string): Promise<StopResult>;

  /**
   * Refunds `request.amount` of the provider payment `request.paymentReference`. The provider must
   * deduplicate on `request.idempotencyKey`: a second call with the same key never refunds twice, and
   * answers the first refund.
   */
  refund(request: RefundRequest): Promise<RefundResult>;

  /**
   * Verifies a provider webhook (the raw body exactly as received, and the request's headers, names in
   * lower case) and turns it into machine events. A bad, missing or stale signature or an altered body is
   * `rejected`, and nothing may be written for it.
   */
  parseWebhook(rawBody: string, headers: Readonly<Record<string, string>>): Promise<WebhookParseResult>;
}

/** The metadata key that every provider object carries the Paylink payment id under. */
export const PAYLINK_ID_METADATA_KEY = "paylink_id";

/** What {@link PaymentGateway.createLink} answers. */
export type CreateLinkResult =
  | {
      /** The object was made (or, for a payment id the provider has seen, found). */
      readonly outcome: "created";
      /** The provider's id of the object (Stripe: the Payment Link or Checkout Session id). */
      readonly reference: string;
      /** Where the customer pays. */
      readonly url: string;
    }
  | RetryLater
  | Refused;

/** What {@link PaymentGateway.stopLink} answers. */
export type StopResult =
  /**
   * The object was payable and no longer is: no payment on it succeeds after this answer (a payment
   * already under way when the stop came is `already_paid`).
   */
  | {
      /** Stopped by this call. */
      readonly outcome: "stopped";
    }
  /** The object was already unpayable (stopped before, or expired) and was not paid. */
  | {
      /** Nothing to stop, and nothing was paid. */
      readonly outcome: "already_stopped";
    }
  /**
   * The customer paid before the stop: `paymentReference` is the provider's payment, to refund, the same
   * reference the payment's webhook reports (refund idempotency keys are derived from it).
   */
  | {
      /** Too late to stop: paid. */
      readonly outcome: "already_paid";
      /** The provider's payment, to refund (Stripe: the PaymentIntent id). */
      readonly paymentReference: string;
      /** Minor units of what was paid, when the provider says. */
      readonly amount?: number;
      /** ISO 4217 currency of `amount`, upper case, when the provider says. */
      readonly currency?: string;
    }
  | RetryLater
  /**
   * The provider will never stop this object for these credentials (unknown to the account, a revoked
   * key): the stop cannot be confirmed, and someone must look. Not retried.
   */
  | Refused;

/** A refund to make. */
export interface RefundRequest {
  /** The provider's payment (Stripe: the PaymentIntent id). */
  readonly paymentReference: string;
  /** Minor units. */
  readonly amount: number;
  /** ISO 4217, upper case. */
  readonly currency: string;
  /** The key the provider deduplicates on; Paylink derives it from the provider payment id. */
  readonly idempotencyKey: string;
  /** The Paylink payment, for the provider's metadata. */
  readonly paylinkId: string;
}

/** What {@link PaymentGateway.refund} answers. */
export type RefundResult =
  | {
      /** `succeeded`, or `pending` while the provider settles it. */
      readonly outcome: "succeeded" | "pending";
      /** The provider's refund id. */
      readonly reference: string;
    }
  | RetryLater
  | Refused;

/** The provider could not answer now (down, 429, 5xx, timeout): try again, after `retryAfterMs` if given. */
export interface RetryLater {
  /** Not now: the caller keeps what it has and asks again. */
  readonly outcome: "retry_later";
  /** How long the provider asked to be left alone (a 429's `Retry-After`), in milliseconds. */
  readonly retryAfterMs?: number;
  /** A few words for logs (`HTTP 503`, `timeout`); never shown to a client. */
  readonly detail: string;
}

/** The provider refused, for good (a validation error, an unknown object): retrying will not help. */
export interface Refused {
  /** Never: the caller records the refusal and does not ask again. */
  readonly outcome: "refused";
  /** The provider's code and message, for logs and the merchant. */
  readonly reason: string;
}

/** A payment event the provider reported, as a machine event on one Paylink payment. */
export interface ProviderPaymentEvent {
  /** The machine event: a payment was started, succeeded or failed at the provider. */
  readonly type: "START_PAYMENT" | "PAYMENT_SUCCEEDED" | "PAYMENT_FAILED";
  /** The Paylink payment, from the provider object's `paylink_id` metadata. */
  readonly paylinkId: string;
  /** The provider's payment (for a refund), when there is one. */
  readonly paymentReference?: string;
  /** Minor units of the payment, when the provider says. */
  readonly amount?: number;
  /** ISO 4217 currency of `amount`, upper case, when the provider says. */
  readonly currency?: string;
}

/** What {@link PaymentGateway.parseWebhook} answers. */
export type WebhookParseResult =
  | {
      /** The signature holds over the raw body: the events may be applied. */
      readonly outcome: "verified";
      /** The provider's event id: the inbox records each once (a redelivery changes nothing). */
      readonly eventId: string;
      /** The provider's event type (`checkout.session.completed` …), for logs. */
      readonly eventType: string;
      /** The machine events it maps to; empty for a type that is acknowledged and ignored. */
      readonly events: readonly ProviderPaymentEvent[];
    }
  | {
      /** The webhook is not the provider's, as received: answer 400 and write nothing. */
      readonly outcome: "rejected";
      /** Why: the signature is missing, does not match, or is too old; or the body is not the provider's. */
      readonly reason: "missing_signature" | "bad_signature" | "stale" | "malformed";
    };
