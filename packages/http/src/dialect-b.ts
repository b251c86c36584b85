/**
 * Dialect B (DNA Payments, seed 004): `/v1/payment-links…`, `Authorization: Bearer`, decimal amounts in
 * major units, DNA's status words, `{ code, message }` errors with business-rule failures as 422.
 * Charges are not payment links: every dialect-B route answers 404 for them.
 */
import {
  type Metadata,
  type PaylinkError,
  type Payment,
  type PaymentLinks,
  type Status,
  toMajorUnits,
  toMinorUnits,
} from "@paylink/core";
import { issuesOf } from "./body.js";
import {
  fromCoreError,
  HTTP_ERRORS,
  type HttpError,
  httpError,
  invalidParameters,
  retryAfterHeaders,
} from "./codes.js";
import type { Reply } from "./idempotency.js";
import { cancelEndpoint, type Dialect, type Endpoint, idParser, json, keyedCommand } from "./pipeline.js";
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

/** Dialect B's `{ code, message }` errors, with DNA's statuses (422 for business rules). */
export function dialectB(): Dialect {
  return {
    name: "B",
    allowApiKeyHeader: false,
    error(error: HttpError): Reply {
      const spec = HTTP_ERRORS[error.code];
      const body = JSON.stringify({ code: error.code, message: error.message });
      return json(spec.dnaStatus, body, retryAfterHeaders(error));
    },
  };
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

interface DnaCreate {
  readonly minor: number;
  readonly body: typeof DnaCreatePaymentLink._output;
}

/** The endpoints of dialect B over `links`. */
export function endpointsB(links: PaymentLinks, idPattern: RegExp) {
  const idOf = idParser(idPattern, missing);
  const ok = (payment: Payment) => json(200, toDnaJson(payment));

  const cancel = cancelEndpoint(links, idOf, { payment: ok, error: fromCore });

  const retrieve: Endpoint<string> = {
    write: false,
    bodyRequired: false,
    parse: ({ params }) => idOf(params),
    async run({ scope }, id) {
      const result = await links.get(scope, id);
      if (result.isErr()) return fromCore(result.error);
      return result.value.kind === "link" ? ok(result.value) : missing();
    },
  };

  const create: Endpoint<DnaCreate> = {
    write: true,
    bodyRequired: true,
    parse({ body }) {
      const parsed = DnaCreatePaymentLink.safeParse(body);
      if (!parsed.success) return { ok: false, error: invalidParameters(issuesOf(parsed.error)) };
      const minor = toMinorUnits(parsed.data.amount, parsed.data.currency);
      if (minor === undefined || minor < 0 || minor > DNA_MAX_MINOR_UNITS) {
        return {
          ok: false,
          error: invalidParameters([
            {
              param: "amount",
              message: `must be a non-negative decimal in major units with at most the decimals of ${parsed.data.currency}, below 10^15 minor units`,
            },
          ]),
        };
      }
      return { ok: true, value: { minor, body: parsed.data } };
    },
    async run(context, { minor, body }) {
      const metadata: Record<string, string> = {
        [DNA_METADATA_KEYS.terminalId]: body.terminalId,
        [DNA_METADATA_KEYS.customerName]: body.customerName,
      };
      if (typeof body.invoiceId === "string") metadata[DNA_METADATA_KEYS.invoiceId] = body.invoiceId;
      const result = await links.create(
        context.scope,
        {
          kind: "link",
          customerId: body.customerName,
          provider: "dna",
          amountSubtotal: minor,
          taxAmount: 0,
          currency: body.currency,
          description: body.description ?? null,
          metadata,
          expiresAt: body.expirationDate,
        },
        keyedCommand(context, ok),
      );
      return result.isOk() ? ok(result.value) : fromCore(result.error);
    },
  };

  return { cancel, retrieve, create };
}
