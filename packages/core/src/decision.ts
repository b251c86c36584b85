import { transition } from "xstate";
import {
  type DomainEventName,
  KINDS,
  type Kind,
  LIFECYCLE_EVENTS,
  type LifecycleEventType,
  type RejectionCode,
  type Status,
  statusesOf,
} from "./lifecycle.js";
import {
  type LifecycleContext,
  lifecycleMachine,
  type StampParams,
  stateValueOf,
  statusOfValue,
} from "./machine.js";
import type { Payment } from "./schemas.js";

/**
 * What the machine decides for one event in one status: the next status, the timestamps to set, the
 * domain events to announce, or a rejection. A decision with `changes: false` writes nothing.
 */
export interface Decision {
  /** The status after the event (the same status for a no-op, a rejection or a late payment). */
  readonly status: Status;
  /** Timestamps to set, each only if still null. */
  readonly stamps: readonly StampParams[];
  /** Domain events to announce, in order. */
  readonly emits: readonly DomainEventName[];
  /** Set when the command is refused; nothing is written then. */
  readonly reject: RejectionCode | null;
  /** True when the decision writes something (a new status, a timestamp or an event). */
  readonly changes: boolean;
  /** True when the payment can never leave `status` again. */
  readonly terminal: boolean;
}

/** Reads a decision off one step of the interpreted machine. This is the meaning of the machine's actions. */
export function interpretStep(
  snapshot: ReturnType<typeof transition<typeof lifecycleMachine>>[0],
  actions: ReadonlyArray<{ type: string; params?: unknown }>,
  before: Status,
): Decision {
  const status = statusOfValue(snapshot.value) as Status;
  const stamps: StampParams[] = [];
  const emits: DomainEventName[] = [];
  let reject: RejectionCode | null = null;
  for (const action of actions) {
    if (action.type === "stamp") stamps.push(action.params as StampParams);
    else if (action.type === "emit") emits.push((action.params as { event: DomainEventName }).event);
    else if (action.type === "reject") reject = (action.params as { code: RejectionCode }).code;
  }
  return {
    status,
    stamps,
    emits,
    reject,
    changes: reject === null && (status !== before || stamps.length > 0 || emits.length > 0),
    terminal: snapshot.hasTag("terminal"),
  };
}

/**
 * Runs XState's interpreter for one event: the reference meaning of the machine, which the decision
 * table is compiled from (see {@link lifecycleMachine}). Too slow to run per command: docs/benchmarks.md.
 */
export function interpret(
  kind: Kind,
  status: Status,
  context: LifecycleContext,
  type: LifecycleEventType,
  now: number,
): Decision {
  const value = stateValueOf(kind, status);
  if (value === undefined) throw new Error(`${kind} has no status ${status}`);
  const snapshot = lifecycleMachine.resolveState({ value, context });
  const [next, actions] = transition(lifecycleMachine, snapshot, { type, now });
  return interpretStep(next, actions, status);
}

type Table = Record<Kind, Partial<Record<Status, Record<LifecycleEventType, readonly [Decision, Decision]>>>>;

/**
 * Compiles the machine into a lookup table once, at load. The only context the machine's guards read is
 * whether the link is due (`now >= expiresAt`), so each cell holds two decisions: not due, and due.
 * A property test checks this claim against `interpret` for arbitrary contexts.
 */
function compile(): Table {
  const table = { link: {}, charge: {} } as Table;
  const now = 1_000_000;
  for (const kind of KINDS) {
    for (const status of statusesOf(kind)) {
      const row = {} as Record<LifecycleEventType, readonly [Decision, Decision]>;
      for (const type of LIFECYCLE_EVENTS) {
        const notDue = interpret(
          kind,
          status,
          { kind, expiresAt: kind === "link" ? now + 1 : null },
          type,
          now,
        );
        const due = interpret(kind, status, { kind, expiresAt: kind === "link" ? now : null }, type, now);
        row[type] = [Object.freeze(notDue), Object.freeze(due)] as const;
      }
      table[kind][status] = row;
    }
  }
  return table;
}

const TABLE = compile();

/**
 * The decision for `type` on a payment of `kind` in `status`, in O(1) from the compiled table.
 * `due` is whether `now >= expiresAt` (always false for a payment without expiry).
 * Returns `undefined` for a status that `kind` cannot be in.
 */
export function decide(
  kind: Kind,
  status: Status,
  type: LifecycleEventType,
  due: boolean,
): Decision | undefined {
  return TABLE[kind][status]?.[type][due ? 1 : 0];
}

/** True when `status` is final for `kind`: no command can move the payment out of it. */
export function isTerminal(kind: Kind, status: Status): boolean {
  return decide(kind, status, "VIEW", false)?.terminal ?? false;
}

/**
 * The statuses of `kind` that a due expiry moves to `expired`, read off the machine. Stores use it to
 * find due payments (`findDue`) without restating the rule.
 */
export function expirableStatuses(kind: Kind = "link"): readonly Status[] {
  return statusesOf(kind).filter((status) => {
    return decide(kind, status, "EXPIRE", true)!.status !== status;
  });
}

/** True when `payment`'s expiry has come at `now` (milliseconds since the epoch): `now >= expiresAt`. */
export function isDue(payment: Pick<Payment, "expiresAt">, now: number): boolean {
  return payment.expiresAt !== null && now >= Date.parse(payment.expiresAt);
}

/**
 * Whether the machine lets `event` act on `payment` at `now`, like XState's `state.can`: true when the
 * command would be accepted and change the payment. Every command first applies a due expiry (lazy
 * expiry), and so does this: a link past `expiresAt` can no longer be canceled or paid. `EXPIRE` asks
 * whether a due expiry would apply. Pages and transports ask this instead of restating a rule.
 *
 * @example
 * can(payment, "CANCEL", new Date()); // show a Cancel button?
 */
export function can(
  payment: Pick<Payment, "kind" | "status" | "expiresAt">,
  event: LifecycleEventType,
  now: Date | number,
): boolean {
  const due = isDue(payment, Number(now));
  const expiry = decide(payment.kind, payment.status, "EXPIRE", due);
  if (expiry === undefined) return false;
  if (event === "EXPIRE") return expiry.changes;
  // Defined: `expiry` is, so the kind has this status and every status EXPIRE leads to. A rejection
  // does not change anything.
  return decide(payment.kind, expiry.changes ? expiry.status : payment.status, event, due)!.changes;
}
