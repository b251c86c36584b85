import { errors } from "@paylink/core";
import { describe, expect, test } from "vitest";
import { linkInput, SCOPE, setup } from "./helpers.js";

describe("error messages", () => {
  test("invalid_request lists each issue, prefixed by its path when it has one", () => {
    const error = errors.invalidRequest([
      { path: "amountSubtotal", message: "must be positive" },
      { path: "", message: "unrecognized key: color" },
    ]);
    expect(error.message).toBe("amountSubtotal: must be positive; unrecognized key: color");
  });

  test("every error says in words what happened", () => {
    for (const error of [
      errors.notFound("pay_1"),
      errors.chargeNotCancelable("pay_1"),
      errors.conflict("pay_1"),
      errors.storeUnavailable(new Error("ECONNREFUSED")),
    ]) {
      expect(error.message, error.code).toMatch(/^[A-Z].{10,}\.$/);
    }
  });

  test("a refusal names the status that refused it; a payment in flight says so", () => {
    expect(errors.paymentNotCancelable("pay_1", "paid").message).toContain("paid");
    expect(errors.paymentNotCancelable("pay_1", "expired").message).toContain("expired");
    expect(errors.linkNotPayable("pay_1", "canceled").message).toContain("canceled");
    expect(errors.linkNotPayable("pay_1", "canceled").message).not.toContain("in flight");
    expect(errors.linkNotPayable("pay_1", "processing").message).toContain("in flight");
  });

  test("the store's own error is kept as the cause, never in the message", () => {
    const cause = new Error("ECONNREFUSED 10.0.0.7:5432");
    const error = errors.storeUnavailable(cause);
    expect(error.cause).toBe(cause);
    expect(error.message).not.toContain("ECONNREFUSED");
  });

  test("a command's refusal carries the message of its code", async () => {
    const { links, clock } = setup();
    const p = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    await links.startPayment(SCOPE, p.id);
    expect((await links.startPayment(SCOPE, p.id))._unsafeUnwrapErr().message).toBe(
      errors.linkNotPayable(p.id, "processing").message,
    );
    expect((await links.cancel(SCOPE, p.id))._unsafeUnwrapErr().message).toBe(
      errors.paymentNotCancelable(p.id, "processing").message,
    );
  });
});
