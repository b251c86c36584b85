import { type Actor, createActor, type InspectionEvent } from "xstate";
import { lifecycleMachine, stateValueOf } from "./machine.js";
import type { Payment } from "./schemas.js";

/**
 * Starts an XState actor of the lifecycle at `payment`'s status, for development tools: attach
 * `@statelyai/inspect` (or any XState inspector) and watch what each event would do. Commands never use
 * it — they run the compiled decision table — so it cannot change a stored payment.
 *
 * @example
 * import { createBrowserInspector } from "@statelyai/inspect";
 * const actor = createLifecycleActor(payment, { inspect: createBrowserInspector().inspect });
 * actor.send({ type: "CANCEL", now: Date.now() });
 */
export function createLifecycleActor(
  payment: Pick<Payment, "kind" | "status" | "expiresAt">,
  options: { inspect?: (event: InspectionEvent) => void } = {},
): Actor<typeof lifecycleMachine> {
  const snapshot = lifecycleMachine.resolveState({
    value: stateValueOf(payment.kind, payment.status) ?? payment.kind,
    context: {
      kind: payment.kind,
      expiresAt: payment.expiresAt === null ? null : Date.parse(payment.expiresAt),
    },
  });
  const actor = createActor(
    lifecycleMachine,
    options.inspect ? { snapshot, inspect: options.inspect } : { snapshot },
  );
  actor.start();
  return actor;
}
