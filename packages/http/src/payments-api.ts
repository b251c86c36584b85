/**
 * The payments API (formerly "dialect A"): `/payments…`, `{ success, data }` and
 * `{ success: false, error }` envelopes, integer minor-unit amounts, business-rule refusals as 409.
 */
import type { CreatePaymentInput, Payment } from "@paylink/core";
import { issuesOf } from "./body.js";
import type { Dialect, Outcome } from "./dialect.js";
import type { Parsed } from "./endpoints.js";
import {
  fromCoreError,
  HTTP_ERRORS,
  type HttpError,
  invalidParameters,
  retryAfterHeaders,
} from "./errors.js";
import { json, type Reply } from "./replies.js";
import { CreatePaymentA } from "./schemas.js";

/** A payment in the payments API: exactly the payments API's fields, in its order (no lifecycle timestamps). */
export function toPaymentA(payment: Payment) {
  return {
    id: payment.id,
    customerId: payment.customerId,
    kind: payment.kind,
    status: payment.status,
    provider: payment.provider,
    amountSubtotal: payment.amountSubtotal,
    taxAmount: payment.taxAmount,
    amountTotal: payment.amountTotal,
    currency: payment.currency,
    description: payment.description,
    metadata: payment.metadata,
    url: payment.url,
    expiresAt: payment.expiresAt,
    createdAt: payment.createdAt,
    updatedAt: payment.updatedAt,
    object: payment.object,
    livemode: payment.livemode,
  };
}

/**
 * A payment as the payments API's reads (`GET /payments/{id}`, `GET /payments`) show it: exactly
 * {@link toPaymentA}'s fields, plus `providerState` (as core keeps it) when the payment has one, i.e.
 * when it was created through a payment gateway.
 */
export function toPaymentReadA(payment: Payment) {
  const fields = toPaymentA(payment);
  return payment.providerState === undefined ? fields : { ...fields, providerState: payment.providerState };
}

/** Options of {@link paymentsApi}. */
export interface PaymentsApiOptions {
  /**
   * Show a payment's `providerState` (when it has one): for the reads only. Every other answer (create,
   * cancel) keeps exactly the payments API's fields. Default false.
   */
  readonly providerState?: boolean;
}

/** Core's field names in the payments API's: only the list's cursor is spelled differently. */
const toQueryName = (field: string) => (field === "startingAfter" ? "starting_after" : field);

/** The body of `POST /payments`, which is core's input as it is. */
export function parseCreatePayment(body: Record<string, unknown>): Parsed<CreatePaymentInput> {
  const parsed = CreatePaymentA.safeParse(body);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, error: invalidParameters(issuesOf(parsed.error)) };
}

/** The payments API's writer; `doc_url` of errors is `${docsBaseUrl}/docs/errors.md#<code>`. */
export function paymentsApi(docsBaseUrl: string, options: PaymentsApiOptions = {}): Dialect {
  const toJson = options.providerState === true ? toPaymentReadA : toPaymentA;
  const error = (failure: HttpError): Reply => {
    const spec = HTTP_ERRORS[failure.code];
    const body = JSON.stringify({
      success: false,
      error: {
        type: spec.type,
        code: failure.code,
        message: failure.message,
        param: failure.param ?? null,
        details: failure.details ?? null,
        doc_url: `${docsBaseUrl}/docs/errors.md#${failure.code}`,
      },
    });
    return json(spec.status, body, retryAfterHeaders(failure));
  };
  return {
    name: "payments",
    allowApiKeyHeader: true,
    write(outcome: Outcome): Reply {
      if ("payment" in outcome) {
        return json(200, JSON.stringify({ success: true, data: toJson(outcome.payment) }));
      }
      if ("page" in outcome) {
        const data = outcome.page.map(toJson);
        return json(200, JSON.stringify({ success: true, data, has_more: outcome.hasMore }));
      }
      if ("data" in outcome) return json(200, JSON.stringify({ success: true, data: outcome.data }));
      if ("list" in outcome) {
        return json(200, JSON.stringify({ success: true, data: outcome.list, has_more: outcome.hasMore }));
      }
      return error("refused" in outcome ? fromCoreError(outcome.refused, toQueryName) : outcome);
    },
  };
}
