/**
 * `@paylink/webhooks` — the webhook sink of `@paylink/relay`: endpoints that merchants register, each
 * delivery signed per Standard Webhooks, retries on the specification's schedule, dead letters that can
 * be retried by hand, and endpoints that resolve to private addresses refused.
 * @packageDocumentation
 */
export { type AddressKind, type AllowedAddresses, addressKind, isAllowedAddress } from "./address.js";
export {
  createWebhookDispatcher,
  DEFAULT_RETRY_SCHEDULE_MS,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
} from "./dispatcher.js";
export {
  createWebhookEndpoints,
  type DeliveryPage,
  WEBHOOK_EVENT_TYPES,
  type WebhookEndpoints,
  type WebhookEndpointsOptions,
} from "./endpoints.js";
export type { DeliveryOutcome, WebhookDelivery, WebhookEndpoint, WebhookStore } from "./port.js";
export { createWebhookSink, type WebhookSinkOptions } from "./sink.js";
