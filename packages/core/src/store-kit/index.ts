/**
 * `@paylink/core/store` — the kit for writing a Paylink store: the storage port, and the pieces every
 * store needs the same way (batched reads, the due statuses, the meaning of `limit`, the migration and
 * error shapes). Applications never need it; they pass a store to `createPaymentLinks`. See
 * `docs/writing-a-store.md`.
 * @packageDocumentation
 */

export type {
  DeliveryOutcome,
  DeliveryStore,
  EventFeed,
  RelayStore,
  SinkPosition,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookStore,
} from "../delivery-store.js";
export {
  type IdempotencyRecord,
  type IdempotencyStore,
  type IdempotentWrite,
  KEY_LOST,
  type PaymentRef,
  type PaymentStore,
  type StoredEvent,
  type StoredPayment,
  type WriteResult,
} from "../store.js";
export { type BatchedReads, batchReads, type ReadSource, type ScopedRecord } from "./batch-reads.js";
export { StoreError, type StoreErrorMessages, type StoreErrorOptions } from "./errors.js";
export type { Migration } from "./migration.js";
export { DUE_STATUSES, rowLimit } from "./queries.js";
