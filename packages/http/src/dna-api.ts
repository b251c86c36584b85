/**
 * The DNA Payments API (formerly "dialect B"): `/v1/payment-links…`, `Authorization: Bearer`,
 * decimal amounts in major units, DNA's status words, `{ code, message }` errors with business-rule
 * refusals as 422. Charges are not payment links: every DNA route answers 404 for them.
 */
import {
  type CreatePaymentInput,
  type Metadata,
  type PaylinkError,
  type Payment,
  type Status,
  toMajorUnits,
  toMinorUnits,
} from "@paylink/core";
import { issuesOf } from "./body.js";
import type { Dialect, Outcome } from "./dialect.js";
import type { Parsed } from "./endpoints.js";
import {
  fromCoreError,
  HTTP_ERRORS,
  type HttpError,
  httpError,
  invalidParameters,
  retryAfterHeaders,
} from "./errors.js";
import { json, type Reply } from "./replies.js";
import { type DNA_STATUSES, DnaCreatePaymentLink } from "./schemas.js";

/**
 * Metadata keys under which dialect B keeps DNA's fields that core's `Payment` has no column for. They
 * are ordinary metadata in dialect A (and may be set there too).
 */
export const DNA_METADATA_KEYS = {
  invoiceId: "dna_invoice_id",
  terminalId: "dna_terminal_id",
  customerName: "dna_customer_name",
} as const;

/** A DNA status word. */
export type DnaStatus = (typeof DNA_STATUSES)[number];

/**
 * Core status → DNA's word: `pending` → `active`, `processing` → `attempted` (a payment is under way),
 * `canceled` → `cancelled`; the others are the same word. (`failed` exists only for charges, which dialect
 * B never shows.)
 */
export function toDnaStatus(status: Status): DnaStatus {
  switch (status) {
    case "pending":
      return "active";
    case "processing":
      return "attempted";
    case "canceled":
      return "cancelled";
    case "failed":
      return "expired";
    default:
      return status;
  }
}

const text = (metadata: Metadata, key: string): string | null => {
  const value = metadata[key];
  return typeof value === "string" ? value : null;
};

/**
 * A payment link as DNA's JSON text. `amount` is written as the exact decimal literal from `toMajorUnits`
 * (`12.00`, `500`, `0.005`) — a JSON number whose text is exact, never a float that rounded.
 */
export function toDnaJson(payment: Payment): string {
  const amount = toMajorUnits(payment.amountTotal, payment.currency) ?? String(payment.amountTotal);
  const rest = {
    currency: payment.currency,
    invoiceId: text(payment.metadata, DNA_METADATA_KEYS.invoiceId),
    terminalId: text(payment.metadata, DNA_METADATA_KEYS.terminalId),
    customerName: text(payment.metadata, DNA_METADATA_KEYS.customerName),
    description: payment.description,
    createdDate: payment.createdAt,
    expirationDate: payment.expiresAt,
    viewedDate: payment.viewedAt,
    attemptedDate: payment.attemptedAt,
    paidDate: payment.paidAt,
    cancelledDate: payment.canceledAt,
    status: toDnaStatus(payment.status),
    url: payment.url,
  };
  return `{"id":${JSON.stringify(payment.id)},"amount":${amount},${JSON.stringify(rest).slice(1)}`;
}

const CORE_TO_DNA_FIELDS: Readonly<Record<string, string>> = {
  amountSubtotal: "amount",
  taxAmount: "amount",
  expiresAt: "expirationDate",
  customerId: "customerName",
  [`metadata.${DNA_METADATA_KEYS.invoiceId}`]: "invoiceId",
  [`metadata.${DNA_METADATA_KEYS.terminalId}`]: "terminalId",
  [`metadata.${DNA_METADATA_KEYS.customerName}`]: "customerName",
};

const missing = () => httpError("resource_missing", "No such payment link.", { param: "id" });

/** Core errors in DNA's words: charges are missing links, refusals are 422 with DNA's status words. */
function fromCore(error: PaylinkError): HttpError {
  switch (error.code) {
    case "not_found":
    case "charge_not_cancelable":
      return missing();
    case "payment_not_cancelable":
      return httpError(
        "payment_not_cancelable",
        error.status === "processing"
          ? "A payment is in progress on this payment link; it cannot be cancelled."
          : `Only a payment link with the status active, viewed or attempted can be cancelled; this one is ${toDnaStatus(error.status)}.`,
        { param: "id", details: { status: toDnaStatus(error.status) } },
      );
    default:
      return fromCoreError(error, (field) => CORE_TO_DNA_FIELDS[field] ?? field);
  }
}

/** Largest amount dialect B accepts, in minor units: below 10^15 every decimal is exact as a JSON number. */
export const DNA_MAX_MINOR_UNITS = 999_999_999_999_999;

/**
 * The body of `POST /v1/payment-links` as core's input: the amount in minor units, DNA's fields without
 * a column of their own in `metadata` (see {@link DNA_METADATA_KEYS}).
 */
export function parseCreateDnaLink(body: Record<string, unknown>): Parsed<CreatePaymentInput> {
  const parsed = DnaCreatePaymentLink.safeParse(body);
  if (!parsed.success) return { ok: false, error: invalidParameters(issuesOf(parsed.error)) };
  const link = parsed.data;
  const minor = toMinorUnits(link.amount, link.currency);
  if (minor === undefined || minor < 0 || minor > DNA_MAX_MINOR_UNITS) {
    return {
      ok: false,
      error: invalidParameters([
        {
          param: "amount",
          message: `must be a non-negative decimal in major units with at most the decimals of ${link.currency}, below 10^15 minor units`,
        },
      ]),
    };
  }
  const metadata: Record<string, string> = {
    [DNA_METADATA_KEYS.terminalId]: link.terminalId,
    [DNA_METADATA_KEYS.customerName]: link.customerName,
  };
  if (typeof link.invoiceId === "string") metadata[DNA_METADATA_KEYS.invoiceId] = link.invoiceId;
  return {
    ok: true,
    value: {
      kind: "link",
      customerId: link.customerName,
      provider: "dna",
      amountSubtotal: minor,
      taxAmount: 0,
      currency: link.currency,
      description: link.description ?? null,
      metadata,
      expiresAt: link.expirationDate,
    },
  };
}

/** The DNA API's writer: DNA's JSON for links, `{ code, message }` with DNA's statuses for failures. */
export function dnaApi(): Dialect {
  const error = (failure: HttpError): Reply => {
    const body = JSON.stringify({ code: failure.code, message: failure.message });
    return json(HTTP_ERRORS[failure.code].dnaStatus, body, retryAfterHeaders(failure));
  };
  return {
    name: "dna",
    allowApiKeyHeader: false,
    write(outcome: Outcome): Reply {
      if ("payment" in outcome) {
        return outcome.payment.kind === "link" ? json(200, toDnaJson(outcome.payment)) : error(missing());
      }
      // No DNA route lists payments or serves other resources; one here is a wiring mistake, not the client's.
      if ("page" in outcome || "data" in outcome || "list" in outcome) {
        return error(httpError("internal_error", "Something went wrong on our side."));
      }
      return error("refused" in outcome ? fromCore(outcome.refused) : outcome);
    },
  };
}
