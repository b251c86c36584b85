import { test } from "@fast-check/vitest";
import { createPaymentLinks, eventPrefix } from "@paylink/core";
import { createMemoryStore } from "@paylink/store-memory";
import { describe, expect } from "vitest";
import {
  createInputArb,
  fakeClock,
  type ModelPayment,
  modelStep,
  reach,
  reachPayment,
  stepsArb,
} from "../src/index.js";

const START = new Date("2030-01-01T00:00:00Z");
const scope = { accountId: "acct_reach", livemode: false };

describe("reachPayment", () => {
  test.prop([createInputArb({ now: START }), stepsArb(12)], { numRuns: 60 })(
    "returns the payment as get reads it and exactly its events: created first, chained, the last one carrying the payment",
    async (input, steps) => {
      const store = createMemoryStore();
      const clock = fakeClock(START);
      const links = createPaymentLinks({ store, clock });
      // Another payment in the same store, on a clock of its own: its events must not show up.
      const decoyClock = fakeClock(START);
      await reach(
        createPaymentLinks({ store, clock: decoyClock }),
        decoyClock,
        scope,
        input,
        steps.slice(0, 2),
      );
      const { id, payment, events } = await reachPayment({ links, store, clock }, scope, input, steps);

      expect((await links.get(scope, id))._unsafeUnwrap()).toEqual(payment);
      const prefix = eventPrefix(payment.kind);
      expect(events[0]?.type).toBe(`${prefix}.created`);
      for (const event of events) {
        expect(event).toMatchObject({ paymentId: id, accountId: scope.accountId, livemode: scope.livemode });
        expect(event.type.startsWith(`${prefix}.`)).toBe(true);
      }
      for (let i = 1; i < events.length; i++) {
        const [before, event] = [events[i - 1]!, events[i]!];
        // The events of one write (payment_failed then expired) share the write's previous status.
        const sameWrite =
          event.occurredAt === before.occurredAt && event.previousStatus === before.previousStatus;
        if (!sameWrite)
          expect(event.previousStatus, "each write starts where the one before left").toBe(
            before.payment.status,
          );
      }
      expect(events.at(-1)?.payment).toEqual(payment);
    },
  );

  test.prop([createInputArb({ now: START }), stepsArb(12)], { numRuns: 60 })(
    "its late_payment events are the model's late payments",
    async (input, steps) => {
      const store = createMemoryStore();
      const clock = fakeClock(START);
      const links = createPaymentLinks({ store, clock });
      const { payment, events } = await reachPayment({ links, store, clock }, scope, input, steps);
      const model: ModelPayment = {
        kind: payment.kind,
        status: "pending",
        expiresAt: payment.expiresAt === null ? null : Date.parse(payment.expiresAt),
        lateEvents: 0,
      };
      let now = START.getTime();
      for (const step of steps) {
        now += step.advanceMs;
        modelStep(model, step.command, now);
      }
      modelStep(model, "get", now);
      expect(payment.status).toBe(model.status);
      expect(events.filter((e) => e.type.endsWith(".late_payment"))).toHaveLength(model.lateEvents);
    },
  );
});
