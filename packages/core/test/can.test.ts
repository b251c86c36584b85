import { fc, test } from "@fast-check/vitest";
import { can, type LifecycleEventType } from "@paylink/core";
import { type CommandName, createInputArb, reach, send, stepsArb } from "@paylink/testing";
import { describe, expect } from "vitest";
import { SCOPE, setup } from "./helpers.js";

const EVENT_OF: Record<Exclude<CommandName, "get">, LifecycleEventType> = {
  view: "VIEW",
  startPayment: "START_PAYMENT",
  paymentFailed: "PAYMENT_FAILED",
  paymentSucceeded: "PAYMENT_SUCCEEDED",
  cancel: "CANCEL",
};

describe("can(payment, event, now)", () => {
  test.prop([
    fc.record({
      input: createInputArb({ now: new Date("2026-01-01T00:00:00.000Z") }),
      steps: stepsArb(),
      command: fc.constantFrom(...(Object.keys(EVENT_OF) as (keyof typeof EVENT_OF)[])),
      advanceMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 8 * 86_400_000 })),
    }),
  ])(
    "is true exactly when the command, after the due expiry every command applies, is accepted and writes",
    async ({ input, steps, command, advanceMs }) => {
      const { links, store, clock } = setup();
      const id = await reach(links, clock, SCOPE, input, steps);
      clock.advance(advanceMs);
      // The payment as stored, before any lazy expiry: what a page or a list shows.
      const stored = (await store.get(SCOPE, id))!.payment;
      const answer = can(stored, EVENT_OF[command], clock.now());
      // Apply the due expiry alone (a read), then the command: its own writes are what is left.
      const expiredOnly = (await links.get(SCOPE, id))._unsafeUnwrap();
      const eventsBefore = (await store.readEvents(0, 10_000)).length;
      const outcome = await send(links, SCOPE, id, command);
      const eventsAfter = (await store.readEvents(0, 10_000)).length;
      expect(answer, `${command} on ${stored.status} (read as ${expiredOnly.status})`).toBe(
        outcome.ok && eventsAfter > eventsBefore,
      );
      expect(can(stored, "EXPIRE", clock.now())).toBe(expiredOnly.status !== stored.status);
    },
  );
});
