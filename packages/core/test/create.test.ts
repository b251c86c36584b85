import { test } from "@fast-check/vitest";
import { createPaymentLinks, type PaymentStore } from "@paylink/core";
import { createMemoryStore } from "@paylink/store-memory";
import { createInputArb, fakeClock } from "@paylink/testing";
import { describe, expect } from "vitest";
import { linkInput, SCOPE, setup } from "./helpers.js";

describe("create", () => {
  test("a link starts pending with the seed's fields, a computed total and a pay_ id", async () => {
    const { links, clock } = setup();
    const payment = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    expect(payment.id).toMatch(/^pay_[A-Za-z0-9_-]{24}$/);
    expect(payment).toMatchObject({
      kind: "link",
      status: "pending",
      amountTotal: 1200,
      object: "payment",
      livemode: false,
      url: `/pay/${payment.id}`,
      createdAt: clock.now().toISOString(),
      viewedAt: null,
      canceledAt: null,
    });
    expect((await links.get(SCOPE, payment.id))._unsafeUnwrap()).toEqual(payment);
  });

  test("urlFor and ids are injectable", async () => {
    let n = 0;
    const links = createPaymentLinks({
      store: createMemoryStore(),
      ids: { paymentId: () => `pay_test_${++n}`, eventId: () => `evt_${n}` },
      urlFor: (p) => `https://demo.example/pay/${p.id}`,
    });
    const payment = (await links.create(SCOPE, linkInput(new Date())))._unsafeUnwrap();
    expect(payment.id).toBe("pay_test_1");
    expect(payment.url).toBe("https://demo.example/pay/pay_test_1");
  });

  test("an id collision retries with a new id", async () => {
    const ids = ["pay_same", "pay_same", "pay_other"];
    const links = createPaymentLinks({
      store: createMemoryStore(),
      ids: { paymentId: () => ids.shift()!, eventId: () => "evt" },
    });
    expect((await links.create(SCOPE, linkInput(new Date())))._unsafeUnwrap().id).toBe("pay_same");
    expect((await links.create(SCOPE, linkInput(new Date())))._unsafeUnwrap().id).toBe("pay_other");
  });

  test.prop([createInputArb()])(
    "any valid input creates a pending payment whose total is subtotal + tax",
    async (input) => {
      const { links } = setup();
      const payment = (await links.create(SCOPE, input))._unsafeUnwrap();
      expect(payment.status).toBe("pending");
      expect(payment.amountTotal).toBe(input.amountSubtotal + (input.taxAmount ?? 0));
    },
  );

  const bad: Array<[string, Record<string, unknown>, string]> = [
    ["fractional amount", { amountSubtotal: 10.5 }, "amountSubtotal"],
    ["negative amount", { amountSubtotal: -1 }, "amountSubtotal"],
    ["unsafe amount", { amountSubtotal: 2 ** 53 }, "amountSubtotal"],
    ["unsafe total", { amountSubtotal: Number.MAX_SAFE_INTEGER, taxAmount: 1 }, "taxAmount"],
    ["string amount", { amountSubtotal: "10" }, "amountSubtotal"],
    ["unknown currency", { currency: "ABC" }, "currency"],
    ["lower-case currency", { currency: "gbp" }, "currency"],
    ["amountTotal given", { amountTotal: 1200 }, ""],
    ["unknown field", { color: "red" }, ""],
    ["past expiry", { expiresAt: new Date(Date.now() - 1000) }, "expiresAt"],
    ["no expiry for a link", { expiresAt: undefined }, "expiresAt"],
    ["expiry for a charge", { kind: "charge" }, "expiresAt"],
    ["bad date", { expiresAt: "tomorrow" }, "expiresAt"],
    ["unknown kind", { kind: "refund" }, "kind"],
    ["empty customer", { customerId: "" }, "customerId"],
    ["NUL in description", { description: "a\u0000b" }, "description"],
    ["NUL in a metadata value", { metadata: { a: "\u0000" } }, "metadata.a"],
    ["metadata object value", { metadata: { a: { b: 1 } } }, "metadata.a"],
    [
      "too many metadata keys",
      { metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) },
      "metadata",
    ],
  ];
  test.each(bad)("refuses %s with invalid_request naming the field", async (_name, overrides, path) => {
    const { links, store } = setup({ clock: { now: () => new Date() } });
    const result = await links.create(SCOPE, linkInput(new Date(), overrides) as never);
    const error = result._unsafeUnwrapErr();
    expect(error.code).toBe("invalid_request");
    if (error.code === "invalid_request") expect(error.issues.map((i) => i.path)).toContain(path);
    expect(store.size()).toBe(0);
  });

  test("refuses a malformed scope", async () => {
    const { links, clock } = setup();
    for (const scope of [{ accountId: "", livemode: false }, { accountId: "a" }, null]) {
      const result = await links.create(scope as never, linkInput(clock.now()));
      expect(result._unsafeUnwrapErr().code).toBe("invalid_request");
    }
  });
});

describe("failures are values", () => {
  const throwing = (method: keyof PaymentStore): PaymentStore => {
    const store = createMemoryStore();
    return { ...store, [method]: () => Promise.reject(new Error("ECONNREFUSED secret driver text")) };
  };

  test.each(["get", "insert", "compareAndSwap", "findDue", "readEvents"] as const)(
    "a store whose %s rejects gives store_unavailable, never a throw",
    async (method) => {
      const clock = fakeClock();
      const base = createMemoryStore();
      const links0 = createPaymentLinks({ store: base, clock });
      const id = (await links0.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap().id;
      const broken = {
        ...throwing(method),
        ...Object.fromEntries(Object.entries(base).filter(([k]) => k !== method)),
      } as PaymentStore;
      const links = createPaymentLinks({ store: broken, clock });
      const results = await Promise.all([
        links.create(SCOPE, linkInput(clock.now())),
        links.cancel(SCOPE, id),
        links.expireDue(),
        links.events(),
      ]);
      const codes = results.filter((r) => r.isErr()).map((r) => r._unsafeUnwrapErr().code);
      expect(codes.length).toBeGreaterThan(0);
      expect(new Set(codes)).toEqual(new Set(["store_unavailable"]));
      for (const r of results) if (r.isErr()) expect(r.error.message).not.toContain("secret");
    },
  );

  test("options that throw when read give store_unavailable, never a throw", async () => {
    const { links, clock } = setup();
    const id = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap().id;
    const hostile = {
      get idempotency(): never {
        throw new Error("getter");
      },
    };
    const results = [
      await links.create(SCOPE, linkInput(clock.now()), hostile),
      await links.cancel(SCOPE, id, hostile),
    ];
    for (const result of results) expect(result._unsafeUnwrapErr().code).toBe("store_unavailable");
    expect((await links.get(SCOPE, id))._unsafeUnwrap().status, "nothing was written").toBe("pending");
  });

  test("a swap that always loses ends in conflict after the bounded retries", async () => {
    const clock = fakeClock();
    const store = createMemoryStore();
    let swaps = 0;
    const losing: PaymentStore = {
      ...store,
      compareAndSwap: async () => {
        swaps++;
        return false;
      },
    };
    const id = (
      await createPaymentLinks({ store, clock }).create(SCOPE, linkInput(clock.now()))
    )._unsafeUnwrap().id;
    const result = await createPaymentLinks({ store: losing, clock, maxRetries: 3 }).cancel(SCOPE, id);
    expect(result._unsafeUnwrapErr()).toMatchObject({ code: "conflict", id });
    expect(swaps).toBe(4);
  });

  test("ids of any length or charset are not_found, not errors", async () => {
    const { links } = setup();
    for (const id of ["", "x".repeat(5000), "pay_'; DROP TABLE payments;--", "\u0000", "../../etc/passwd"]) {
      expect((await links.cancel(SCOPE, id))._unsafeUnwrapErr().code).toBe("not_found");
    }
  });
});

describe("list", () => {
  test("newest first, paged by cursor, confined to the scope, due links read as expired", async () => {
    const { links, clock } = setup();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      ids.push((await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap().id);
    }
    await links.create({ accountId: "acct_2", livemode: false }, linkInput(clock.now()));
    const first = (await links.list(SCOPE, { limit: 3 }))._unsafeUnwrap();
    const second = (await links.list(SCOPE, { limit: 3, startingAfter: first[2]!.id }))._unsafeUnwrap();
    expect([...first, ...second].map((p) => p.id)).toEqual([...ids].reverse());
    clock.advance(2 * 3_600_000);
    const later = (await links.list(SCOPE))._unsafeUnwrap();
    expect(later.map((p) => p.status)).toEqual(["expired", "expired", "expired", "expired", "expired"]);
    expect((await links.list(SCOPE, { limit: 0 }))._unsafeUnwrapErr().code).toBe("invalid_request");
    expect((await links.list(SCOPE, { limit: 101 }))._unsafeUnwrapErr().code).toBe("invalid_request");
  });
});

describe("expireDue and the outbox", () => {
  test("expireDue expires due links once, and their events are readable in order", async () => {
    const { links, clock } = setup();
    const a = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    const b = (
      await links.create({ accountId: "acct_2", livemode: true }, linkInput(clock.now()))
    )._unsafeUnwrap();
    await links.cancel(SCOPE, a.id);
    clock.advance(2 * 3_600_000);
    expect((await links.expireDue())._unsafeUnwrap()).toBe(1);
    expect((await links.expireDue())._unsafeUnwrap()).toBe(0);
    expect((await links.get({ accountId: "acct_2", livemode: true }, b.id))._unsafeUnwrap()).toMatchObject({
      status: "expired",
      expiredAt: b.expiresAt,
    });
    const events = (await links.events())._unsafeUnwrap();
    expect(events.map((e) => [e.sequence, e.event.type, e.event.paymentId])).toEqual([
      [1, "payment_link.created", a.id],
      [2, "payment_link.created", b.id],
      [3, "payment_link.canceled", a.id],
      [4, "payment_link.expired", b.id],
    ]);
    expect((await links.events({ after: 2, limit: 1 }))._unsafeUnwrap().map((e) => e.sequence)).toEqual([3]);
    expect((await links.expireDue(0))._unsafeUnwrapErr().code).toBe("invalid_request");
  });

  test("expireDue sweeps more links than it runs at once, each exactly once, racing commands included", async () => {
    const { links, clock } = setup();
    const ids: string[] = [];
    for (let i = 0; i < 600; i++)
      ids.push((await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap().id);
    clock.advance(2 * 3_600_000);
    // A cancel racing the sweep sees the due expiry first: payment_not_cancelable, never canceled.
    const [swept, raced] = await Promise.all([links.expireDue(1000), links.cancel(SCOPE, ids[599]!)]);
    expect(raced._unsafeUnwrapErr().code).toBe("payment_not_cancelable");
    // The racing cancel may have applied the lazy expiry of ids[599] itself: then the sweep did 599.
    expect([599, 600]).toContain(swept._unsafeUnwrap());
    const page = (await links.events({ limit: 2000 }))._unsafeUnwrap();
    const expired = page.filter((e) => e.event.type === "payment_link.expired").map((e) => e.event.paymentId);
    expect(new Set(expired)).toEqual(new Set(ids));
    expect(expired).toHaveLength(600);
    expect((await links.expireDue(1000))._unsafeUnwrap()).toBe(0);
  });

  test("a sweep with a failing write answers store_unavailable only once its other commands ended", async () => {
    // One swap fails at once; the others take 10 ms, so they are still in flight when it fails.
    const inner = createMemoryStore();
    let failNext = false;
    const store: PaymentStore = {
      ...inner,
      compareAndSwap: async (...args) => {
        if (failNext) {
          failNext = false;
          throw new Error("disk on fire");
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
        return inner.compareAndSwap(...args);
      },
    };
    const clock = fakeClock();
    const links = createPaymentLinks({ store, clock });
    for (let i = 0; i < 40; i++) await links.create(SCOPE, linkInput(clock.now()));
    clock.advance(2 * 3_600_000);
    failNext = true;
    const swept = await links.expireDue(1000);
    expect(swept._unsafeUnwrapErr().code).toBe("store_unavailable");
    // Everything the sweep did is done: nothing more is written after it answered.
    const after = (await links.events({ limit: 1000 }))._unsafeUnwrap().length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await links.events({ limit: 1000 }))._unsafeUnwrap()).toHaveLength(after);
    // The other 39 were expired; the next sweep expires the one that failed.
    expect(after).toBe(40 + 39);
    expect((await links.expireDue(1000))._unsafeUnwrap()).toBe(1);
  });

  test("a late payment on a canceled link keeps it canceled and is recorded as an event", async () => {
    const { links, clock } = setup();
    const p = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    const canceled = (await links.cancel(SCOPE, p.id))._unsafeUnwrap().payment;
    const after = (await links.paymentSucceeded(SCOPE, p.id))._unsafeUnwrap();
    expect(after).toEqual(canceled);
    const types = (await links.events())._unsafeUnwrap().map((e) => e.event.type);
    expect(types).toEqual(["payment_link.created", "payment_link.canceled", "payment_link.late_payment"]);
  });

  test("the first attempt sets attemptedAt and a failed payment leaves the link payable", async () => {
    const { links, clock } = setup();
    const p = (await links.create(SCOPE, linkInput(clock.now())))._unsafeUnwrap();
    clock.advance(1000);
    const viewed = (await links.view(SCOPE, p.id))._unsafeUnwrap();
    clock.advance(1000);
    const processing = (await links.startPayment(SCOPE, p.id))._unsafeUnwrap();
    expect((await links.startPayment(SCOPE, p.id))._unsafeUnwrapErr()).toMatchObject({
      code: "link_not_payable",
      status: "processing",
    });
    const attempted = (await links.paymentFailed(SCOPE, p.id))._unsafeUnwrap();
    clock.advance(1000);
    const again = (await links.startPayment(SCOPE, p.id))._unsafeUnwrap();
    const paid = (await links.paymentSucceeded(SCOPE, p.id))._unsafeUnwrap();
    expect([viewed.status, processing.status, attempted.status, again.status, paid.status]).toEqual([
      "viewed",
      "processing",
      "attempted",
      "processing",
      "paid",
    ]);
    expect(again.attemptedAt).toBe(processing.attemptedAt);
    expect(paid.viewedAt).toBe(viewed.viewedAt);
    expect(Date.parse(paid.paidAt!)).toBeGreaterThan(Date.parse(paid.attemptedAt!));
    expect((await links.view(SCOPE, p.id))._unsafeUnwrap()).toEqual(paid);
  });
});

test("default ids sort by creation time and differ in 96 random bits", async () => {
  const { randomIds } = await import("../src/ids.js");
  const first = randomIds.paymentId();
  await new Promise((resolve) => setTimeout(resolve, 5));
  const later = Array.from({ length: 300 }, () => randomIds.eventId());
  for (const id of [first, ...later]) expect(id).toMatch(/^(pay|evt)_[A-Za-z0-9_-]{24}$/);
  // Ids made later sort after, comparing the part after the prefix (plain string order).
  expect(first.slice(4) < later[0]!.slice(4)).toBe(true);
  expect(new Set(later.map((id) => id.slice(12))).size).toBe(later.length);
  // The time part is the millisecond, in an alphabet that sorts like the numbers it encodes.
  const decode = (id: string) =>
    [...id.slice(4, 12)].reduce(
      (n, c) => n * 64 + "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz".indexOf(c),
      0,
    );
  expect(Math.abs(decode(first) - Date.now())).toBeLessThan(5_000);
});
