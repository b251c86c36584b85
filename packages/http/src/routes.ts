/**
 * The route table: every endpoint, declared once. The router (`app.ts`) and the OpenAPI document
 * (`openapi.ts`) are both built from these rows, so neither can list a route the other lacks. A row that
 * `needs` an optional part of the app (webhooks, events) is served and documented only with it.
 */
import { parseCreateDnaLink } from "./dna-api.js";
import { cancelPayment, createPayment, getPayment, listPayments } from "./endpoints.js";
import { parseCreatePayment } from "./payments-api.js";
import { type Route, route } from "./route.js";
import {
  CreatePaymentA,
  DnaCreatePaymentLink,
  DnaPaymentLink,
  EmptyBody,
  ListQueryA,
  PaymentEnvelopeA,
  PaymentListA,
  PaymentReadEnvelopeA,
} from "./schemas.js";
import {
  CreatedWebhookEndpointEnvelopeA,
  CreateWebhookEndpointA,
  EventListA,
  EventQueryA,
  WebhookDeliveryEnvelopeA,
  WebhookDeliveryListA,
  WebhookEndpointEnvelopeA,
  WebhookEndpointListA,
} from "./webhook-schemas.js";
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  listEvents,
  listWebhookDeliveries,
  listWebhookEndpoints,
  retryWebhookDelivery,
} from "./webhooks-api.js";

export type { Route } from "./route.js";

const ENDPOINT_ID = { id: "we_9vR2c0b1Yk3mQ4tZ" };
const NO_ENDPOINT = { 404: "No such webhook endpoint (of this account and mode)" };
const KEY_IN_USE = { 409: "A request with this `Idempotency-Key` is still running" };

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
    ok: { description: "The payment", schema: PaymentReadEnvelopeA },
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
  route({
    operationId: "createWebhookEndpoint",
    method: "post",
    path: "/webhook_endpoints",
    dialect: "payments",
    tag: "webhooks",
    needs: "webhooks",
    summary: "Register a webhook endpoint",
    description:
      "Register a URL that the account's events (of the key's mode) are posted to, signed per Standard Webhooks with the `secret` of the answer — the only time the secret is shown. The URL must be `http` or `https`, carry no credentials, and resolve to public addresses only (loopback and private networks only where the server allows them). `events` limits the event types; left out, every type is sent. A refused URL or event type stores nothing.",
    reasons: KEY_IN_USE,
    body: { schema: CreateWebhookEndpointA, required: true },
    ok: {
      description: "The new endpoint, `enabled`, with its `secret`",
      schema: CreatedWebhookEndpointEnvelopeA,
    },
    endpoint: createWebhookEndpoint,
  }),
  route({
    operationId: "listWebhookEndpoints",
    method: "get",
    path: "/webhook_endpoints",
    dialect: "payments",
    tag: "webhooks",
    needs: "webhooks",
    summary: "List webhook endpoints, oldest first",
    description:
      "Every webhook endpoint of the key's account and mode, oldest first, in one page (`has_more` is always false). Secrets are never shown.",
    ok: { description: "The endpoints", schema: WebhookEndpointListA },
    endpoint: listWebhookEndpoints,
  }),
  route({
    operationId: "getWebhookEndpoint",
    method: "get",
    path: "/webhook_endpoints/{id}",
    dialect: "payments",
    tag: "webhooks",
    needs: "webhooks",
    summary: "Retrieve a webhook endpoint",
    description:
      "Retrieve a webhook endpoint of the key's account and mode, without its secret: its `status` says whether it is still sent to (`disabledReason`: `gone` after a 410, `failing` after failing for too long). Another account's or mode's endpoint is missing (404).",
    params: ENDPOINT_ID,
    reasons: NO_ENDPOINT,
    ok: { description: "The endpoint", schema: WebhookEndpointEnvelopeA },
    endpoint: getWebhookEndpoint,
  }),
  route({
    operationId: "deleteWebhookEndpoint",
    method: "delete",
    path: "/webhook_endpoints/{id}",
    dialect: "payments",
    tag: "webhooks",
    needs: "webhooks",
    summary: "Delete a webhook endpoint",
    description:
      "Delete a webhook endpoint and its deliveries: nothing more is posted to it. Answers the endpoint as it was, without its secret. Deleting it again is 404.",
    params: ENDPOINT_ID,
    reasons: NO_ENDPOINT,
    ok: { description: "The deleted endpoint", schema: WebhookEndpointEnvelopeA },
    endpoint: deleteWebhookEndpoint,
  }),
  route({
    operationId: "listWebhookDeliveries",
    method: "get",
    path: "/webhook_endpoints/{id}/deliveries",
    dialect: "payments",
    tag: "webhooks",
    needs: "webhooks",
    summary: "List an endpoint's deliveries, newest first",
    description:
      "A cursor page of the endpoint's deliveries, newest first: per event, its attempts, the last status code and error, the next attempt, and whether it is `pending`, `succeeded` or `dead`. When `has_more` is true, pass the last id as `starting_after` for the next page; an unknown `starting_after` gives an empty page.",
    params: ENDPOINT_ID,
    reasons: NO_ENDPOINT,
    query: ListQueryA,
    ok: { description: "A page of deliveries", schema: WebhookDeliveryListA },
    endpoint: listWebhookDeliveries,
  }),
  route({
    operationId: "retryWebhookDelivery",
    method: "post",
    path: "/webhook_endpoints/{id}/deliveries/{deliveryId}/retry",
    dialect: "payments",
    tag: "webhooks",
    needs: "webhooks",
    summary: "Retry a dead delivery",
    description:
      "Send a `dead` delivery again: it is `pending` and due at once, keeps its attempts, and follows the retry schedule from where it stopped. A delivery that is not dead is 400 (`param: deliveryId`). No body is needed.",
    params: { ...ENDPOINT_ID, deliveryId: "whd_Qm3lV0dX1c9aPz2w" },
    reasons: { ...KEY_IN_USE, 404: "No such webhook endpoint, or no such delivery of it" },
    body: { schema: EmptyBody, required: false },
    ok: { description: "The delivery, `pending` again", schema: WebhookDeliveryEnvelopeA },
    endpoint: retryWebhookDelivery,
  }),
  route({
    operationId: "listEvents",
    method: "get",
    path: "/events",
    dialect: "payments",
    tag: "events",
    needs: "events",
    summary: "List events, oldest first",
    description:
      "A cursor page of the domain events of the key's account and mode, oldest first (the order they were written in), each exactly the JSON body a webhook receives. `payment` keeps one payment's events. When `has_more` is true, pass the last id as `starting_after` for the next page; an unknown `starting_after` (or another account's) gives an empty page.",
    query: EventQueryA,
    ok: { description: "A page of events", schema: EventListA },
    endpoint: listEvents,
  }),
];
