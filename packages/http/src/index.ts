/**
 * `@paylink/http` — the fetch-standard HTTP transport of Paylink (Hono): the payments API (dialect A,
 * `/payments…`) and the DNA Payments API (dialect B, `/v1/payment-links…`) over one core,
 * API-key auth, `Idempotency-Key`, `/openapi.json` and an interactive `/docs` page; with the options
 * `webhooks` and `events`, merchants' webhook endpoints and the event feed too; with `providers`, payment
 * providers' webhooks in (`POST /webhooks/<provider>`). Start with
 * {@link createPaylinkApp}.
 * @packageDocumentation
 */
export { createPaylinkApp, type PaylinkAppOptions } from "./app.js";
export { type Authenticate, type Principal, staticKeys } from "./auth.js";
export {
  DNA_MAX_MINOR_UNITS,
  DNA_METADATA_KEYS,
  type DnaStatus,
  toDnaJson,
  toDnaStatus,
} from "./dna-api.js";
export {
  type ErrorType,
  fromCoreError,
  HTTP_ERRORS,
  type HttpError,
  type HttpErrorCode,
  type HttpErrorSpec,
  httpErrorsMarkdown,
  retryAfterOf,
} from "./errors.js";
export { IDEMPOTENCY_LEASE_MS, IDEMPOTENCY_RETENTION_MS, REPLAYED_HEADER } from "./idempotency.js";
export type { OpenApiContact, OpenApiLicense, OpenApiServer } from "./openapi.js";
export { toPaymentA, toPaymentReadA } from "./payments-api.js";
export {
  PROVIDER_WEBHOOK_BODY_LIMIT_BYTES,
  type ProviderAccount,
  type ProviderEventResult,
  type ProviderWebhookErrorCode,
  providerEventFingerprint,
  providerEventKey,
  providerWebhookPath,
} from "./provider-webhooks.js";
export { type AuthFailureLimit, remoteClientOf } from "./rate-limit.js";
export {
  CreatePaymentA,
  DNA_STATUSES,
  DnaCreatePaymentLink,
  DnaError,
  DnaPaymentLink,
  ErrorA,
  PaymentA,
  PaymentEnvelopeA,
  PaymentListA,
} from "./schemas.js";
export { type ServeOptions, type ServerHandle, serve } from "./serve.js";
export {
  CreatedWebhookEndpointA,
  CreatedWebhookEndpointEnvelopeA,
  CreateWebhookEndpointA,
  EVENT_TYPES,
  EventA,
  EventListA,
  WebhookDeliveryA,
  WebhookDeliveryEnvelopeA,
  WebhookDeliveryListA,
  WebhookEndpointA,
  WebhookEndpointEnvelopeA,
  WebhookEndpointListA,
} from "./webhook-schemas.js";
export { toWebhookDeliveryA, toWebhookEndpointA } from "./webhooks-api.js";
