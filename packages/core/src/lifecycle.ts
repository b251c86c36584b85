/**
 * The vocabulary of the lifecycle: kinds, statuses, commands (machine events) and timestamps.
 * Only names live here; the rules that connect them live in the machine (`machine.ts`).
 */

/** What a payment can be ({@link Kind}): a hosted payment link, or a direct charge. */
export const KINDS = ["link", "charge"] as const;
export type Kind = (typeof KINDS)[number];

/**
 * Statuses a payment link can be in, in the payments API's words (the DNA Payments API names some of them
 * differently; `docs/http.md` maps them).
 */
export const LINK_STATUSES = [
  "pending",
  "viewed",
  "attempted",
  "processing",
  "paid",
  "canceled",
  "expired",
] as const;
/** Statuses a charge can be in. */
export const CHARGE_STATUSES = ["pending", "processing", "paid", "failed"] as const;
/**
 * Every status of any kind of payment; a {@link Status} is one of them. Which statuses a kind can be in is
 * given by {@link statusesOf}.
 */
export const STATUSES = [
  "pending",
  "viewed",
  "attempted",
  "processing",
  "paid",
  "canceled",
  "expired",
  "failed",
] as const;
export type Status = (typeof STATUSES)[number];

/** The statuses a payment of `kind` can be in. */
export function statusesOf(kind: Kind): readonly Status[] {
  return kind === "link" ? LINK_STATUSES : CHARGE_STATUSES;
}

/** The events of the lifecycle machine ({@link LifecycleEventType}); each public command sends one. */
export const LIFECYCLE_EVENTS = [
  "VIEW",
  "START_PAYMENT",
  "PAYMENT_FAILED",
  "PAYMENT_SUCCEEDED",
  "CANCEL",
  "EXPIRE",
] as const;
export type LifecycleEventType = (typeof LIFECYCLE_EVENTS)[number];

/** The payment's timestamp fields ({@link StampedField}) that transitions set, each at most once. */
export const STAMPED_FIELDS = ["viewedAt", "attemptedAt", "paidAt", "canceledAt", "expiredAt"] as const;
export type StampedField = (typeof STAMPED_FIELDS)[number];

/**
 * Names of the domain events ({@link DomainEventName}), without the kind's prefix they are published with.
 * The machine's transitions announce the lifecycle's; the last four record what a payment provider answered
 * (see {@link PROVIDER_EVENT_NAMES}) and never change a status.
 */
export const DOMAIN_EVENT_NAMES = [
  "created",
  "viewed",
  "payment_started",
  "payment_failed",
  "paid",
  "failed",
  "canceled",
  "expired",
  "late_payment",
  "provider_stopped",
  "provider_stop_refused",
  "refunded",
  "refund_refused",
] as const;
export type DomainEventName = (typeof DOMAIN_EVENT_NAMES)[number];

/** Error codes the machine can refuse a command with ({@link RejectionCode}); a refusal writes nothing. */
export const REJECTION_CODES = [
  "charge_not_cancelable",
  "payment_not_cancelable",
  "link_not_payable",
] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

/**
 * The domain events that record a provider's answer to Paylink's own outside commands: the link was stopped
 * at the provider (or the provider refused to stop it), a late payment was refunded (or the refund was
 * refused). They change the payment's `providerState`, never its status.
 */
export const PROVIDER_EVENT_NAMES = [
  "provider_stopped",
  "provider_stop_refused",
  "refunded",
  "refund_refused",
] as const satisfies readonly DomainEventName[];
