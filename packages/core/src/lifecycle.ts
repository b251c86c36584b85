/**
 * The vocabulary of the lifecycle: kinds, statuses, commands (machine events) and timestamps.
 * Only names live here; the rules that connect them live in the machine (`machine.ts`).
 */

/** What a payment is: a hosted payment link, or a direct charge (never cancelable). */
export const KINDS = ["link", "charge"] as const;
/** What a payment is: a hosted payment link, or a direct charge (never cancelable). */
export type Kind = (typeof KINDS)[number];

/** Statuses a payment link can be in (seed-000 vocabulary). */
export const LINK_STATUSES = [
  "pending",
  "viewed",
  "attempted",
  "processing",
  "paid",
  "canceled",
  "expired",
] as const;
/** Statuses a charge can be in. Charges are never viewed, never canceled and never expire. */
export const CHARGE_STATUSES = ["pending", "processing", "paid", "failed"] as const;
/** Every status of any kind of payment. */
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
/** The status of a payment. Which statuses a kind can reach is given by {@link statusesOf}. */
export type Status = (typeof STATUSES)[number];

/** The statuses a payment of `kind` can be in. */
export function statusesOf(kind: Kind): readonly Status[] {
  return kind === "link" ? LINK_STATUSES : CHARGE_STATUSES;
}

/** The events of the lifecycle machine; each public command sends one. */
export const LIFECYCLE_EVENTS = [
  "VIEW",
  "START_PAYMENT",
  "PAYMENT_FAILED",
  "PAYMENT_SUCCEEDED",
  "CANCEL",
  "EXPIRE",
] as const;
/** An event of the lifecycle machine. */
export type LifecycleEventType = (typeof LIFECYCLE_EVENTS)[number];

/** Timestamps that transitions set (each at most once: a stamp never overwrites). */
export const STAMPED_FIELDS = ["viewedAt", "attemptedAt", "paidAt", "canceledAt", "expiredAt"] as const;
/** A timestamp field of the payment that a transition sets. */
export type StampedField = (typeof STAMPED_FIELDS)[number];

/** Names of the domain events a transition can announce (prefixed with the kind when published). */
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
] as const;
/** The name of a domain event, without its kind prefix. */
export type DomainEventName = (typeof DOMAIN_EVENT_NAMES)[number];

/** Error codes the machine can answer a command with (a rejection writes nothing). */
export const REJECTION_CODES = [
  "charge_not_cancelable",
  "payment_not_cancelable",
  "link_not_payable",
] as const;
/** A rejection decided by the machine. */
export type RejectionCode = (typeof REJECTION_CODES)[number];
