import type { Refused, RetryLater } from "@paylink/core";

/**
 * The fields of a `stripe` SDK error that decide what Paylink does with it. Read by shape rather than
 * by `instanceof`, so an application that bundles its own copy of `stripe` is classified the same way.
 */
interface StripeErrorShape {
  readonly type?: unknown;
  readonly rawType?: unknown;
  readonly statusCode?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly headers?: unknown;
}

/** Stripe's answer to expiring a Checkout Session that is no longer `open` (expired, or complete). */
export const NOT_OPEN_MESSAGE = 'Only Checkout Sessions with a status in ["open"] can be expired';

/** Raised inside the gateway when a method's time budget ran out before the next Stripe call. */
export class BudgetExhausted extends Error {
  constructor() {
    super("timeout");
    this.name = "BudgetExhausted";
  }
}

function shape(error: unknown): StripeErrorShape {
  return typeof error === "object" && error !== null ? (error as StripeErrorShape) : {};
}

function header(error: StripeErrorShape, name: string): string | undefined {
  const headers = error.headers;
  if (typeof headers !== "object" || headers === null) return undefined;
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() === name && typeof value === "string") return value;
  }
  return undefined;
}

/**
 * `Retry-After` in milliseconds: delay-seconds or an HTTP date, as RFC 9110 allows. Undefined when the
 * header is absent or unreadable.
 */
function retryAfterMs(error: StripeErrorShape): number | undefined {
  const value = header(error, "retry-after");
  if (value === undefined || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The HTTP status of a Stripe error, when Stripe answered at all. */
function statusOf(error: unknown): number | undefined {
  const status = shape(error).statusCode;
  return typeof status === "number" ? status : undefined;
}

/** True when Stripe refused to expire a session because it is no longer `open`. */
export function isNotOpenError(error: unknown): boolean {
  const { message } = shape(error);
  return statusOf(error) === 400 && typeof message === "string" && message.startsWith(NOT_OPEN_MESSAGE);
}

function describe(error: StripeErrorShape): string {
  const code = typeof error.code === "string" ? error.code : undefined;
  const message = typeof error.message === "string" ? error.message : String(error);
  return code ? `${code}: ${message}` : message;
}

/**
 * Whether a failed Stripe call is worth retrying. Retried: no answer at all (connection refused or
 * reset, a timeout, the gateway's own time budget), 5xx, 429, 409 (a concurrent request holds the same
 * idempotency key), a body that is not JSON, and anything Stripe marks `Stripe-Should-Retry: true`.
 * Everything else Stripe answered with a 4xx is a refusal: sending it again will not change the answer.
 */
export function classify(error: unknown): RetryLater | Refused {
  if (error instanceof BudgetExhausted) return { outcome: "retry_later", detail: "timeout" };
  const stripeError = shape(error);
  const status = statusOf(error);
  const wait = retryAfterMs(stripeError);
  const retry = (detail: string): RetryLater =>
    wait === undefined
      ? { outcome: "retry_later", detail }
      : { outcome: "retry_later", detail, retryAfterMs: wait };

  if (stripeError.type === "StripeConnectionError") {
    const message = typeof stripeError.message === "string" ? stripeError.message : "";
    return retry(message.includes("timeout") ? "timeout" : "connection failed");
  }
  if (status === undefined) {
    // A Stripe error without a status is an unreadable answer (the SDK's "Invalid JSON received");
    // anything else is not from Stripe at all, and an outage is the safe reading of it.
    return retry(`no answer: ${describe(stripeError)}`);
  }
  if (status === 429 || stripeError.type === "StripeRateLimitError")
    return retry(`HTTP ${status} rate limited`);
  if (status >= 500) return retry(`HTTP ${status}`);
  if (status === 409) return retry(`HTTP 409 ${describe(stripeError)}`);
  if (header(stripeError, "stripe-should-retry") === "true")
    return retry(`HTTP ${status} (Stripe-Should-Retry)`);
  return { outcome: "refused", reason: `HTTP ${status} ${describe(stripeError)}` };
}

/**
 * For `stopLink`. A link Stripe says does not exist (404 `resource_missing`: deleted, or of another
 * account) is `refused`: recorded as a refused stop for someone to look at, so that it does not hold
 * back every later stop in the relay's queue. Any other 4xx (a revoked key, a permission) fails every
 * call alike, so it is retried, with the reason in `detail`, and shows as a pending stop until someone
 * fixes the cause.
 */
export function classifyForStop(error: unknown): RetryLater | Refused {
  const answer = classify(error);
  if (answer.outcome === "retry_later") return answer;
  if (statusOf(error) === 404) return answer;
  return { outcome: "retry_later", detail: `refused by Stripe, retrying: ${answer.reason}` };
}
