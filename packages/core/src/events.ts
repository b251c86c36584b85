import type { DomainEventName, Kind, Status } from "./lifecycle.js";
import type { Payment } from "./schemas.js";

/** The published type of a domain event: the kind's prefix and the event name. */
export type DomainEventType = `${"payment_link" | "charge"}.${DomainEventName}`;

/**
 * A fact about one payment, written atomically with the state change that caused it (an outbox).
 * Consumers deduplicate by `id`: delivery is at least once.
 */
export interface DomainEvent {
  /** Unique id (`evt_…`), stable across redeliveries. */
  readonly id: string;
  /** e.g. `payment_link.canceled`, `payment_link.late_payment`, `charge.paid`. */
  readonly type: DomainEventType;
  readonly paymentId: string;
  readonly accountId: string;
  readonly livemode: boolean;
  /** ISO-8601 time of the command that caused it. */
  readonly occurredAt: string;
  /** Status before the command (null for `created`). */
  readonly previousStatus: Status | null;
  /** The payment as written with this event. */
  readonly payment: Payment;
}

/** The prefix of domain events for payments of `kind`. */
export function eventPrefix(kind: Kind): "payment_link" | "charge" {
  return kind === "link" ? "payment_link" : "charge";
}
