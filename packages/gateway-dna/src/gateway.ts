import {
  type CreateLinkResult,
  PAYLINK_ID_METADATA_KEY,
  type Payment,
  type PaymentGateway,
  type RefundRequest,
  type RefundResult,
  type StopResult,
  toMajorUnits,
  toMinorUnits,
} from "@paylink/core";
import { parseDnaCallback } from "./callback.js";
import { authorized, classify, dnaError, isOk, type Reply, TokenSource, type Transport } from "./http.js";
import { type DnaGatewayOptions, type ResolvedOptions, resolveOptions } from "./options.js";

/**
 * Why {@link DnaGateway.refund} always answers `refused`. DNA's refund API
 * (`POST /transaction/operation/refund`, token scope `webapi`) takes a transaction id and no
 * idempotency key, and DNA's payment-link API never names the transaction of a paid link.
 */
export const REFUND_REFUSAL =
  "DNA refunds are made in DNA's portal: DNA's refund API (POST /transaction/operation/refund) takes " +
  "no idempotency key, so a repeated call could refund twice, and DNA's payment-link API does not name " +
  "the transaction to refund (the callback's transaction id is in the webhook's event id)";

/** The OAuth scope of DNA's payment-link API. */
export const PAY_BY_LINK_SCOPE = "pay_by_link";

/** A DNA payment link as its API answers it (seed 004: create, get and cancellation share it). */
export interface DnaPaymentLink {
  readonly id: string;
  /** Major units. */
  readonly amount: number;
  readonly currency: string;
  readonly invoiceId?: string | null;
  readonly terminalId?: string;
  readonly status: DnaLinkStatus | string;
  readonly url: string;
  readonly createdDate?: string;
  readonly expirationDate?: string;
  readonly paidDate?: string | null;
  readonly cancelledDate?: string | null;
}

/** DNA's link statuses. Only `active`, `viewed` and `attempted` can be cancelled. */
export type DnaLinkStatus = "active" | "viewed" | "attempted" | "expired" | "cancelled" | "paid";

/** The DNA Payments gateway: {@link PaymentGateway} plus a read of one link. */
export interface DnaGateway extends PaymentGateway {
  readonly provider: "dna";
  /**
   * Reads the link `reference` (`GET /v1/payment-links/{id}`): the link, or the failure classified as
   * for the other calls.
   */
  getLink(
    reference: string,
  ): Promise<
    | { readonly outcome: "found"; readonly link: DnaPaymentLink }
    | { readonly outcome: "retry_later"; readonly detail: string; readonly retryAfterMs?: number }
    | { readonly outcome: "refused"; readonly reason: string }
  >;
}

/**
 * Creates the DNA Payments gateway over plain `fetch`: payment links (`/v1/payment-links`) with an
 * OAuth client-credentials token (scope `pay_by_link`), cancellation, callbacks verified by HMAC as
 * DNA's own SDKs verify them, and refunds refused with {@link REFUND_REFUSAL}. No method throws for
 * DNA's answer. See the README for the failure matrix.
 */
export function createDnaGateway(options: DnaGatewayOptions): DnaGateway {
  const config = resolveOptions(options);
  const transport: Transport = { fetch: config.fetch, timeoutMs: config.timeoutMs, now: config.now };
  const tokens = new TokenSource(transport, {
    tokenUrl: config.tokenUrl,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    refreshMarginMs: config.tokenRefreshMarginMs,
  });
  const api = (method: "GET" | "POST", path: string, body?: string, scope = PAY_BY_LINK_SCOPE) =>
    authorized(tokens, transport, {
      method,
      url: `${config.apiBaseUrl}${path}`,
      scope,
      ...(body === undefined ? {} : { body }),
    });
  const linkPath = (reference: string) => `/v1/payment-links/${encodeURIComponent(reference)}`;

  const getLink: DnaGateway["getLink"] = async (reference) => {
    const reply = await api("GET", linkPath(reference));
    const link = asLink(reply);
    if (link) return { outcome: "found", link };
    return failed(reply);
  };

  return {
    provider: "dna",
    getLink,

    async createLink(payment) {
      const body = linkRequest(payment, config);
      if (typeof body !== "string") return body;
      if (config.createLookbackMs > 0) {
        const existing = await findCreated(payment);
        if (existing.outcome !== "none") return existing;
      }
      const reply = await api("POST", "/v1/payment-links", body);
      const link = asLink(reply);
      if (link) return { outcome: "created", reference: link.id, url: link.url };
      return failed(reply);
    },

    async stopLink(reference) {
      const reply = await api("POST", `${linkPath(reference)}/cancellation`, "{}");
      const link = asLink(reply);
      if (link) return link.status === "cancelled" ? { outcome: "stopped" } : stopAnswer(link, reply);
      const failure = classify(reply);
      if (failure.retry) return retryLater(failure);
      // Refused (422 "cannot be cancelled", say): DNA's code does not say why, the link's status does.
      const read = await getLink(reference);
      if (read.outcome === "found") return stopAnswer(read.link, reply);
      if (read.outcome === "retry_later") return read;
      const reason = `stop refused: ${failure.reason}; read: ${read.reason}`;
      // Credentials DNA refuses (401, 403) fail every call alike: retried, shown as a pending stop until
      // someone fixes them. Otherwise the link is neither cancellable nor readable with these credentials
      // (an unknown id, a link of another terminal): never reported stopped, but `refused`, recorded for
      // someone to look at, so that it does not hold back every later stop in the relay's queue.
      if (failure.status === 401 || failure.status === 403) return { outcome: "retry_later", detail: reason };
      return { outcome: "refused", reason };
    },

    async refund(_request: RefundRequest): Promise<RefundResult> {
      return { outcome: "refused", reason: REFUND_REFUSAL };
    },

    async parseWebhook(rawBody) {
      return parseDnaCallback(rawBody, config.callbackSecret);
    },
  };

  /** A link this gateway created already for `payment` (a create retried after a timeout), if any. */
  async function findCreated(payment: Payment): Promise<CreateLinkResult | { outcome: "none" }> {
    const now = config.now();
    const from = new Date(Math.min(Date.parse(payment.createdAt), now) - config.createLookbackMs);
    const to = new Date(now + 60_000);
    const size = 500;
    for (let page = 1; page <= 20; page++) {
      const query = new URLSearchParams({
        terminalId: config.terminalId,
        from: from.toISOString(),
        to: to.toISOString(),
        page: String(page),
        size: String(size),
      });
      const reply = await api("GET", `/v1/payment-links?${query}`);
      if (!isOk(reply)) return failed(reply);
      const records = (reply.body as { records?: unknown } | undefined)?.records;
      if (!Array.isArray(records)) return { outcome: "none" };
      const found = records.find(
        (record: DnaPaymentLink) => record?.invoiceId === payment.id && record.status !== "cancelled",
      ) as DnaPaymentLink | undefined;
      if (found) return { outcome: "created", reference: found.id, url: found.url };
      if (records.length < size) return { outcome: "none" };
    }
    return { outcome: "none" };
  }
}

/** The JSON of `POST /v1/payment-links` for `payment`, or why DNA cannot take it. */
function linkRequest(
  payment: Payment,
  config: ResolvedOptions,
): string | { outcome: "refused"; reason: string } {
  if (payment.kind !== "link")
    return { outcome: "refused", reason: "DNA payment links serve links, not charges" };
  if (payment.expiresAt === null)
    return { outcome: "refused", reason: "a DNA payment link needs an expiry date" };
  const amount = toMajorUnits(payment.amountTotal, payment.currency);
  if (amount === undefined) return { outcome: "refused", reason: `bad amount ${payment.amountTotal}` };
  const settings =
    config.callbackUrl === undefined
      ? undefined
      : { callbackUrl: config.callbackUrl, failureCallbackUrl: config.failureCallbackUrl };
  const rest = JSON.stringify({
    currency: payment.currency,
    // The payment id travels in the two fields DNA carries through: invoiceId (signed in callbacks,
    // the one Paylink reads back) and merchantCustomData (DNA's free-form "metadata", for reports).
    invoiceId: payment.id,
    terminalId: config.terminalId,
    expirationDate: payment.expiresAt,
    customerName: config.customerName(payment),
    ...(payment.description === null ? {} : { description: payment.description }),
    transactionType: config.transactionType,
    merchantCustomData: JSON.stringify({ [PAYLINK_ID_METADATA_KEY]: payment.id }),
    ...(settings ? { paymentSettings: settings } : {}),
  });
  return withAmount(amount, rest);
}

/**
 * Puts `"amount": <major>` first into a serialized object, as the exact decimal text: going through a
 * JavaScript number could round amounts beyond 2^53 minor units.
 */
function withAmount(major: string, serialized: string): string {
  return serialized === "{}" ? `{"amount":${major}}` : `{"amount":${major},${serialized.slice(1)}`;
}

function asLink(reply: Reply): DnaPaymentLink | undefined {
  if (!isOk(reply)) return undefined;
  const body = reply.body as Partial<DnaPaymentLink> | undefined;
  if (typeof body?.id !== "string" || typeof body.status !== "string" || typeof body.url !== "string") {
    return undefined;
  }
  return body as DnaPaymentLink;
}

/** The stop answer for a link DNA did not (or no longer could) cancel, by its status. */
function stopAnswer(link: DnaPaymentLink, reply: Reply): StopResult {
  switch (link.status) {
    case "cancelled":
    case "expired":
      return { outcome: "already_stopped" };
    case "paid": {
      const amount = toMinorUnits(link.amount, link.currency);
      // DNA's link object names no transaction: the payment is named by the link's invoiceId (the
      // Paylink payment id), as the paid callback names it too, so both paths give one refund key.
      return {
        outcome: "already_paid",
        paymentReference: link.invoiceId ?? link.id,
        ...(amount === undefined ? {} : { amount, currency: link.currency }),
      };
    }
    default: {
      const why = reply.kind === "http" ? `HTTP ${reply.status}${dnaError(reply.body)}` : "no answer";
      return {
        outcome: "retry_later",
        detail: `DNA did not cancel a link in status ${link.status} (${why})`,
      };
    }
  }
}

function retryLater(failure: { detail: string; retryAfterMs?: number }) {
  return failure.retryAfterMs === undefined
    ? { outcome: "retry_later" as const, detail: failure.detail }
    : { outcome: "retry_later" as const, detail: failure.detail, retryAfterMs: failure.retryAfterMs };
}

function failed(reply: Reply) {
  const failure = classify(reply);
  if (failure.retry) return retryLater(failure);
  // A 2xx whose body is not what DNA documents is not a refusal: DNA may have acted, so ask again.
  if (isOk(reply)) return { outcome: "retry_later" as const, detail: "unexpected DNA response" };
  return { outcome: "refused" as const, reason: failure.reason };
}
