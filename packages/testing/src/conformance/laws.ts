import assert from "node:assert/strict";
import { createPaymentLinks } from "@paylink/core";
import fc from "fast-check";
import { createInputArb, fakeClock, sampleLinkInput, stepsArb } from "../arbitraries.js";
import { type ModelPayment, modelStep } from "../model.js";
import { send } from "../reach.js";
import { ok, refused, SCOPE, START, type Suite } from "./kit.js";

/** The lifecycle laws run through the store, against the hand-written model. */
export function lawTests({ it, numRuns }: Suite): void {
  it("laws through the store: cancel twice changes once; charges refuse cancel and write nothing", async (store, probe) => {
    const links = createPaymentLinks({ store, clock: fakeClock(START) });
    const link = ok(await links.create(SCOPE, sampleLinkInput(START)), "law: a valid link is created");
    const first = ok(await links.cancel(SCOPE, link.id), "law: a pending link can be canceled");
    const eventsAfterFirst = await probe.events(SCOPE, link.id);
    const second = ok(await links.cancel(SCOPE, link.id), "law: canceling a canceled link succeeds");
    assert.equal(first.changed, true, "law: the first cancel changes the link");
    assert.equal(second.changed, false, "law: a second cancel changes nothing");
    assert.deepEqual(second.payment, first.payment, "law: a second cancel answers the payment unchanged");
    assert.deepEqual(
      await probe.events(SCOPE, link.id),
      eventsAfterFirst,
      "law: a second cancel writes no event",
    );
    assert.deepEqual(
      eventsAfterFirst.map((e) => e.type),
      ["payment_link.created", "payment_link.canceled"],
      "law: create and cancel each write one event, in order",
    );

    const charge = ok(
      await links.create(SCOPE, {
        kind: "charge",
        customerId: "cus_1",
        provider: "stripe",
        amountSubtotal: 5,
        currency: "JPY",
      }),
      "law: a valid charge is created",
    );
    const before = await probe.raw(SCOPE, charge.id);
    assert.equal(
      refused(await links.cancel(SCOPE, charge.id), "law: a charge cannot be canceled").code,
      "charge_not_cancelable",
      "law: canceling a charge answers charge_not_cancelable",
    );
    assert.deepEqual(await probe.raw(SCOPE, charge.id), before, "law: a refused cancel writes no state");
    assert.deepEqual(
      (await probe.events(SCOPE, charge.id)).map((e) => e.type),
      ["charge.created"],
      "law: a refused cancel writes no event",
    );
  });

  it("laws through the store: random command sequences agree with the model at every step", async (store, probe) => {
    await fc.assert(
      fc.asyncProperty(createInputArb({ now: START }), stepsArb(10), async (input, steps) => {
        const clock = fakeClock(START);
        const links = createPaymentLinks({ store, clock });
        const created = ok(await links.create(SCOPE, input), "law: a valid input is created");
        const model: ModelPayment = {
          kind: created.kind,
          status: "pending",
          expiresAt: created.expiresAt === null ? null : Date.parse(created.expiresAt),
          lateEvents: 0,
        };
        for (const step of steps) {
          clock.advance(step.advanceMs);
          const expected = modelStep(model, step.command, clock.now().getTime());
          const actual = await send(links, SCOPE, created.id, step.command);
          if (expected.ok) {
            assert.ok(
              actual.ok,
              `law: ${step.command} on a ${created.kind} succeeds as the model says (got ${actual.ok ? "" : actual.error.code})`,
            );
            assert.equal(
              actual.payment.status,
              model.status,
              `law: ${step.command} leaves the model's status`,
            );
            if (expected.changed !== undefined)
              assert.equal(
                actual.changed,
                expected.changed,
                `law: ${step.command} changes as the model says`,
              );
          } else {
            assert.equal(
              actual.ok ? "ok" : actual.error.code,
              expected.code,
              `law: ${step.command} on a ${created.kind} is refused as the model says`,
            );
          }
          assert.equal(
            (await probe.raw(SCOPE, created.id))?.payment.status,
            model.status,
            `law: after ${step.command} the persisted status is the model's`,
          );
        }
        const late = (await probe.events(SCOPE, created.id)).filter((e) => e.type.endsWith(".late_payment"));
        assert.equal(late.length, model.lateEvents, "law: each late payment writes one late_payment event");
      }),
      { numRuns },
    );
  });
}
