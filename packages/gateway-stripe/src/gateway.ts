import {
  type CreateLinkResult,
  PAYLINK_ID_METADATA_KEY,
  type Payment,
  type PaymentGateway,
  type RefundRequest,
  type RefundResult,
  type StopResult,
} from "@paylink/core";
import type Stripe from "stripe";
import { BudgetExhausted, classify, classifyForStop, isNotOpenError } from "./errors.js";
import { parseStripeWebhook } from "./webhooks.js";

/** What {@link createStripeGateway} needs. */
export interface StripeGatewayOptions {
  /**
   * Your application's own client from the official `stripe` package (`new Stripe(secretKey)`). The
   * gateway never creates one, and sends every call with `maxNetworkRetries: 0`: Paylink's relay retries
   * durably, with backoff, so the SDK's in-process retries would only hold a call past `timeoutMs`.
   */
  readonly stripe: Stripe;
  /** The endpoint's signing secret (`whsec_…`) that `POST /webhooks/stripe` verifies against. */
  readonly webhookSecret: string;
  /**
   * The time budget of one gateway method, in milliseconds (default 10 000). A method that makes several
   * Stripe calls (a stop) shares it between them, and answers `retry_later` (`timeout`) when it runs out.
   */
  readonly timeoutMs?: number;
  /** Where Stripe sends the customer after paying; without it, Stripe's own confirmation page. */
  readonly successUrl?: string;
  /** The line item's name the customer sees; default: the payment's description, else `Payment <id>`. */
  readonly productName?: (payment: Payment) => string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** Request options for one Stripe call: the budget left, no SDK retries, and `extra` (an idempotency key). */
type Request = (extra?: Stripe.RequestOptions) => Stripe.RequestOptions;
/** Stripe's limit on a product name. */
const MAX_NAME_LENGTH = 250;

/**
 * A {@link PaymentGateway} on Stripe. Each Paylink link becomes one Stripe Payment Link that at most one
 * Checkout Session can complete (`restrictions.completed_sessions.limit = 1`); the customer pays on the
 * sessions Stripe opens from it. Every object carries `metadata.paylink_id`, and so does the
 * PaymentIntent (`payment_intent_data.metadata`). No method throws for anything Stripe answers.
 *
 * @example
 * ```ts no-run
 * const gateway = createStripeGateway({ stripe: new Stripe(key), webhookSecret: "whsec_…" });
 * ```
 */
export function createStripeGateway(options: StripeGatewayOptions): PaymentGateway {
  const { stripe, webhookSecret } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  /**
   * Runs one gateway method within `timeoutMs`, answering `onError(error)` for whatever fails. Each
   * Stripe call gets what is left of the budget as its own timeout, and the whole method is raced
   * against the budget too: the SDK retries a connection closed under it once even with
   * `maxNetworkRetries: 0` (a stale keep-alive socket), after a sleep, which a per-call timeout alone
   * would not bound. A call left running past the budget is harmless: creates and refunds carry
   * idempotency keys, and a stop only deactivates and expires.
   */
  async function withinBudget<T>(work: (request: Request) => Promise<T>, onError: (error: unknown) => T) {
    const deadline = Date.now() + timeoutMs;
    const request: Request = (extra = {}) => {
      const left = deadline - Date.now();
      if (left <= 0) throw new BudgetExhausted();
      return { ...extra, timeout: left, maxNetworkRetries: 0 };
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BudgetExhausted()), timeoutMs);
    });
    const running = work(request);
    running.catch(() => undefined); // abandoned after the budget: its failure must not go unhandled
    try {
      return await Promise.race([running, expired]);
    } catch (error) {
      return onError(error);
    } finally {
      clearTimeout(timer);
    }
  }

  function createLink(payment: Payment): Promise<CreateLinkResult> {
    const metadata = { [PAYLINK_ID_METADATA_KEY]: payment.id };
    return withinBudget<CreateLinkResult>(async (request) => {
      const link = await stripe.paymentLinks.create(
        {
          line_items: [
            {
              price_data: {
                currency: payment.currency.toLowerCase(),
                unit_amount: payment.amountTotal,
                product_data: { name: productName(options, payment) },
              },
              quantity: 1,
            },
          ],
          metadata,
          payment_intent_data: { metadata },
          restrictions: { completed_sessions: { limit: 1 } },
          ...(options.successUrl
            ? { after_completion: { type: "redirect", redirect: { url: options.successUrl } } }
            : {}),
        },
        // A retry after `retry_later` finds the same link instead of making a second payable one.
        request({ idempotencyKey: `paylink_link_${payment.id}` }),
      );
      return { outcome: "created", reference: link.id, url: link.url };
    }, classify);
  }

  function stopLink(reference: string): Promise<StopResult> {
    return withinBudget<StopResult>(async (request) => {
      // First the link, so that no new session can open while the open ones are expired.
      const before = await stripe.paymentLinks.retrieve(reference, {}, request());
      if (before.active) await stripe.paymentLinks.update(reference, { active: false }, request());
      let changed = before.active;
      let paid: Stripe.Checkout.Session | undefined;
      let startingAfter: string | undefined;
      for (let more = true; more; ) {
        const page = await stripe.checkout.sessions.list(
          {
            payment_link: reference,
            limit: 100,
            ...(startingAfter ? { starting_after: startingAfter } : {}),
          },
          request(),
        );
        for (const listed of page.data) {
          const { session, expiredNow } =
            listed.status === "open"
              ? await expire(listed.id, request)
              : { session: listed, expiredNow: false };
          if (session.status === "complete") paid ??= session;
          changed ||= expiredNow;
        }
        more = page.has_more && page.data.length > 0;
        startingAfter = page.data.at(-1)?.id;
      }
      if (paid) return alreadyPaid(paid);
      return changed ? { outcome: "stopped" } : { outcome: "already_stopped" };
    }, classifyForStop);
  }

  /**
   * Expires one open session and answers it as it now is, and whether this call expired it. Stripe
   * refuses an expiry when the session is no longer open; it then was either paid (a customer racing
   * the stop) or expired meanwhile (its 24 h ran out, or another stop), and a fresh read says which.
   */
  async function expire(id: string, request: Request) {
    try {
      return { session: await stripe.checkout.sessions.expire(id, {}, request()), expiredNow: true };
    } catch (error) {
      if (!isNotOpenError(error)) throw error;
      return { session: await stripe.checkout.sessions.retrieve(id, {}, request()), expiredNow: false };
    }
  }

  function refund(request: RefundRequest): Promise<RefundResult> {
    return withinBudget<RefundResult>(async (options) => {
      const made = await stripe.refunds.create(
        {
          payment_intent: request.paymentReference,
          amount: request.amount,
          metadata: { [PAYLINK_ID_METADATA_KEY]: request.paylinkId },
        },
        options({ idempotencyKey: request.idempotencyKey }),
      );
      if (made.status === "succeeded") return { outcome: "succeeded", reference: made.id };
      if (made.status === "failed" || made.status === "canceled") {
        const why = made.failure_reason ? `: ${made.failure_reason}` : "";
        return { outcome: "refused", reason: `refund ${made.id} ${made.status}${why}` };
      }
      return { outcome: "pending", reference: made.id }; // pending, requires_action
    }, classify);
  }

  return {
    provider: "stripe",
    createLink,
    stopLink,
    refund,
    parseWebhook: async (rawBody, headers) => parseStripeWebhook(stripe, webhookSecret, rawBody, headers),
  };
}

function productName(options: StripeGatewayOptions, payment: Payment): string {
  const name = options.productName?.(payment) ?? payment.description ?? `Payment ${payment.id}`;
  // By code point, so that a cut never splits a surrogate pair.
  return Array.from(name.trim() === "" ? `Payment ${payment.id}` : name)
    .slice(0, MAX_NAME_LENGTH)
    .join("");
}

/**
 * A complete session: the customer paid (or, with a delayed method, committed to pay) before the stop.
 * Its PaymentIntent is what a refund needs.
 */
function alreadyPaid(session: Stripe.Checkout.Session): StopResult {
  const intent = session.payment_intent;
  // A payment-mode session that completed always has a PaymentIntent; the session id is a last resort
  // that a refund will refuse rather than a reference that silently points nowhere.
  const paymentReference = typeof intent === "string" ? intent : (intent?.id ?? session.id);
  return {
    outcome: "already_paid",
    paymentReference,
    ...(session.amount_total === null ? {} : { amount: session.amount_total }),
    ...(session.currency === null ? {} : { currency: session.currency.toUpperCase() }),
  };
}
