import { fc, test } from "@fast-check/vitest";
import { type CreatePaymentInput, isTerminal, LINK_STATUSES, type Status } from "@paylink/core";
import { createInputArb, reach, type Step, scopeArb, send, stepsArb } from "@paylink/testing";
import { describe, expect } from "vitest";
import { SCOPE, setup } from "./helpers.js";

/** A payment in any reachable state: create it, then replay random commands and clock moves. */
const reachable = (kind?: "link" | "charge") =>
  fc.record({
    input: createInputArb({ kind, now: new Date("2026-01-01T00:00:00.000Z") }),
    steps: stepsArb(),
  });

async function reached(value: { input: CreatePaymentInput; steps: Step[] }) {
  const env = setup();
  const id = await reach(env.links, env.clock, SCOPE, value.input, value.steps);
  return { ...env, id };
}

describe("the laws of the lifecycle", () => {
  test.prop([reachable("link")])(
    "cancel is idempotent: cancel twice = cancel once, the second changes nothing",
    async (value) => {
      const { links, store, id } = await reached(value);
      const first = await links.cancel(SCOPE, id);
      if (first.isErr()) return; // not cancelable: another law covers it
      const before = (await links.get(SCOPE, id))._unsafeUnwrap();
      const eventsBefore = await store.readEvents(0, 1000);
      const second = (await links.cancel(SCOPE, id))._unsafeUnwrap();
      expect(second.changed).toBe(false);
      expect(second.payment).toEqual(before);
      expect(second.payment.status).toBe("canceled");
      expect(await store.readEvents(0, 1000)).toEqual(eventsBefore);
    },
  );

  test.prop([reachable("charge")])(
    "charges are never cancelable, in every reachable status, and the attempt writes nothing",
    async (value) => {
      const { links, store, id } = await reached(value);
      const before = await store.get(SCOPE, id);
      const eventsBefore = await store.readEvents(0, 1000);
      const result = await links.cancel(SCOPE, id);
      expect(result._unsafeUnwrapErr()).toMatchObject({ code: "charge_not_cancelable", id });
      expect(await store.get(SCOPE, id)).toEqual(before);
      expect(await store.readEvents(0, 1000)).toEqual(eventsBefore);
    },
  );

  test.prop([reachable("link")])(
    "only pending, viewed and attempted links can be canceled; processing, paid and expired are refused with their status",
    async (value) => {
      const { links, store, id } = await reached(value);
      const status = (await links.get(SCOPE, id))._unsafeUnwrap().status;
      const before = await store.get(SCOPE, id);
      const result = await links.cancel(SCOPE, id);
      if (status === "pending" || status === "viewed" || status === "attempted") {
        expect(result._unsafeUnwrap()).toMatchObject({ changed: true, payment: { status: "canceled" } });
        expect(result._unsafeUnwrap().payment.canceledAt).not.toBeNull();
      } else if (status === "canceled") {
        expect(result._unsafeUnwrap().changed).toBe(false);
      } else {
        expect(["processing", "paid", "expired"]).toContain(status);
        expect(result._unsafeUnwrapErr()).toMatchObject({ code: "payment_not_cancelable", status });
        expect(await store.get(SCOPE, id)).toEqual(before);
      }
    },
  );

  test.prop([
    reachable(),
    fc.constantFrom("view", "startPayment", "paymentFailed", "paymentSucceeded", "cancel", "get"),
  ])("no command changes a terminal payment; a late payment only adds an event", async (value, command) => {
    const { links, store, id } = await reached(value);
    const before = (await links.get(SCOPE, id))._unsafeUnwrap();
    if (!isTerminal(before.kind, before.status)) return;
    const eventsBefore = await store.readEvents(0, 1000);
    await send(links, SCOPE, id, command);
    expect((await links.get(SCOPE, id))._unsafeUnwrap()).toEqual(before);
    const added = (await store.readEvents(0, 1000)).slice(eventsBefore.length).map((e) => e.event.type);
    const late = command === "paymentSucceeded" && ["canceled", "expired", "failed"].includes(before.status);
    expect(added).toEqual(late ? [`${before.kind === "link" ? "payment_link" : "charge"}.late_payment`] : []);
  });

  test.prop([reachable("link"), fc.integer({ min: 0, max: 10 * 86_400_000 })])(
    "a link past expiresAt reads as expired for every reader, and cannot be canceled or paid",
    async (value, extra) => {
      const { links, clock, id } = await reached(value);
      const payment = (await links.get(SCOPE, id))._unsafeUnwrap();
      if (!["pending", "viewed", "attempted", "expired"].includes(payment.status)) return;
      clock.set(new Date(Date.parse(payment.expiresAt!) + extra));
      const read = (await links.get(SCOPE, id))._unsafeUnwrap();
      expect(read.status).toBe("expired");
      expect(read.expiredAt).not.toBeNull();
      expect((await links.view(SCOPE, id))._unsafeUnwrap().status).toBe("expired");
      expect((await links.cancel(SCOPE, id))._unsafeUnwrapErr()).toMatchObject({
        code: "payment_not_cancelable",
        status: "expired",
      });
      expect((await links.startPayment(SCOPE, id))._unsafeUnwrapErr()).toMatchObject({
        code: "link_not_payable",
        status: "expired",
      });
    },
  );

  test.prop([
    reachable(),
    // Other accounts, and the same account in the other mode.
    fc.oneof(scopeArb(), fc.constant({ accountId: SCOPE.accountId, livemode: !SCOPE.livemode })),
    fc.constantFrom("view", "startPayment", "paymentFailed", "paymentSucceeded", "cancel", "get"),
  ])(
    "scoping: another account or mode sees not_found, never the payment, and changes nothing",
    async (value, other, command) => {
      fc.pre(other.accountId !== SCOPE.accountId || other.livemode !== SCOPE.livemode);
      const { links, store, id } = await reached(value);
      const before = await store.get(SCOPE, id);
      const result = await send(links, other, id, command);
      expect(result).toMatchObject({ ok: false, error: { code: "not_found" } });
      expect(JSON.stringify(result)).not.toContain(before!.payment.customerId);
      expect(await store.get(SCOPE, id)).toEqual(before);
    },
  );

  test.prop([
    fc.scheduler(),
    fc.array(fc.constantFrom("cancel", "startPayment", "view", "paymentSucceeded"), {
      minLength: 2,
      maxLength: 6,
    }),
  ])(
    "concurrency: racing commands on one link serialize — cancel and payment start never both succeed, at most one cancel changes",
    async (s, commands) => {
      const { store, clock } = setup();
      // Every store call goes through the scheduler, so fast-check explores the interleavings.
      const scheduled = {
        ...store,
        get: s.scheduleFunction(store.get),
        compareAndSwap: s.scheduleFunction(store.compareAndSwap),
      };
      const { createPaymentLinks } = await import("@paylink/core");
      const links = createPaymentLinks({ store: scheduled, clock, maxRetries: 20 });
      const created = (
        await links.create(SCOPE, {
          customerId: "c",
          provider: "p",
          amountSubtotal: 1,
          currency: "GBP",
          expiresAt: new Date(clock.now().getTime() + 60_000),
        })
      )._unsafeUnwrap();
      const pending = commands.map((command) => send(links, SCOPE, created.id, command as never));
      await s.waitAll();
      const results = await Promise.all(pending);
      const cancelChanged = results.filter((r, i) => commands[i] === "cancel" && r.ok && r.changed).length;
      const startOk = results.filter((r, i) => commands[i] === "startPayment" && r.ok).length;
      expect(cancelChanged).toBeLessThanOrEqual(1);
      expect(cancelChanged + startOk).toBeLessThanOrEqual(1);
      const events = (await store.readEvents(0, 1000)).map((e) => e.event.type);
      expect(events.filter((t) => t === "payment_link.canceled").length).toBe(cancelChanged);
      expect(events.filter((t) => t === "payment_link.payment_started").length).toBe(startOk);
    },
  );
});

describe("model-based: random command sequences against a small model agree at every step", () => {
  type Real = {
    links: ReturnType<typeof setup>["links"];
    clock: ReturnType<typeof setup>["clock"];
    id: string;
  };
  type Model = { status: Status; due: number };
  const OPEN: readonly Status[] = ["pending", "viewed", "attempted"];

  const command = (
    name: "view" | "startPayment" | "paymentFailed" | "paymentSucceeded" | "cancel",
  ): fc.AsyncCommand<Model, Real> => ({
    check: () => true,
    async run(m, r) {
      const result = await send(r.links, SCOPE, r.id, name);
      const expired = r.clock.now().getTime() >= m.due;
      if (expired && OPEN.includes(m.status)) m.status = "expired";
      const s = m.status;
      let expected: { ok: boolean; code?: string; changed?: boolean };
      if (name === "cancel") {
        expected = OPEN.includes(s)
          ? { ok: true, changed: true }
          : s === "canceled"
            ? { ok: true, changed: false }
            : { ok: false, code: "payment_not_cancelable" };
        if (OPEN.includes(s)) m.status = "canceled";
      } else if (name === "view") {
        expected = { ok: true };
        if (s === "pending") m.status = "viewed";
      } else if (name === "startPayment") {
        expected = OPEN.includes(s) ? { ok: true } : { ok: false, code: "link_not_payable" };
        if (OPEN.includes(s)) m.status = "processing";
      } else if (name === "paymentFailed") {
        expected = { ok: true };
        if (s === "processing") m.status = expired ? "expired" : "attempted";
      } else {
        expected = { ok: true };
        if (OPEN.includes(s) || s === "processing") m.status = "paid";
      }
      expect(result.ok).toBe(expected.ok);
      if (result.ok) {
        expect(result.payment.status).toBe(m.status);
        if (expected.changed !== undefined) expect(result.changed).toBe(expected.changed);
      } else expect(result.error.code).toBe(expected.code);
    },
    toString: () => name,
  });
  const advance = (ms: number): fc.AsyncCommand<Model, Real> => ({
    check: () => true,
    async run(_m, r) {
      r.clock.advance(ms);
    },
    toString: () => `advance(${ms})`,
  });

  test.prop([
    fc.commands(
      [
        // One arbitrary per command so that commands outnumber clock moves five to one; moves of up to
        // 20 minutes let a sequence live a while before the link's one-hour expiry.
        ...(["view", "startPayment", "paymentFailed", "paymentSucceeded", "cancel"] as const).map((name) =>
          fc.constant(name).map(command),
        ),
        fc.integer({ min: 1, max: 20 * 60_000 }).map(advance),
      ],
      { maxCommands: 25 },
    ),
  ])("the lifecycle model", async (commands) => {
    const { links, clock } = setup();
    const expiresAt = new Date(clock.now().getTime() + 3_600_000);
    const created = (
      await links.create(SCOPE, {
        customerId: "c",
        provider: "p",
        amountSubtotal: 1,
        currency: "GBP",
        expiresAt,
      })
    )._unsafeUnwrap();
    await fc.asyncModelRun(
      () => ({
        model: { status: "pending" as Status, due: expiresAt.getTime() },
        real: { links, clock, id: created.id },
      }),
      commands,
    );
  });

  test("every link status is reachable by the arbitraries", async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(reachable("link"), async (value) => {
        const { links, id } = await reached(value);
        seen.add((await links.get(SCOPE, id))._unsafeUnwrap().status);
      }),
      { numRuns: 300, seed: 42 },
    );
    expect([...seen].sort()).toEqual([...LINK_STATUSES].sort());
  });
});
