import assert from "node:assert/strict";
import { createPaymentLinks, KEY_LOST, type Payment } from "@paylink/core";
import { fakeClock, sampleLinkInput } from "../arbitraries.js";
import {
  claim,
  LONG_AGO,
  later,
  NEIGHBOURS,
  OTHER_MODE,
  ok,
  refused,
  SCOPE,
  START,
  type Suite,
  sampleEvent,
  samplePayment,
  unique,
} from "./kit.js";

const response = (body: string, status = 200) => ({ status, body });

/** `IdempotencyStore` and `IdempotentWrite`: what `@paylink/http` relies on for `Idempotency-Key`. */
export function idempotencyTests({ itIdempotent }: Suite): void {
  itIdempotent(
    "idempotency keys: claim once, replay the stored response, forget after retention, confined to scope",
    async (store) => {
      const key = `idem_${unique()}`;
      assert.equal(
        await store.claimIdempotencyKey(SCOPE, claim(key, "f1", START), LONG_AGO),
        undefined,
        "law: the first claim of a key is written",
      );
      assert.deepEqual(
        await store.claimIdempotencyKey(SCOPE, claim(key, "f2", START, "t2"), LONG_AGO),
        claim(key, "f1", START),
        "law: a second claim sees the first, still running, exactly as it was claimed",
      );
      await store.completeIdempotencyKey(SCOPE, key, "t1", response('{"ok":true}'));
      assert.deepEqual(
        (await store.claimIdempotencyKey(SCOPE, claim(key, "f1", later(60_000), "t3"), LONG_AGO))?.response,
        response('{"ok":true}'),
        "law: an answered key replays its response and is never taken over",
      );
      for (const scope of NEIGHBOURS) {
        assert.equal(
          await store.claimIdempotencyKey(scope, claim(key, "f9", START, "t9"), LONG_AGO),
          undefined,
          `law: keys are confined to their scope (${scope.accountId}, livemode ${scope.livemode})`,
        );
      }
      assert.equal(
        await store.claimIdempotencyKey(
          SCOPE,
          claim(key, "f3", later(1000), "t4"),
          later(1000).toISOString(),
        ),
        undefined,
        "law: a key created before expiredBefore is forgotten and claimed anew",
      );
      await store.releaseIdempotencyKey(SCOPE, key, "not-the-token");
      assert.equal(
        (await store.claimIdempotencyKey(SCOPE, claim(key, "f3", later(1000), "t5"), LONG_AGO))?.token,
        "t4",
        "law: release with another token does nothing",
      );
      await store.releaseIdempotencyKey(SCOPE, key, "t4");
      assert.equal(
        await store.claimIdempotencyKey(SCOPE, claim(key, "f4", later(1000), "t6"), LONG_AGO),
        undefined,
        "law: a key released by its holder can be claimed again",
      );
    },
  );

  itIdempotent(
    "idempotency keys: complete and release need the claim's token and leave an answered key alone",
    async (store) => {
      const key = `idem_tokens_${unique()}`;
      assert.equal(
        await store.claimIdempotencyKey(SCOPE, claim(key, "f1", START, "t1"), LONG_AGO),
        undefined,
        "law: the first claim of a key is written",
      );
      await store.completeIdempotencyKey(SCOPE, key, "t2", response("intruder"));
      assert.deepEqual(
        await store.claimIdempotencyKey(SCOPE, claim(key, "f1", START, "t3"), LONG_AGO),
        claim(key, "f1", START, "t1"),
        "law: complete with another token stores nothing",
      );
      await store.completeIdempotencyKey(SCOPE, key, "t1", response("first", 201));
      await store.completeIdempotencyKey(SCOPE, key, "t1", response("second"));
      await store.releaseIdempotencyKey(SCOPE, key, "t1");
      assert.deepEqual(
        (await store.claimIdempotencyKey(SCOPE, claim(key, "f1", later(60_000), "t4"), LONG_AGO))?.response,
        response("first", 201),
        "law: an answered key keeps its first response: a second complete and a release do nothing",
      );
      await store.completeIdempotencyKey(OTHER_MODE, key, "t1", response("elsewhere"));
      assert.equal(
        await store.claimIdempotencyKey(OTHER_MODE, claim(key, "f1", START, "t5"), LONG_AGO),
        undefined,
        "law: complete in another scope creates no key there",
      );
    },
  );

  itIdempotent(
    "idempotency keys: an unanswered claim whose lease ended is taken over by the same request only",
    async (store) => {
      const key = `idem_lease_${unique()}`;
      assert.equal(
        await store.claimIdempotencyKey(SCOPE, claim(key, "f1", START, "t1", 5000), LONG_AGO),
        undefined,
        "law: the first claim of a key is written",
      );
      assert.equal(
        (await store.claimIdempotencyKey(SCOPE, claim(key, "f1", later(4999), "t2"), LONG_AGO))?.token,
        "t1",
        "law: within its lease the holder is presumed running and keeps the key",
      );
      assert.equal(
        (await store.claimIdempotencyKey(SCOPE, claim(key, "f2", later(5000), "t3"), LONG_AGO))?.token,
        "t1",
        "law: after the lease, another request (fingerprint) still finds the key used",
      );
      assert.equal(
        await store.claimIdempotencyKey(SCOPE, claim(key, "f1", later(5000), "t4"), LONG_AGO),
        undefined,
        "law: the same request takes a lapsed claim over from the moment its lease ends",
      );
      await store.completeIdempotencyKey(SCOPE, key, "t1", response("old"));
      await store.releaseIdempotencyKey(SCOPE, key, "t1");
      assert.deepEqual(
        await store.claimIdempotencyKey(SCOPE, claim(key, "f1", later(6000), "t5"), LONG_AGO),
        claim(key, "f1", later(5000), "t4"),
        "law: the old holder can neither answer nor release a key taken over",
      );
      await store.completeIdempotencyKey(SCOPE, key, "t4", response("new", 201));
      await store.completeIdempotencyKey(SCOPE, key, "t4", response("again"));
      assert.deepEqual(
        (await store.claimIdempotencyKey(SCOPE, claim(key, "f1", later(60_000), "t6"), LONG_AGO))?.response,
        response("new", 201),
        "law: the new holder's first answer stays",
      );
    },
  );

  itIdempotent(
    "idempotency keys: a write stores the key's response atomically, and writes nothing once the claim is lost",
    async (store, probe) => {
      const key = `idem_write_${unique()}`;
      assert.equal(
        await store.claimIdempotencyKey(SCOPE, claim(key, "f1", START, "t1", 1000), LONG_AGO),
        undefined,
        "law: the first claim of a key is written",
      );
      assert.equal(
        await store.claimIdempotencyKey(SCOPE, claim(key, "f1", later(1000), "t2"), LONG_AGO),
        undefined,
        "law: the same request takes a lapsed claim over",
      );
      const lost = samplePayment();
      assert.equal(
        await store.insert(SCOPE, { payment: lost, version: 1 }, [sampleEvent(lost)], {
          key,
          token: "t1",
          response: response("lost"),
        }),
        KEY_LOST,
        "law: an insert with a claim taken over answers KEY_LOST",
      );
      assert.equal(await probe.raw(SCOPE, lost.id), undefined, "law: KEY_LOST writes no payment");
      assert.deepEqual(await probe.events(SCOPE, lost.id), [], "law: KEY_LOST writes no event");
      const created = samplePayment();
      assert.equal(
        await store.insert(SCOPE, { payment: created, version: 1 }, [sampleEvent(created)], {
          key,
          token: "t2",
          response: response("created"),
        }),
        true,
        "law: the holder's insert is written",
      );
      assert.equal(
        (await probe.raw(SCOPE, created.id))?.version,
        1,
        "law: the holder's insert persists the payment",
      );
      assert.deepEqual(
        (await store.claimIdempotencyKey(SCOPE, claim(key, "f1", later(60_000), "t3"), LONG_AGO))?.response,
        response("created"),
        "law: an insert with an IdempotentWrite stores the key's response with the payment",
      );

      const key2 = `idem_cas_${unique()}`;
      assert.equal(
        await store.claimIdempotencyKey(SCOPE, claim(key2, "f1", START, "c1"), LONG_AGO),
        undefined,
        "law: the first claim of a key is written",
      );
      const canceled = { ...created, status: "canceled" as const, canceledAt: START.toISOString() };
      const write = { key: key2, token: "c1", response: response("canceled") };
      assert.equal(
        await store.compareAndSwap(
          SCOPE,
          { payment: canceled, version: 3 },
          2,
          [sampleEvent(canceled)],
          write,
        ),
        false,
        "law: a compareAndSwap at a stale version answers false, even with a held key",
      );
      assert.equal(
        (await store.claimIdempotencyKey(SCOPE, claim(key2, "f1", START, "c2"), LONG_AGO))?.response,
        null,
        "law: a lost version race stores no response",
      );
      assert.equal(
        await store.compareAndSwap(
          SCOPE,
          { payment: canceled, version: 2 },
          1,
          [sampleEvent(canceled)],
          write,
        ),
        true,
        "law: the holder's compareAndSwap at the stored version is written",
      );
      assert.equal(
        (await probe.raw(SCOPE, created.id))?.payment.status,
        "canceled",
        "law: the holder's compareAndSwap persists the next state",
      );
      assert.deepEqual(
        (await store.claimIdempotencyKey(SCOPE, claim(key2, "f1", START, "c3"), LONG_AGO))?.response,
        response("canceled"),
        "law: a compareAndSwap with an IdempotentWrite stores the key's response with the state",
      );
      const again = { ...canceled, updatedAt: later(1).toISOString() };
      assert.equal(
        await store.compareAndSwap(SCOPE, { payment: again, version: 3 }, 2, [sampleEvent(again)], write),
        KEY_LOST,
        "law: a key that already has its response cannot be answered again (KEY_LOST)",
      );
      assert.equal(
        (await probe.raw(SCOPE, created.id))?.version,
        2,
        "law: a compareAndSwap answering KEY_LOST writes no state",
      );
    },
  );

  itIdempotent(
    "idempotency keys: a command stores its response with its write; a retry after a crash finds it",
    async (store) => {
      const links = createPaymentLinks({ store, clock: fakeClock(START) });
      const key = `idem_cmd_${unique()}`;
      assert.equal(
        await store.claimIdempotencyKey(SCOPE, claim(key, "f", START, "t1"), LONG_AGO),
        undefined,
        "law: the first claim of a key is written",
      );
      const respond = (payment: Payment) => response(JSON.stringify({ id: payment.id }));
      // The process "dies" after the command: nobody completes the key.
      const created = ok(
        await links.create(SCOPE, sampleLinkInput(START), { idempotency: { key, token: "t1", respond } }),
        "law: create with a held key succeeds",
      );
      assert.deepEqual(
        (await store.claimIdempotencyKey(SCOPE, claim(key, "f", later(60_000), "t2"), LONG_AGO))?.response,
        respond(created),
        "law: the command's response was written with the payment",
      );
      const key2 = `idem_cmd_${unique()}`;
      assert.equal(
        await store.claimIdempotencyKey(SCOPE, claim(key2, "f", START, "old", 1), LONG_AGO),
        undefined,
        "law: the first claim of a key is written",
      );
      assert.equal(
        await store.claimIdempotencyKey(SCOPE, claim(key2, "f", later(1), "new"), LONG_AGO),
        undefined,
        "law: the same request takes a lapsed claim over",
      );
      const answer = await links.cancel(SCOPE, created.id, {
        idempotency: { key: key2, token: "old", respond },
      });
      assert.equal(
        refused(answer, "law: a command whose claim was taken over is refused").code,
        "conflict",
        "law: a command whose claim was taken over answers conflict",
      );
      assert.equal(
        (await store.get(SCOPE, created.id))?.payment.status,
        "pending",
        "law: a command whose claim was taken over writes nothing",
      );
    },
  );
}
