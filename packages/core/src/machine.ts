import { type AnyStateNode, type StateValue, setup } from "xstate";
import type { DomainEventName, Kind, RejectionCode, StampedField } from "./lifecycle.js";

/**
 * Context of the lifecycle machine: only what the rules read. `expiresAt` is epoch milliseconds, or
 * `null` for payments that never expire (charges).
 */
export interface LifecycleContext {
  readonly kind: Kind;
  readonly expiresAt: number | null;
}

/** An event sent to the machine; `now` (epoch milliseconds) is when the command runs. */
export type LifecycleEvent =
  | { readonly type: "VIEW"; readonly now: number }
  | { readonly type: "START_PAYMENT"; readonly now: number }
  | { readonly type: "PAYMENT_FAILED"; readonly now: number }
  | { readonly type: "PAYMENT_SUCCEEDED"; readonly now: number }
  | { readonly type: "CANCEL"; readonly now: number }
  | { readonly type: "EXPIRE"; readonly now: number };

/** Parameters of the `stamp` action: which timestamp to set, and whether to use `now` or `expiresAt`. */
export interface StampParams {
  readonly field: StampedField;
  readonly at: "now" | "expiresAt";
}

const stamp = (field: StampedField, at: StampParams["at"] = "now") =>
  ({ type: "stamp", params: { field, at } }) as const;
const emit = (event: DomainEventName) => ({ type: "emit", params: { event } }) as const;
const reject = (code: RejectionCode) => ({ type: "reject", params: { code } }) as const;

/**
 * The payment lifecycle ({@link LifecycleMachine} is its type): the single definition of every rule.
 * Commands never interpret it on the hot path; they use a decision table compiled from it at load
 * (`decision.ts`), and a property test proves the two equal. Docs and diagrams are generated from it.
 *
 * Conventions the compiler relies on:
 * - a transition with a `target` moves the payment; one without changes nothing but may `emit`;
 * - `reject` answers the command with an error and nothing is written;
 * - an event a state does not handle is a no-op (nothing written, the caller gets the payment back);
 * - `stamp` sets a timestamp only if it is still null;
 * - the `terminal` tag marks statuses no command can leave.
 */
export const lifecycleMachine = setup({
  types: {
    context: {} as LifecycleContext,
    events: {} as LifecycleEvent,
  },
  guards: {
    /** The link's `expiresAt` has passed (charges never expire). */
    isDue: ({ context, event }) => context.expiresAt !== null && event.now >= context.expiresAt,
  },
  actions: {
    // The commands apply these; the machine only names them so that the decision can be read off it.
    stamp: (_, _params: StampParams) => {},
    emit: (_, _params: { event: DomainEventName }) => {},
    reject: (_, _params: { code: RejectionCode }) => {},
  },
}).createMachine({
  id: "payment",
  // A plain object, not a factory reading `input`: `transition()` builds an actor without input.
  context: { kind: "link", expiresAt: null },
  initial: "link",
  states: {
    link: {
      description: "A hosted payment link sent to a customer.",
      initial: "open",
      on: {
        // Handled by every link status unless the status overrides it.
        START_PAYMENT: { actions: reject("link_not_payable") },
        CANCEL: { actions: reject("payment_not_cancelable") },
      },
      states: {
        open: {
          description: "Payable and cancelable: nothing is in flight and nothing is final.",
          initial: "pending",
          on: {
            START_PAYMENT: { target: "processing", actions: [stamp("attemptedAt"), emit("payment_started")] },
            // A success whose start was never reported is still money received: never dropped.
            PAYMENT_SUCCEEDED: {
              target: "paid",
              actions: [stamp("attemptedAt"), stamp("paidAt"), emit("paid")],
            },
            CANCEL: { target: "canceled", actions: [stamp("canceledAt"), emit("canceled")] },
            EXPIRE: {
              guard: "isDue",
              target: "expired",
              actions: [stamp("expiredAt", "expiresAt"), emit("expired")],
            },
          },
          states: {
            pending: {
              description: "Created, not opened yet.",
              on: { VIEW: { target: "viewed", actions: [stamp("viewedAt"), emit("viewed")] } },
            },
            viewed: { description: "The customer opened the link." },
            attempted: { description: "A payment attempt failed or was abandoned; still payable." },
          },
        },
        processing: {
          description: "A payment is in flight; it expires only after its outcome.",
          on: {
            PAYMENT_FAILED: [
              {
                guard: "isDue",
                target: "expired",
                actions: [stamp("expiredAt"), emit("payment_failed"), emit("expired")],
              },
              { target: "open.attempted", actions: emit("payment_failed") },
            ],
            PAYMENT_SUCCEEDED: { target: "paid", actions: [stamp("paidAt"), emit("paid")] },
          },
        },
        paid: {
          description: "Paid. Final.",
          tags: ["terminal"],
        },
        canceled: {
          description: "Canceled. Final; a second cancel is a no-op.",
          tags: ["terminal"],
          on: {
            CANCEL: {},
            // A payment that lands after the cancel is never dropped: the merchant must refund it.
            PAYMENT_SUCCEEDED: { actions: emit("late_payment") },
          },
        },
        expired: {
          description: "Expired. Final.",
          tags: ["terminal"],
          on: {
            PAYMENT_SUCCEEDED: { actions: emit("late_payment") },
          },
        },
      },
    },
    charge: {
      description: "A direct charge: never viewed, never expires, never cancelable.",
      initial: "pending",
      on: {
        START_PAYMENT: { actions: reject("link_not_payable") },
        CANCEL: { actions: reject("charge_not_cancelable") },
      },
      states: {
        pending: {
          on: {
            START_PAYMENT: { target: "processing", actions: [stamp("attemptedAt"), emit("payment_started")] },
            PAYMENT_SUCCEEDED: {
              target: "paid",
              actions: [stamp("attemptedAt"), stamp("paidAt"), emit("paid")],
            },
          },
        },
        processing: {
          on: {
            PAYMENT_FAILED: { target: "failed", actions: emit("failed") },
            PAYMENT_SUCCEEDED: { target: "paid", actions: [stamp("paidAt"), emit("paid")] },
          },
        },
        paid: { description: "Paid. Final.", tags: ["terminal"] },
        failed: {
          description: "Failed. Final.",
          tags: ["terminal"],
          on: { PAYMENT_SUCCEEDED: { actions: emit("late_payment") } },
        },
      },
    },
  },
});
export type LifecycleMachine = typeof lifecycleMachine;

/** The state value of a payment of `kind` in `status`, e.g. `{ link: { open: "viewed" } }`, read off the machine. */
export function stateValueOf(kind: Kind, status: string): StateValue | undefined {
  const find = (node: AnyStateNode): StateValue | undefined => {
    for (const [key, child] of Object.entries(node.states)) {
      if (key === status && Object.keys(child.states).length === 0) return key;
      const inner = find(child);
      if (inner !== undefined) return { [key]: inner };
    }
    return undefined;
  };
  const root = lifecycleMachine.root.states[kind];
  const inner = root === undefined ? undefined : find(root);
  return inner === undefined ? undefined : { [kind]: inner };
}

/** The status (the leaf state's name) of a state value, e.g. `viewed` for `{ link: { open: "viewed" } }`. */
export function statusOfValue(value: StateValue): string {
  let current: StateValue = value;
  while (typeof current !== "string") current = Object.values(current)[0] as StateValue;
  return current;
}
