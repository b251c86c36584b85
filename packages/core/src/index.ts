/**
 * `@paylink/core` — the payment-link lifecycle as an XState machine, Result-typed commands and the
 * storage port. Start with {@link createPaymentLinks}.
 * @packageDocumentation
 */

export type {
  CancelResult,
  CommandOptions,
  PaymentLinks,
  PaymentLinksOptions,
  ProviderPayment,
  ProviderStopRecord,
  RefundRecord,
} from "./commands.js";
export { can, type Decision, decide, expirableStatuses, interpret, isDue, isTerminal } from "./decision.js";
export {
  describeOutcome,
  type LifecycleEdge,
  lifecycleEdges,
  toDot,
  toMarkdownTable,
  toMermaid,
  toStatelyJson,
  toStatelySource,
} from "./diagram.js";
export {
  type ChargeNotCancelable,
  type Conflict,
  ERROR_CODES,
  type ErrorCode,
  errors,
  type InvalidRequest,
  type LinkNotPayable,
  type NotFound,
  type PaylinkError,
  type PaymentNotCancelable,
  type ProviderRefused,
  type ProviderUnavailable,
  type StoreUnavailable,
  type ValidationIssue,
} from "./errors.js";
export { type DomainEvent, type DomainEventType, eventPrefix } from "./events.js";
export {
  type CreateLinkResult,
  PAYLINK_ID_METADATA_KEY,
  type PaymentGateway,
  type ProviderPaymentEvent,
  type RefundRequest,
  type RefundResult,
  type Refused,
  type RetryLater,
  type StopResult,
  type WebhookParseResult,
} from "./gateway.js";
export { type Clock, type IdGenerator, randomIds, systemClock } from "./ids.js";
export { createLifecycleActor } from "./inspect.js";
export {
  CHARGE_STATUSES,
  DOMAIN_EVENT_NAMES,
  type DomainEventName,
  KINDS,
  type Kind,
  LIFECYCLE_EVENTS,
  LINK_STATUSES,
  type LifecycleEventType,
  PROVIDER_EVENT_NAMES,
  REJECTION_CODES,
  type RejectionCode,
  STAMPED_FIELDS,
  STATUSES,
  type StampedField,
  type Status,
  statusesOf,
} from "./lifecycle.js";
export { createPaymentLinks } from "./links.js";
export {
  type LifecycleContext,
  type LifecycleEvent,
  type LifecycleMachine,
  lifecycleMachine,
  type StampParams,
  stateValueOf,
  statusOfValue,
} from "./machine.js";
export { CURRENCIES, currencyExponent, isCurrency, toMajorUnits, toMinorUnits } from "./money.js";
export {
  type CreatePaymentInput,
  CreatePaymentInputSchema,
  CurrencySchema,
  type Metadata,
  MetadataSchema,
  MinorUnitsSchema,
  type Payment,
  PaymentSchema,
  type ProviderState,
  ProviderStateSchema,
  type Scope,
  ScopeSchema,
  TextSchema,
} from "./schemas.js";
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
} from "./store.js";
