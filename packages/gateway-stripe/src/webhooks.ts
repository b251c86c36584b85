import { PAYLINK_ID_METADATA_KEY, type ProviderPaymentEvent, type WebhookParseResult } from "@paylink/core";
import type Stripe from "stripe";

/** How old (seconds) a signed Stripe webhook may be: Stripe's own default, as `constructEvent` uses it. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** The header Stripe signs every webhook in, lower case as the port hands headers over. */
export const SIGNATURE_HEADER = "stripe-signature";

type Verify = (payload: string, header: string, secret: string, tolerance: number) => unknown;

/**
 * Verifies a Stripe webhook and maps it to machine events. A failed check is told apart by asking the
 * SDK again without the age limit: if the signature holds then, the only fault was the age (`stale`).
 */
export function parseStripeWebhook(
  stripe: Stripe,
  webhookSecret: string,
  rawBody: string,
  headers: Readonly<Record<string, string>>,
): WebhookParseResult {
  const signature = headers[SIGNATURE_HEADER];
  if (signature === undefined || signature.trim() === "") {
    return { outcome: "rejected", reason: "missing_signature" };
  }
  if (rawBody === "") return { outcome: "rejected", reason: "malformed" };
  const verify: Verify = (payload, header, secret, tolerance) =>
    stripe.webhooks.constructEvent(payload, header, secret, tolerance);

  let event: unknown;
  try {
    event = verify(rawBody, signature, webhookSecret, WEBHOOK_TOLERANCE_SECONDS);
  } catch (error) {
    return { outcome: "rejected", reason: rejection(verify, rawBody, signature, webhookSecret, error) };
  }
  if (!isEvent(event)) return { outcome: "rejected", reason: "malformed" };
  return { outcome: "verified", eventId: event.id, eventType: event.type, events: mapEvent(event) };
}

function rejection(
  verify: Verify,
  rawBody: string,
  signature: string,
  secret: string,
  error: unknown,
): "bad_signature" | "stale" | "malformed" {
  if (!isSignatureError(error)) return "malformed"; // signed right, but the body is not JSON
  try {
    verify(rawBody, signature, secret, 0); // 0: the SDK skips the age check
    return "stale";
  } catch {
    return "bad_signature";
  }
}

function isSignatureError(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    (error as { type?: unknown }).type === "StripeSignatureVerificationError"
  );
}

interface EventShape {
  readonly id: string;
  readonly type: string;
  readonly data?: { readonly object?: unknown };
}

function isEvent(value: unknown): value is EventShape {
  if (typeof value !== "object" || value === null) return false;
  const { id, type } = value as { id?: unknown; type?: unknown };
  return typeof id === "string" && typeof type === "string";
}

/**
 * The Stripe event types Paylink acts on; every other verified event is acknowledged with no events.
 * `checkout.session.completed` counts only when the session is `paid`: an `unpaid` completion is a
 * delayed method (a bank debit) whose outcome comes later as `async_payment_succeeded` or `_failed`
 * (the failure as `START_PAYMENT` then `PAYMENT_FAILED`, so that the machine records the failed attempt).
 */
function mapEvent(event: EventShape): ProviderPaymentEvent[] {
  const session = event.data?.object as Partial<Stripe.Checkout.Session> | undefined;
  if (session === undefined || session === null || session.object !== "checkout.session") return [];
  switch (event.type) {
    case "checkout.session.completed":
      return session.payment_status === "paid" ? fromSession("PAYMENT_SUCCEEDED", session) : [];
    case "checkout.session.async_payment_succeeded":
      return fromSession("PAYMENT_SUCCEEDED", session);
    case "checkout.session.async_payment_failed":
      // Stripe never reports the start of a delayed payment (an `unpaid` completion is not mapped, so that
      // one arriving after the failure cannot leave the link in flight for good): the failure carries it,
      // as the test provider's does. The machine refuses the start on a link already in flight or final.
      return [...fromSession("START_PAYMENT", session), ...fromSession("PAYMENT_FAILED", session)];
    default:
      return [];
  }
}

function fromSession(
  type: ProviderPaymentEvent["type"],
  session: Partial<Stripe.Checkout.Session>,
): ProviderPaymentEvent[] {
  const paylinkId = session.metadata?.[PAYLINK_ID_METADATA_KEY];
  // A session without our id was not made by Paylink (another Payment Link on the same account).
  if (typeof paylinkId !== "string" || paylinkId === "") return [];
  const intent = session.payment_intent;
  const paymentReference = typeof intent === "string" ? intent : (intent?.id ?? undefined);
  return [
    {
      type,
      paylinkId,
      ...(paymentReference ? { paymentReference } : {}),
      ...(typeof session.amount_total === "number" ? { amount: session.amount_total } : {}),
      ...(typeof session.currency === "string" ? { currency: session.currency.toUpperCase() } : {}),
    },
  ];
}
