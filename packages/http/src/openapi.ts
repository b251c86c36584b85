import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { HTTP_ERRORS } from "./codes.js";
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

type Registry = OpenAPIHono["openAPIRegistry"];

const codesWith = (status: number, dialect: "A" | "B") =>
  Object.entries(HTTP_ERRORS)
    .filter(([, spec]) => (dialect === "A" ? spec.status : spec.dnaStatus) === status)
    .map(([code]) => `\`${code}\``)
    .join(", ");

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

const errorResponses = (dialect: "A" | "B", statuses: readonly number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: `${REASONS[status] ?? "Error"} — ${codesWith(status, dialect)}`,
        content: { "application/json": { schema: dialect === "A" ? ErrorA : DnaError } },
      },
    ]),
  );

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

const SECURITY_A: Record<string, string[]>[] = [{ ApiKeyAuth: [] }, { BearerAuth: [] }];
const SECURITY_B: Record<string, string[]>[] = [{ BearerAuth: [] }];
const TAG_A = "Payments (dialect A)";
const TAG_B = "DNA payment links (dialect B)";

/** Registers every route of both dialects, with their zod schemas, in `registry`. */
export function registerOpenApi(registry: Registry): void {
  registry.registerComponent("securitySchemes", "ApiKeyAuth", {
    type: "apiKey",
    in: "header",
    name: "x-api-key",
    description: "Dialect A only. The same key also works as `Authorization: Bearer <key>`.",
  });
  registry.registerComponent("securitySchemes", "BearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "`Authorization: Bearer <key>`; both dialects.",
  });

  const okA = (description: string, schema: typeof PaymentEnvelopeA | typeof PaymentListA) => ({
    description,
    content: { "application/json": { schema } },
  });
  const okB = (description: string) => ({
    description,
    content: { "application/json": { schema: DnaPaymentLink } },
  });

  registry.registerPath({
    method: "post",
    path: "/payments/{id}/cancel",
    operationId: "cancelPayment",
    tags: [TAG_A],
    summary: "Cancel a payment link",
    description:
      "Cancel a pending payment link so it can no longer be paid. Only a link that has not been paid or started processing can be canceled; canceling an already canceled link is a no-op (200, unchanged). Charges cannot be canceled. No body is needed.",
    security: SECURITY_A,
    request: {
      params: IdParam,
      headers: IdempotencyHeader,
      body: { required: false, content: { "application/json": { schema: EmptyBody } } },
    },
    responses: {
      200: okA("The canceled payment (or the unchanged one if it was already canceled)", PaymentEnvelopeA),
      ...errorResponses("A", [400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503]),
    },
  });
  registry.registerPath({
    method: "post",
    path: "/payments",
    operationId: "createPayment",
    tags: [TAG_A],
    summary: "Create a payment link (or a charge)",
    security: SECURITY_A,
    request: {
      headers: IdempotencyHeader,
      body: { required: true, content: { "application/json": { schema: CreatePaymentA } } },
    },
    responses: {
      200: okA("The new payment, `pending`", PaymentEnvelopeA),
      ...errorResponses("A", [400, 401, 403, 409, 413, 415, 422, 429, 500, 503]),
    },
  });
  registry.registerPath({
    method: "get",
    path: "/payments/{id}",
    operationId: "getPayment",
    tags: [TAG_A],
    summary: "Retrieve a payment",
    security: SECURITY_A,
    request: { params: IdParam },
    responses: {
      200: okA("The payment", PaymentEnvelopeA),
      ...errorResponses("A", [401, 404, 429, 500, 503]),
    },
  });
  registry.registerPath({
    method: "get",
    path: "/payments",
    operationId: "listPayments",
    tags: [TAG_A],
    summary: "List payments, newest first",
    description:
      "A cursor page: `data` holds up to `limit` payments, newest first; when `has_more` is true, pass the last id as `starting_after` for the next page. An unknown `starting_after` gives an empty page.",
    security: SECURITY_A,
    request: { query: ListQueryA },
    responses: {
      200: okA("A page of payments", PaymentListA),
      ...errorResponses("A", [400, 401, 429, 500, 503]),
    },
  });

  registry.registerPath({
    method: "post",
    path: "/v1/payment-links/{id}/cancellation",
    operationId: "dnaCancelPaymentLink",
    tags: [TAG_B],
    summary: "Cancel Payment Link (DNA)",
    description:
      "Only a payment link with the status active, viewed or attempted can be cancelled (a link whose payment is in progress cannot). Cancelling a cancelled link answers 200 with the unchanged body. Charges are not payment links: 404.",
    security: SECURITY_B,
    request: {
      params: IdParam,
      headers: IdempotencyHeader,
      body: { required: false, content: { "application/json": { schema: EmptyBody } } },
    },
    responses: {
      200: okB("The cancelled payment link"),
      ...errorResponses("B", [400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503]),
    },
  });
  registry.registerPath({
    method: "post",
    path: "/v1/payment-links",
    operationId: "dnaCreatePaymentLink",
    tags: [TAG_B],
    summary: "Create Payment Link (DNA)",
    security: SECURITY_B,
    request: {
      headers: IdempotencyHeader,
      body: { required: true, content: { "application/json": { schema: DnaCreatePaymentLink } } },
    },
    responses: {
      200: okB("The new payment link, `active`"),
      ...errorResponses("B", [400, 401, 403, 409, 413, 415, 422, 429, 500, 503]),
    },
  });
  registry.registerPath({
    method: "get",
    path: "/v1/payment-links/{id}",
    operationId: "dnaGetPaymentLink",
    tags: [TAG_B],
    summary: "Retrieve Payment Link (DNA)",
    security: SECURITY_B,
    request: { params: IdParam },
    responses: {
      200: okB("The payment link"),
      ...errorResponses("B", [401, 404, 429, 500, 503]),
    },
  });
}
