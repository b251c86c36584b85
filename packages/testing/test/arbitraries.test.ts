import { test } from "@fast-check/vitest";
import { CreatePaymentInputSchema, type Status } from "@paylink/core";
import { describe, expect } from "vitest";
import {
  COMMAND_NAMES,
  createInputArb,
  fakeClock,
  type ModelPayment,
  modelStep,
  stepsArb,
} from "../src/index.js";

describe("arbitraries", () => {
  test.prop([createInputArb({ now: new Date("2030-01-01T00:00:00Z") })])(
    "create inputs are valid",
    (input) => {
      const parsed = CreatePaymentInputSchema.safeParse(input);
      expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    },
  );

  test.prop([createInputArb({ kind: "charge" })])("a kind can be pinned", (input) => {
    expect(input.kind).toBe("charge");
    expect(input.expiresAt).toBeUndefined();
  });

  test.prop([stepsArb(5)])("steps are commands with non-negative clock moves", (steps) => {
    expect(steps.length).toBeLessThanOrEqual(5);
    for (const step of steps) {
      expect(COMMAND_NAMES).toContain(step.command);
      expect(step.advanceMs).toBeGreaterThanOrEqual(0);
    }
  });

  test("the fake clock moves only when told", () => {
    const clock = fakeClock(new Date("2030-01-01T00:00:00Z"));
    const t0 = clock.now().getTime();
    clock.advance(1500);
    expect(clock.now().getTime() - t0).toBe(1500);
    clock.set(new Date(0));
    expect(clock.now().getTime()).toBe(0);
  });
});

describe("the model states the DESIGN's table", () => {
  const link = (status: Status, expiresAt: number | null = null): ModelPayment => ({
    kind: "link",
    status,
    expiresAt,
    lateEvents: 0,
  });

  test("cancel column", () => {
    const answers = (
      ["pending", "viewed", "attempted", "processing", "paid", "canceled", "expired"] as const
    ).map((s) => modelStep(link(s), "cancel", 0));
    expect(answers).toEqual([
      { ok: true, changed: true },
      { ok: true, changed: true },
      { ok: true, changed: true },
      { ok: false, code: "payment_not_cancelable" },
      { ok: false, code: "payment_not_cancelable" },
      { ok: true, changed: false },
      { ok: false, code: "payment_not_cancelable" },
    ]);
    expect(modelStep({ ...link("pending"), kind: "charge" }, "cancel", 0)).toEqual({
      ok: false,
      code: "charge_not_cancelable",
    });
  });

  test("lazy expiry and late payments", () => {
    const m = link("viewed", 10);
    expect(modelStep(m, "startPayment", 10)).toEqual({ ok: false, code: "link_not_payable" });
    expect(m.status).toBe("expired");
    modelStep(m, "paymentSucceeded", 11);
    expect(m).toMatchObject({ status: "expired", lateEvents: 1 });
  });
});
