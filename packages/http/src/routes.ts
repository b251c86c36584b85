/**
 * The route table: every endpoint of both dialects, declared once. The router (`app.ts`) and the OpenAPI
 * document (`openapi.ts`) are both built from these rows, so neither can list a route the other lacks.
 */
import { createRoute, type RouteConfig, z } from "@hono/zod-openapi";
import type { DialectName } from "./dialect.js";
import { parseCreateDnaLink } from "./dna-api.js";
import { cancelPayment, createPayment, type Endpoint, getPayment, listPayments } from "./endpoints.js";
import { HTTP_ERRORS } from "./errors.js";
import { parseCreatePayment } from "./payments-api.js";
import {
  CreatePaymentA,
  DnaCreatePaymentLink,
  DnaError,
  DnaPaymentLink,
  EmptyBody,
  ErrorA,
  ListQueryA,
  PaymentEnvelopeA,
  PaymentListA,
} from "./schemas.js";

/** One row of the table, as the router and the OpenAPI document read it. */
export interface Route {
  readonly dialect: DialectName;
  readonly method: "GET" | "POST";
  /** The path in Hono's syntax (`/payments/:id`). */
  readonly routingPath: string;
  /** A POST: needs a key that can write, reads the body, honours `Idempotency-Key`. */
  readonly write: boolean;
  /** For a write: must the body be a JSON object (`true`), or may it be empty (`false`, cancel)? */
  readonly bodyRequired: boolean;
  readonly endpoint: Endpoint<unknown>;
  /** The operation in the OpenAPI document. */
  readonly operation: RouteConfig;
}

/** What the operations of one dialect share in the OpenAPI document. */
export interface DialectDocs {
  /** Its tag, declared once at the document's top level. */
  readonly tag: { readonly name: string; readonly description: string };
  readonly security: Record<string, string[]>[];
  readonly errorSchema: z.ZodType;
}

/** The {@link DialectDocs} of each dialect. */
export const DIALECT_DOCS: Readonly<Record<DialectName, DialectDocs>> = {
  payments: {
    tag: {
      name: "Payments (dialect A)",
      description:
        "The payments API: `/payments…`, `{ success, data }` envelopes, amounts as integers in minor units, refusals by a payment's state as 409. The key goes in `x-api-key` or `Authorization: Bearer`.",
    },
    security: [{ ApiKeyAuth: [] }, { BearerAuth: [] }],
    errorSchema: ErrorA,
  },
  dna: {
    tag: {
      name: "DNA payment links (dialect B)",
      description:
        "DNA Payments' payment-link API: `/v1/payment-links…`, DNA's fields and status words, decimal amounts in major units, `{ code, message }` errors with refusals as 422. The key goes in `Authorization: Bearer`. Charges are not payment links and are never found here.",
    },
    security: [{ BearerAuth: [] }],
    errorSchema: DnaError,
  },
};

const REASONS: Record<number, string> = {
  400: "Invalid request",
  401: "No or unknown API key",
  403: "The key may not do this",
  404: "No such payment",
  409: "Refused by the payment's state, or a concurrent request",
  413: "Body too large",
  415: "Body is not application/json",
  422: "Refused",
  429: "Too many failed API key checks from this client (when the server limits them); retry after `Retry-After`",
  500: "Internal error",
  503: "Store unavailable; retry",
};

const codesWith = (status: number, dialect: DialectName) =>
  Object.entries(HTTP_ERRORS)
    .filter(([, spec]) => (dialect === "payments" ? spec.status : spec.dnaStatus) === status)
    .map(([code]) => `\`${code}\``)
    .join(", ");

/**
 * The error statuses an operation can answer, from what it does: every operation authenticates and
 * reads the store; a path with `{id}` can miss; a write (or a query) can be invalid, and a write can
 * also be forbidden, refused, too large, of the wrong type or a reused key.
 */
function errorStatuses(write: boolean, hasId: boolean, hasQuery: boolean): number[] {
  const statuses = [401, 429, 500, 503];
  if (hasId) statuses.push(404);
  if (write || hasQuery) statuses.push(400);
  if (write) statuses.push(403, 409, 413, 415, 422);
  return statuses.sort((a, b) => a - b);
}

const IdParam = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, example: "pay_demo_pending" }),
});

const IdempotencyHeader = z.object({
  "Idempotency-Key": z
    .string()
    .min(1)
    .max(255)
    .optional()
    .openapi({
      param: {
        name: "Idempotency-Key",
        in: "header",
        description:
          "Makes the POST safe to retry for 24 h: a repeat replays the first response (`Idempotent-Replayed: true`); the same key with another body is 422.",
      },
      example: "7c8e1f0e-0d3b-4c39-9c1b-5b0d3f6a2a11",
    }),
});

interface Declaration<I> {
  readonly operationId: string;
  readonly method: "get" | "post";
  /** The path in OpenAPI's syntax (`/payments/{id}`). */
  readonly path: string;
  readonly dialect: DialectName;
  readonly summary: string;
  readonly description: string;
  readonly query?: z.ZodObject;
  readonly body?: { readonly schema: z.ZodType; readonly required: boolean };
  /** The 200 answer. */
  readonly ok: { readonly description: string; readonly schema: z.ZodType };
  readonly endpoint: Endpoint<I>;
}

/** A row from its declaration: the operation for the document, and what the router needs. */
function route<I>(declaration: Declaration<I>): Route {
  const { method, path, dialect, query, body, ok } = declaration;
  const write = method === "post";
  const hasId = path.includes("{id}");
  const docs = DIALECT_DOCS[dialect];
  const errors = errorStatuses(write, hasId, query !== undefined);
  const operation = createRoute({
    method,
    path,
    operationId: declaration.operationId,
    tags: [docs.tag.name],
    summary: declaration.summary,
    description: declaration.description,
    security: docs.security,
    request: {
      ...(hasId ? { params: IdParam } : {}),
      ...(query ? { query } : {}),
      // Every POST honours `Idempotency-Key` (app.ts), so every POST documents it.
      ...(write ? { headers: IdempotencyHeader } : {}),
      ...(body
        ? { body: { required: body.required, content: { "application/json": { schema: body.schema } } } }
        : {}),
    },
    responses: {
      200: { description: ok.description, content: { "application/json": { schema: ok.schema } } },
      ...Object.fromEntries(
        errors.map((status) => [
          status,
          {
            description: `${REASONS[status] ?? "Error"} — ${codesWith(status, dialect)}`,
            content: { "application/json": { schema: docs.errorSchema } },
          },
        ]),
      ),
    },
  });
  return {
    dialect,
    method: write ? "POST" : "GET",
    routingPath: operation.getRoutingPath(),
    write,
    bodyRequired: body?.required ?? false,
    endpoint: declaration.endpoint,
    operation,
  };
}

/** Every endpoint, in the order of the OpenAPI document. */
export const ROUTES: readonly Route[] = [
  route({
    operationId: "cancelPayment",
    method: "post",
    path: "/payments/{id}/cancel",
    dialect: "payments",
    summary: "Cancel a payment link",
    description:
      "Cancel a pending payment link so it can no longer be paid. Only a link that has not been paid or started processing can be canceled; canceling an already canceled link is a no-op (200, unchanged). Charges cannot be canceled. No body is needed.",
    body: { schema: EmptyBody, required: false },
    ok: {
      description: "The canceled payment (or the unchanged one if it was already canceled)",
      schema: PaymentEnvelopeA,
    },
    endpoint: cancelPayment,
  }),
  route({
    operationId: "createPayment",
    method: "post",
    path: "/payments",
    dialect: "payments",
    summary: "Create a payment link (or a charge)",
    description:
      'Create a payment link, or a charge with `kind: "charge"`, in `pending`. Amounts are integers in minor units and `amountTotal` is computed; a link needs an `expiresAt` in the future.',
    body: { schema: CreatePaymentA, required: true },
    ok: { description: "The new payment, `pending`", schema: PaymentEnvelopeA },
    endpoint: createPayment(parseCreatePayment),
  }),
  route({
    operationId: "getPayment",
    method: "get",
    path: "/payments/{id}",
    dialect: "payments",
    summary: "Retrieve a payment",
    description:
      "Retrieve a payment of the key's account and mode. A link past its `expiresAt` reads as `expired`; a payment of another account or mode is missing (404).",
    ok: { description: "The payment", schema: PaymentEnvelopeA },
    endpoint: getPayment,
  }),
  route({
    operationId: "listPayments",
    method: "get",
    path: "/payments",
    dialect: "payments",
    summary: "List payments, newest first",
    description:
      "A cursor page: `data` holds up to `limit` payments, newest first; when `has_more` is true, pass the last id as `starting_after` for the next page. An unknown `starting_after` gives an empty page.",
    query: ListQueryA,
    ok: { description: "A page of payments", schema: PaymentListA },
    endpoint: listPayments,
  }),
  route({
    operationId: "dnaCancelPaymentLink",
    method: "post",
    path: "/v1/payment-links/{id}/cancellation",
    dialect: "dna",
    summary: "Cancel Payment Link (DNA)",
    description:
      "Only a payment link with the status active, viewed or attempted can be cancelled (a link whose payment is in progress cannot). Cancelling a cancelled link answers 200 with the unchanged body. Charges are not payment links: 404.",
    body: { schema: EmptyBody, required: false },
    ok: { description: "The cancelled payment link", schema: DnaPaymentLink },
    endpoint: cancelPayment,
  }),
  route({
    operationId: "dnaCreatePaymentLink",
    method: "post",
    path: "/v1/payment-links",
    dialect: "dna",
    summary: "Create Payment Link (DNA)",
    description:
      "Create a payment link from DNA's request: `amount` in major units (a number or a decimal string) with at most the currency's decimals. `invoiceId`, `terminalId` and `customerName` are kept in the payment's metadata. The link starts `active`.",
    body: { schema: DnaCreatePaymentLink, required: true },
    ok: { description: "The new payment link, `active`", schema: DnaPaymentLink },
    endpoint: createPayment(parseCreateDnaLink),
  }),
  route({
    operationId: "dnaGetPaymentLink",
    method: "get",
    path: "/v1/payment-links/{id}",
    dialect: "dna",
    summary: "Retrieve Payment Link (DNA)",
    description:
      "Retrieve a payment link in DNA's fields and status words. A link past its expiration date reads as `expired`; charges are not payment links (404).",
    ok: { description: "The payment link", schema: DnaPaymentLink },
    endpoint: getPayment,
  }),
];
