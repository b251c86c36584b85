import {
  createPaymentLinks,
  type IdempotentWrite,
  KEY_LOST,
  type Payment,
  type PaymentStore,
} from "@paylink/core";
import { createMemoryStore } from "@paylink/store-memory";
import { fakeClock } from "@paylink/testing";
import { describe, expect, test } from "vitest";
import { linkInput, SCOPE, setup } from "./helpers.js";

const HOUR = 3_600_000;

/** A memory store with some methods replaced; the rest are the memory store's own. */
function storeWith(overrides: (inner: ReturnType<typeof createMemoryStore>) => Partial<PaymentStore>) {
  const inner = createMemoryStore();
  return { inner, store: { ...inner, ...overrides(inner) } as PaymentStore };
}

describe("writes", () => {
  test("every write replaces the version it read with the next one", async () => {
    const swaps: Array<[number, number]> = [];
    const { store } = storeWith((inner) => ({
      compareAndSwap: (scope, next, expected, events, idempotency) => {
        swaps.push([next.version, expected]);
        return inner.compareAndSwap(scope, next, expected, events, idempotency);
      },
    }));
    const links = createPaymentLinks({ store, clock: fakeClock() });
    const { id } = (
      await links.create(SCOPE, linkInput(new Date("2026-01-01T00:00:00.000Z")))
    )._unsafeUnwrap();
    await links.view(SCOPE, id);
    await links.startPayment(SCOPE, id);
    expect(swaps).toEqual([
      [2, 1],
      [3, 2],
    ]);
    expect((await store.get(SCOPE, id))?.version).toBe(3);
  });

  test("a late payment records its event and leaves the payment as it was, updatedAt included", async () => {
    const { links, clock } = setup();
    const p = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    const canceled = (await links.cancel(SCOPE, p.id))._unsafeUnwrap().payment;
    clock.advance(60_000);
    expect((await links.paymentSucceeded(SCOPE, p.id))._unsafeUnwrap()).toEqual(canceled);
    expect((await links.get(SCOPE, p.id))._unsafeUnwrap()).toEqual(canceled);
  });

  test("urlFor is given the payment as created, before it has a url", async () => {
    const seen: Payment[] = [];
    const links = createPaymentLinks({
      store: createMemoryStore(),
      urlFor: (payment) => {
        seen.push(payment);
        return `https://pay.example/${payment.id}`;
      },
    });
    const created = (await links.create(SCOPE, linkInput(new Date())))._unsafeUnwrap();
    expect(seen).toEqual([{ ...created, url: "" }]);
  });

  test("a payment with a status its kind cannot have is store_unavailable, naming the status", async () => {
    const { links, clock, store } = setup();
    const { id } = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    const record = (await store.get(SCOPE, id))!;
    const corrupt: PaymentStore = {
      ...store,
      get: async () => ({ ...record, payment: { ...record.payment, status: "failed" } }),
    };
    const result = await createPaymentLinks({ store: corrupt, clock }).cancel(SCOPE, id);
    const error = result._unsafeUnwrapErr();
    expect(error.code).toBe("store_unavailable");
    if (error.code === "store_unavailable") expect(String(error.cause)).toContain("unknown status failed");
  });
});

describe("ids the store is never asked about", () => {
  test("an empty id or one over 255 characters is not_found without a read", async () => {
    const { store } = setup();
    const reads: string[] = [];
    const watched: PaymentStore = {
      ...store,
      get: (scope, id) => {
        reads.push(id);
        return store.get(scope, id);
      },
    };
    const commands = createPaymentLinks({ store: watched, clock: fakeClock() });
    for (const id of ["", "x".repeat(256)]) {
      expect((await commands.get(SCOPE, id))._unsafeUnwrapErr().code).toBe("not_found");
    }
    expect(reads).toEqual([]);
    expect((await commands.get(SCOPE, "x".repeat(255)))._unsafeUnwrapErr().code).toBe("not_found");
    expect(reads).toEqual(["x".repeat(255)]);
  });
});

describe("idempotency keys are written with the command's own write", () => {
  type Call = { method: string; idempotency: IdempotentWrite | undefined };

  /** A store that records the `idempotency` of each write and writes it without (no key is claimed). */
  function recording() {
    const calls: Call[] = [];
    const { store } = storeWith((inner) => ({
      insert: (scope, record, events, idempotency) => {
        calls.push({ method: "insert", idempotency });
        return inner.insert(scope, record, events);
      },
      compareAndSwap: (scope, next, expected, events, idempotency) => {
        calls.push({ method: "compareAndSwap", idempotency });
        return inner.compareAndSwap(scope, next, expected, events);
      },
    }));
    return { calls, store };
  }
  const key = (responded: Payment[]) => ({
    idempotency: {
      key: "key_1",
      token: "token_1",
      respond: (payment: Payment) => {
        responded.push(payment);
        return { status: 200, body: JSON.stringify({ id: payment.id, status: payment.status }) };
      },
    },
  });

  test("create and a command that writes store the response made from the payment as written", async () => {
    const { calls, store } = recording();
    const clock = fakeClock();
    const links = createPaymentLinks({ store, clock });
    const responded: Payment[] = [];
    const created = (await links.create(SCOPE, linkInput(clock.now()), key(responded)))._unsafeUnwrap();
    const canceled = (await links.cancel(SCOPE, created.id, key(responded)))._unsafeUnwrap().payment;
    expect(responded).toEqual([created, canceled]);
    expect(calls).toEqual([
      {
        method: "insert",
        idempotency: {
          key: "key_1",
          token: "token_1",
          response: { status: 200, body: `{"id":"${created.id}","status":"pending"}` },
        },
      },
      {
        method: "compareAndSwap",
        idempotency: {
          key: "key_1",
          token: "token_1",
          response: { status: 200, body: `{"id":"${created.id}","status":"canceled"}` },
        },
      },
    ]);
  });

  test("a refused command writes its due expiry without the key; the refusal is the transport's to store", async () => {
    const { calls, store } = recording();
    const clock = fakeClock();
    const links = createPaymentLinks({ store, clock });
    const { id } = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    clock.advance(2 * HOUR);
    const responded: Payment[] = [];
    expect((await links.cancel(SCOPE, id, key(responded)))._unsafeUnwrapErr().code).toBe(
      "payment_not_cancelable",
    );
    expect(responded).toEqual([]);
    expect(calls.at(-1)).toEqual({ method: "compareAndSwap", idempotency: undefined });
    expect((await links.get(SCOPE, id))._unsafeUnwrap().status).toBe("expired");
  });

  test("commands without a key write without one", async () => {
    const { calls, store } = recording();
    const clock = fakeClock();
    const links = createPaymentLinks({ store, clock });
    const { id } = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    await links.view(SCOPE, id);
    expect(calls).toEqual([
      { method: "insert", idempotency: undefined },
      { method: "compareAndSwap", idempotency: undefined },
    ]);
  });

  test("a write whose key was taken over writes nothing and answers conflict, saying why", async () => {
    const clock = fakeClock();
    const { store, inner } = storeWith(() => ({
      insert: async () => KEY_LOST,
      compareAndSwap: async () => KEY_LOST,
    }));
    const links = createPaymentLinks({ store, clock });
    const created = await links.create(SCOPE, linkInput(clock.now()), key([]));
    expect(created._unsafeUnwrapErr()).toMatchObject({ code: "conflict", id: "(new payment)" });
    expect(created._unsafeUnwrapErr().message).toContain("Idempotency-Key was taken over");

    const { id } = (
      await createPaymentLinks({ store: inner, clock }).create(SCOPE, linkInput(clock.now()))
    )._unsafeUnwrap();
    const canceled = await links.cancel(SCOPE, id, key([]));
    expect(canceled._unsafeUnwrapErr()).toMatchObject({ code: "conflict", id });
    expect(canceled._unsafeUnwrapErr().message).toContain("Idempotency-Key was taken over");
    expect((await inner.get(SCOPE, id))?.payment.status).toBe("pending");
  });
});

describe("create's id retries", () => {
  test("ids that keep colliding end in conflict after maxRetries + 1 inserts", async () => {
    let inserts = 0;
    const { store } = storeWith(() => ({
      insert: async () => {
        inserts++;
        return false;
      },
    }));
    const links = createPaymentLinks({ store, clock: fakeClock(), maxRetries: 2 });
    const result = await links.create(SCOPE, linkInput(new Date("2026-01-01T00:00:00.000Z")));
    expect(result._unsafeUnwrapErr()).toMatchObject({ code: "conflict", id: "(new payment id)" });
    expect(inserts).toBe(3);
  });
});

describe("expireDue", () => {
  test("runs at most 256 commands at once", async () => {
    let inFlight = 0;
    let most = 0;
    const { store } = storeWith((inner) => ({
      get: async (scope, id) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        return inner.get(scope, id);
      },
    }));
    const clock = fakeClock();
    const links = createPaymentLinks({ store, clock });
    for (let i = 0; i < 300; i++) await links.create(SCOPE, linkInput(clock.now()));
    clock.advance(2 * HOUR);
    expect((await links.expireDue(1000))._unsafeUnwrap()).toBe(300);
    expect(most).toBe(256);
  });

  test("counts only the links it expired: a vanished payment or one no longer due is skipped", async () => {
    const { links, store, clock } = setup();
    const due = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    const canceled = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    const expired = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    await links.cancel(SCOPE, canceled.id);
    clock.advance(2 * HOUR);
    await links.get(SCOPE, expired.id);
    // A stale sweep: the store still lists payments that another command already settled, or deleted.
    const stale: PaymentStore = {
      ...store,
      findDue: async () =>
        [due, canceled, expired, { id: "pay_vanished" }].map((p) => ({ scope: SCOPE, id: p.id })),
    };
    const sweep = createPaymentLinks({ store: stale, clock });
    expect((await sweep.expireDue())._unsafeUnwrap()).toBe(1);
  });

  test("a command of the sweep that fails makes the sweep fail with it", async () => {
    const clock = fakeClock();
    const failure = new Error("disk on fire");
    const { inner: healthy } = storeWith(() => ({}));
    const seed = createPaymentLinks({ store: healthy, clock });
    await seed.create(SCOPE, linkInput(clock.now()));
    clock.advance(2 * HOUR);

    const throwing = createPaymentLinks({
      store: {
        ...healthy,
        compareAndSwap: async () => {
          throw failure;
        },
      },
      clock,
    });
    const thrown = (await throwing.expireDue())._unsafeUnwrapErr();
    expect(thrown.code).toBe("store_unavailable");
    if (thrown.code === "store_unavailable") expect(thrown.cause).toBe(failure);

    const losing = createPaymentLinks({ store: { ...healthy, compareAndSwap: async () => false }, clock });
    expect((await losing.expireDue())._unsafeUnwrapErr().code).toBe("conflict");
  });
});

describe("list", () => {
  test("asks the store for one page, with a cursor only when given one", async () => {
    const pages: unknown[] = [];
    const { store } = storeWith((inner) => ({
      list: (scope, options) => {
        pages.push(options);
        return inner.list(scope, options);
      },
    }));
    const links = createPaymentLinks({ store, clock: fakeClock() });
    await links.list(SCOPE);
    await links.list(SCOPE, { limit: 3, startingAfter: "pay_1" });
    expect(pages[0]).toStrictEqual({ limit: 20 });
    expect(pages[1]).toStrictEqual({ limit: 3, startingAfter: "pay_1" });
  });

  test("reads a payment again only to apply its due expiry", async () => {
    const reads: string[] = [];
    const { store } = storeWith((inner) => ({
      get: (scope, id) => {
        reads.push(id);
        return inner.get(scope, id);
      },
    }));
    const clock = fakeClock();
    const links = createPaymentLinks({ store, clock });
    const due = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    clock.advance(1);
    const later = (
      await links.create(
        SCOPE,
        linkInput(clock.now(), { expiresAt: new Date(clock.now().getTime() + 3 * HOUR) }),
      )
    )._unsafeUnwrap();
    expect((await links.list(SCOPE))._unsafeUnwrap().map((p) => p.status)).toEqual(["pending", "pending"]);
    expect(reads).toEqual([]);
    clock.advance(2 * HOUR);
    const page = (await links.list(SCOPE))._unsafeUnwrap();
    expect(page.map((p) => [p.id, p.status])).toEqual([
      [later.id, "pending"],
      [due.id, "expired"],
    ]);
    expect(reads).toEqual([due.id]);
  });

  test("answers the error of a due payment's expiry when it cannot be written", async () => {
    const clock = fakeClock();
    const { store, inner } = storeWith(() => ({ compareAndSwap: async () => false }));
    await createPaymentLinks({ store: inner, clock }).create(SCOPE, linkInput(clock.now()));
    clock.advance(2 * HOUR);
    const links = createPaymentLinks({ store, clock, maxRetries: 1 });
    expect((await links.list(SCOPE))._unsafeUnwrapErr().code).toBe("conflict");
  });
});
