import assert from "node:assert/strict";
import { createPaymentLinks, type Scope } from "@paylink/core";
import fc from "fast-check";
import { fakeClock, malformedTextInputArb, sampleLinkInput } from "../arbitraries.js";
import { insertSample, ok, refused, SCOPE, START, type Suite, unique } from "./kit.js";

/** Text: what looks like SQL or markup is data, astral text is kept exactly, malformed text never arrives. */
export function textTests({ it, numRuns }: Suite): void {
  it("round trip: text that looks like SQL or markup is stored as text", async (store, probe) => {
    const id = `pay_'; DROP TABLE payments; --${unique()}`;
    const metadata = { "key'--": "'); DELETE FROM payments; --", html: "<script>alert(1)</script>", n: 1.5 };
    const { payment } = await insertSample(store, { id, metadata, description: "Robert'); DROP TABLE x;--" });
    assert.deepEqual(
      (await probe.raw(SCOPE, id))?.payment,
      payment,
      "law: SQL-looking text is persisted as it was given",
    );
    assert.deepEqual(
      (await store.get(SCOPE, id))?.payment,
      payment,
      "law: SQL-looking text reads back as it was given",
    );
  });

  // A lone UTF-16 surrogate has no UTF-8 encoding: PostgreSQL's jsonb refuses it (a 503 on every retry)
  // while other stores keep it. Core must refuse it up front, the same on every store; astral text is fine.
  it("text: create refuses text that is not well-formed Unicode, writes nothing, and keeps astral text exactly", async (store, probe) => {
    const scope: Scope = { accountId: "acct_conformance_text", livemode: false };
    await fc.assert(
      fc.asyncProperty(malformedTextInputArb({ now: START }), async ({ input, path }) => {
        const id = `pay_malformed_${process.pid}_${unique()}`;
        const links = createPaymentLinks({
          store,
          clock: fakeClock(START),
          ids: { paymentId: () => id, eventId: () => `evt_${id}` },
        });
        const error = refused(await links.create(scope, input), "law: create refuses malformed text");
        assert.equal(error.code, "invalid_request", "law: malformed text is an invalid_request");
        if (error.code === "invalid_request")
          assert.ok(
            error.issues.some((issue) => issue.path === path),
            `law: the refusal names the malformed field ${path}`,
          );
        assert.equal(await probe.raw(scope, id), undefined, "law: a refused create writes no payment");
        assert.deepEqual(await probe.events(scope, id), [], "law: a refused create writes no event");
      }),
      { numRuns },
    );
    assert.deepEqual(
      await store.list(scope, { limit: 10 }),
      [],
      "law: refused creates leave nothing in the scope",
    );
    const links = createPaymentLinks({ store, clock: fakeClock(START) });
    const astral = ok(
      await links.create(scope, {
        ...sampleLinkInput(START),
        customerId: "cus_😀",
        description: "Flat white ☕ for 👩🏽‍💻 𝄞 𠀋 🇬🇧 é",
        metadata: { "🎫": "💳 paid by card", pair: "\ud83d\ude00" },
      }),
      "law: well-formed astral text is accepted",
    );
    assert.deepEqual(
      (await probe.raw(scope, astral.id))?.payment,
      astral,
      "law: astral text is persisted exactly",
    );
    assert.deepEqual(
      ok(await links.get(scope, astral.id), "law: the payment with astral text can be read"),
      astral,
      "law: astral text reads back exactly",
    );
  });
}
