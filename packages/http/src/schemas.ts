/**
 * The zod schemas of the HTTP edge: request bodies are validated with them once, and `/openapi.json` is
 * generated from them, so the documentation cannot drift from what the server accepts and sends.
 */
import { z } from "@hono/zod-openapi";
import {
  CurrencySchema,
  KINDS,
  MetadataSchema,
  MinorUnitsSchema,
  ProviderStateSchema,
  STATUSES,
} from "@paylink/core";
import { type ErrorType, HTTP_ERRORS, type HttpErrorCode } from "./errors.js";

const isoDate = z.iso.datetime({ offset: true });
const ERROR_TYPES = [
  "invalid_request_error",
  "authentication_error",
  "permission_error",
  "not_found_error",
  "invalid_state_error",
  "rate_limit_error",
  "api_error",
] as const satisfies readonly ErrorType[];
const ERROR_CODE_LIST = Object.keys(HTTP_ERRORS) as [HttpErrorCode, ...HttpErrorCode[]];

// ---------------------------------------------------------------- dialect A (the payments API)

/** Dialect A's `payment`: exactly the fields of the payments API, in its order. */
export const PaymentA = z
  .strictObject({
    id: z.string().openapi({ example: "pay_demo_pending" }),
    customerId: z.string().openapi({ example: "cus_1" }),
    kind: z.enum(KINDS),
    status: z.enum(STATUSES),
    provider: z.string().openapi({ example: "stripe" }),
    amountSubtotal: MinorUnitsSchema.meta({ description: "Integer, minor units (pence)", example: 1000 }),
    taxAmount: MinorUnitsSchema.meta({ description: "Integer, minor units", example: 200 }),
    amountTotal: MinorUnitsSchema.meta({ description: "amountSubtotal + taxAmount", example: 1200 }),
    currency: z.string().openapi({ description: "ISO 4217 code", example: "GBP" }),
    description: z.string().nullable().openapi({ example: "For cappuccino" }),
    metadata: MetadataSchema.meta({ example: { order: "A-1" } }),
    url: z.string().openapi({ description: "The hosted payment page" }),
    expiresAt: isoDate.nullable(),
    createdAt: isoDate,
    updatedAt: isoDate,
    object: z.literal("payment"),
    livemode: z.boolean(),
  })
  .openapi("Payment");

/** `{ success: true, data: payment }`. */
export const PaymentEnvelopeA = z
  .strictObject({ success: z.literal(true), data: PaymentA })
  .openapi("PaymentResponse");

/**
 * A payment as the reads (`GET /payments/{id}`, `GET /payments`) show it: the payments API's fields and,
 * for a link made at a payment provider, `providerState` (absent otherwise). Every write answers
 * {@link PaymentA} exactly.
 */
export const PaymentReadA = PaymentA.extend({
  providerState: ProviderStateSchema.optional().meta({
    description:
      "Only on links made at a payment provider: the provider's object (`reference`), whether it has been stopped there (`stop`: none, pending, confirmed, refused), the provider payment that paid it, and the refund of a late payment. See docs/providers.md.",
  }),
}).openapi("PaymentRead");

/** `{ success: true, data: payment }` of a read. */
export const PaymentReadEnvelopeA = z
  .strictObject({ success: z.literal(true), data: PaymentReadA })
  .openapi("PaymentReadResponse");

/** A page of payments, newest first. `has_more` says whether a next page exists. */
export const PaymentListA = z
  .strictObject({
    success: z.literal(true),
    data: z.array(PaymentReadA),
    has_more: z.boolean().openapi({
      description: "True when more payments follow; fetch them with `starting_after=<last id of data>`.",
    }),
  })
  .openapi("PaymentList");

/** Dialect A's error envelope: all six keys always present, `null` where empty. */
export const ErrorA = z
  .strictObject({
    success: z.literal(false),
    error: z.strictObject({
      type: z.enum(ERROR_TYPES),
      code: z.enum(ERROR_CODE_LIST),
      message: z.string(),
      param: z.string().nullable(),
      details: z.record(z.string(), z.unknown()).nullable(),
      doc_url: z.string(),
    }),
  })
  .openapi("Error");

/** Body of `POST /payments`. Amounts are integers in minor units; `amountTotal` is computed. */
export const CreatePaymentA = z
  .strictObject({
    kind: z.enum(KINDS).optional().openapi({ description: 'Default "link"' }),
    customerId: z.string().min(1).max(255).openapi({ example: "cus_1" }),
    provider: z.string().min(1).max(64).openapi({ example: "stripe" }),
    amountSubtotal: MinorUnitsSchema.meta({
      description:
        "Integer, minor units. A link must collect a positive total: amountSubtotal + taxAmount > 0",
      example: 1000,
    }),
    taxAmount: MinorUnitsSchema.optional().meta({ description: "Default 0", example: 200 }),
    currency: CurrencySchema.meta({ description: "ISO 4217 code", example: "GBP" }),
    description: z.string().max(1000).nullable().optional().openapi({ example: "For cappuccino" }),
    metadata: MetadataSchema.optional().meta({ example: { order: "A-1" } }),
    expiresAt: isoDate
      .nullable()
      .optional()
      .openapi({ description: "Required for links (in the future); absent for charges" }),
  })
  .openapi("CreatePayment");

/** Query of `GET /payments`. */
export const ListQueryA = z.strictObject({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .optional()
    .openapi({ description: "Page size, 1–100, default 20", example: 20 }),
  starting_after: z
    .string()
    .min(1)
    .max(255)
    .optional()
    .openapi({ description: "The last id of the previous page" }),
});

/** An empty JSON object (cancel takes no fields). */
export const EmptyBody = z.strictObject({}).openapi("EmptyBody");

// ---------------------------------------------------------------- dialect B (the DNA Payments API)

/** DNA's words for the statuses. `processing` is shown as `attempted` (a payment is under way). */
export const DNA_STATUSES = ["active", "viewed", "attempted", "expired", "cancelled", "paid"] as const;

/** Dialect B's payment link: exactly the fields of the DNA Payments API, in its order. */
export const DnaPaymentLink = z
  .strictObject({
    id: z.string().openapi({ example: "pay_demo_pending" }),
    amount: z.number().openapi({
      description:
        "Total in major units as an exact decimal (GBP 12.00, JPY 500, KWD 0.005), written with the currency's exponent",
      example: 12,
    }),
    currency: z.string().openapi({ example: "GBP" }),
    invoiceId: z.string().nullable().openapi({ example: "PL-1605200674803" }),
    terminalId: z.string().nullable().openapi({ example: "4511a14f-61a3-4449-a1c1-7a314ee2374c" }),
    customerName: z.string().nullable().openapi({ example: "Yermek" }),
    description: z.string().nullable().openapi({ example: "For cappuccino" }),
    createdDate: isoDate,
    expirationDate: isoDate.nullable(),
    viewedDate: isoDate.nullable(),
    attemptedDate: isoDate.nullable(),
    paidDate: isoDate.nullable(),
    cancelledDate: isoDate.nullable(),
    status: z.enum(DNA_STATUSES),
    url: z.string(),
  })
  .openapi("DnaPaymentLink");

/** Dialect B's error body. */
export const DnaError = z
  .strictObject({ code: z.enum(ERROR_CODE_LIST), message: z.string() })
  .openapi("DnaError");

/** Body of `POST /v1/payment-links` (DNA's create request). */
export const DnaCreatePaymentLink = z
  .strictObject({
    amount: z
      .union([z.number(), z.string().regex(/^\d{1,16}(\.\d{1,4})?$/, "must be a decimal such as 5.00")])
      .openapi({
        description:
          "Major units, e.g. 5.00 for £5; greater than 0; at most the currency's number of decimals; below 10^15 minor units",
        example: 12,
      }),
    currency: CurrencySchema.meta({ example: "GBP" }),
    invoiceId: z.string().min(1).max(255).nullable().optional().openapi({ example: "PL-1605200674803" }),
    terminalId: z.string().min(1).max(255).openapi({ example: "4511a14f-61a3-4449-a1c1-7a314ee2374c" }),
    expirationDate: isoDate.openapi({ example: "2030-11-13T17:20:50.493Z" }),
    customerName: z.string().min(1).max(255).openapi({ example: "Yermek" }),
    description: z.string().max(1000).nullable().optional().openapi({ example: "For cappuccino" }),
  })
  .openapi("DnaCreatePaymentLink");
