import assert from "node:assert/strict";
import { createPaymentLinks } from "@paylink/core";
import { fakeClock, sampleLinkInput } from "../arbitraries.js";
import { send } from "../reach.js";
import {
  claim,
  insertSample,
  LONG_AGO,
  later,
  ok,
  SCOPE,
  START,
  type Suite,
  sampleEvent,
  unique,
} from "./kit.js";

/** Races: many writers at once on one payment or one key, where exactly one may win. */
export function concurrencyTests({ it, itIdempotent, concurrency }: Suite): void {
  it(`races: ${concurrency} concurrent swaps on one version — exactly one wins`, async (store, probe) => {
    const { payment, event } = await insertSample(store);
    const attempts = Array.from({ length: concurrency }, (_, i) => {
      const next = { ...payment, description: `writer ${i}` };
      const viewed = sampleEvent(next, "payment_link.viewed");
      return { viewed, write: store.compareAndSwap(SCOPE, { payment: next, version: 2 }, 1, [viewed]) };
    });
    const results = await Promise.all(attempts.map((attempt) => attempt.write));
    assert.equal(
      results.filter((result) => result === true).length,
      1,
      `law: exactly one of ${concurrency} swaps at one version wins (answers: ${results.join(", ")})`,
    );
    const winner = results.indexOf(true);
    assert.equal(
      (await probe.raw(SCOPE, payment.id))?.payment.description,
      `writer ${winner}`,
      "law: the persisted state is the winner's",
    );
    assert.deepEqual(
      await probe.events(SCOPE, payment.id),
      [event, attempts[winner]!.viewed],
      "law: only the winner's event is written",
    );
  });

  it(`laws through the store: ${concurrency} racing cancels and payment starts — one winner, at most one changed`, async (store) => {
    const links = createPaymentLinks({ store, clock: fakeClock(START), maxRetries: concurrency + 2 });
    const link = ok(await links.create(SCOPE, sampleLinkInput(START)), "law: a valid link is created");
    const results = await Promise.all(
      Array.from({ length: concurrency }, (_, i) =>
        send(links, SCOPE, link.id, i % 2 === 0 ? "cancel" : "startPayment"),
      ),
    );
    const cancelsChanged = results.filter((r) => r.ok && r.changed === true).length;
    const startsWon = results.filter((r, i) => i % 2 === 1 && r.ok).length;
    assert.equal(cancelsChanged + startsWon, 1, "law: exactly one of the racers moves the link");
    const final = ok(await links.get(SCOPE, link.id), "law: the raced link can be read");
    assert.equal(
      final.status,
      cancelsChanged === 1 ? "canceled" : "processing",
      "law: the link ends where the one winner moved it",
    );
    for (const r of results) {
      if (!r.ok)
        assert.ok(
          ["payment_not_cancelable", "link_not_payable"].includes(r.error.code),
          `law: a racer that lost is refused by the lifecycle, not by the store (got ${r.error.code})`,
        );
    }
  });

  itIdempotent(
    `idempotency keys: ${concurrency} concurrent claims of one key — exactly one wins`,
    async (store) => {
      const key = `idem_race_${unique()}`;
      const claims = await Promise.all(
        Array.from({ length: concurrency }, (_, i) =>
          store.claimIdempotencyKey(SCOPE, claim(key, `f${i}`, START, `t${i}`), LONG_AGO),
        ),
      );
      assert.equal(
        claims.filter((c) => c === undefined).length,
        1,
        `law: exactly one of ${concurrency} concurrent claims of a key is written`,
      );
    },
  );

  itIdempotent(
    `idempotency keys: ${concurrency} concurrent takeovers of one expired claim — exactly one wins`,
    async (store) => {
      const key = `idem_takeover_${unique()}`;
      assert.equal(
        await store.claimIdempotencyKey(SCOPE, claim(key, "f", START, "dead", 1000), LONG_AGO),
        undefined,
        "law: the first claim of a key is written",
      );
      const claims = await Promise.all(
        Array.from({ length: concurrency }, (_, i) =>
          store.claimIdempotencyKey(SCOPE, claim(key, "f", later(2000), `t${i}`), LONG_AGO),
        ),
      );
      assert.equal(
        claims.filter((c) => c === undefined).length,
        1,
        `law: exactly one of ${concurrency} concurrent takeovers of a lapsed claim is written`,
      );
    },
  );
}
