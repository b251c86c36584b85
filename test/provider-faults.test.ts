/**
 * Faults of a payment provider across real processes: Stripe down while canceled links wait to be
 * stopped there, and a customer paying at Stripe between a local cancel and its stop, with the relay
 * process killed with SIGKILL in the middle. Real parts only: the official `stripe` SDK against the fake
 * Stripe of packages/gateway-stripe/test (an HTTP server in THIS process, so it outlives the killed
 * relay), a SQLite file (and PostgreSQL at PAYLINK_PG_URL) shared with the relay processes, and the
 * HTTP app's `POST /webhooks/stripe` for the provider's webhooks. The relay processes are
 * test/fixtures/provider-relay.ts.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createPaymentLinks,
  type IdempotencyStore,
  type Payment,
  type PaymentLinks,
  type PaymentStore,
  type Scope,
} from "@paylink/core";
import { createStripeGateway } from "@paylink/gateway-stripe";
import { createPaylinkApp, staticKeys } from "@paylink/http";
import { refundIdempotencyKey } from "@paylink/relay";
import { sampleLinkInput } from "@paylink/testing";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  type FakeStripe,
  type Outage,
  type SignedWebhook,
  startFakeStripe,
} from "../packages/gateway-stripe/test/fake-stripe.js";
import { CALL_TIMEOUT_MS, WEBHOOK_SECRET } from "../packages/gateway-stripe/test/harness.js";
import { type OpenedStore, openStore, outbox, pgPool, pgProblem } from "./fixtures/stores.js";
import { sleep, until } from "./fixtures/waiting.js";

const PG_URL = process.env.PAYLINK_PG_URL || undefined;
const REQUIRE_PG = process.env.PAYLINK_REQUIRE_PG === "1";

const scope: Scope = { accountId: "acct_provider_faults", livemode: false };
const root = fileURLToPath(new URL("..", import.meta.url));

// ---------------------------------------------------------------------------------------------------
// PostgreSQL: without PAYLINK_PG_URL its suite skips; with PAYLINK_REQUIRE_PG=1 a missing server fails
// the guard test below instead.

const pgMissing = await pgProblem(PG_URL);
const admin = pgMissing === null ? pgPool(PG_URL!, 2) : undefined;

afterAll(async () => {
  await admin?.end();
});

// ---------------------------------------------------------------------------------------------------
// Per-test resources, released after each test in reverse order (processes before their database).

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

/** A store spec of `kind`: a fresh PostgreSQL schema or a SQLite file in a fresh directory. */
function storeSpec(kind: "pg" | "sqlite"): string {
  if (kind === "pg") {
    const schema = `paylink_provider_faults_${process.pid}_${randomBytes(4).toString("hex")}`;
    cleanups.push(() => admin!.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    return `pg:${schema}`;
  }
  const dir = mkdtempSync(join(tmpdir(), "paylink-provider-faults-"));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return `sqlite:${join(dir, "provider.sqlite")}`;
}

/** The store of `spec` in this process (migrating a PostgreSQL schema first), closed after the test. */
async function open(spec: string): Promise<OpenedStore> {
  const opened = await openStore(spec);
  cleanups.push(() => opened.close());
  return opened;
}

/** The idempotency port of a store (both the SQLite and the PostgreSQL store have it). */
function idempotencyOf(store: PaymentStore): IdempotencyStore {
  if (!("claimIdempotencyKey" in store)) throw new Error("the store keeps no idempotency keys");
  return store as PaymentStore & IdempotencyStore;
}

/** A fresh fake Stripe on a free port of 127.0.0.1, closed after the test. */
async function startFake(): Promise<FakeStripe> {
  const fake = await startFakeStripe({ webhookSecret: WEBHOOK_SECRET });
  cleanups.push(() => fake.close());
  return fake;
}

// ---------------------------------------------------------------------------------------------------
// Relay processes: `node --import tsx` runs the fixture itself (no tsx wrapper process), so a SIGKILL
// of `child.pid` kills the relay itself.

interface Relay {
  readonly name: string;
  readonly child: ChildProcessWithoutNullStreams;
  /** Complete stdout lines so far. */
  readonly lines: string[];
  stderr(): string;
  /** Resolves with the first line matching `predicate`; rejects when the process exits first. */
  waitFor(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True once the process ended. */
  done(): boolean;
}

let relayCount = 0;

/** A relay process (test/fixtures/provider-relay.ts) on `spec` and the fake at `port`, once `ready`. */
async function startRelay(spec: string, port: number, flags: readonly string[] = []): Promise<Relay> {
  const name = `provider-relay#${++relayCount}`;
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "test/fixtures/provider-relay.ts", spec, String(port), ...flags],
    { cwd: root, stdio: ["pipe", "pipe", "pipe"] },
  );
  const lines: string[] = [];
  let partial = "";
  let errors = "";
  let done = false;
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
    notify();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    errors += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("close", (code, signal) => {
      done = true;
      notify();
      resolve({ code, signal });
    });
  });
  const relay: Relay = {
    name,
    child,
    lines,
    stderr: () => errors,
    exited,
    done: () => done,
    waitFor: (predicate, timeoutMs = 30_000) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`${name}: timed out; stdout: ${lines.join(" | ")}; stderr: ${errors}`));
        }, timeoutMs);
        const check = () => {
          const found = lines.find(predicate);
          if (found === undefined && !done) return;
          clearTimeout(timer);
          listeners.delete(check);
          if (found !== undefined) resolve(found);
          else reject(new Error(`${name} exited early; stdout: ${lines.join(" | ")}; stderr: ${errors}`));
        };
        listeners.add(check);
        check();
      }),
  };
  cleanups.push(async () => {
    if (done) return;
    child.kill("SIGTERM");
    const stopped = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
    if (!stopped) child.kill("SIGKILL");
    await exited;
  });
  await relay.waitFor((line) => line.startsWith("ready "), 45_000);
  return relay;
}

/** Kills `relay` with SIGKILL and waits until it is gone. */
async function kill(relay: Relay): Promise<void> {
  relay.child.kill("SIGKILL");
  expect((await relay.exited).signal).toBe("SIGKILL");
}

/** Lines a relay printed for failures its relay reported. */
const errorLines = (relay: Relay) => relay.lines.filter((line) => line.startsWith("error "));

/** The `<sink> <paymentId> <outcome> <ms>` lines of a relay for `paymentId`, as [outcome, ms]. */
function outcomes(relay: Relay, sink: "stop" | "refund", paymentId: string): [string, number][] {
  return relay.lines
    .map((line) => line.split(" "))
    .filter(([kind, id]) => kind === sink && id === paymentId)
    .map(([, , outcome, at]) => [outcome!, Number(at)]);
}

// ---------------------------------------------------------------------------------------------------
// Reading what happened.

/** How many outbox events of `type` each of `ids` has, in the order of `ids`. */
async function countsOf(store: PaymentStore, type: string, ids: readonly string[]): Promise<number[]> {
  const events = await outbox(store);
  return ids.map((id) => events.filter((e) => e.event.paymentId === id && e.event.type === type).length);
}

/** The payment as the store has it now. */
async function read(links: PaymentLinks, id: string): Promise<Payment> {
  return (await links.get(scope, id))._unsafeUnwrap();
}

/** The reference of a gateway-made link at Stripe. */
const referenceOf = (payment: Payment): string => payment.providerState!.reference!;

/** The refunds the fake made of `paymentIntent`, and the idempotency keys its refund POSTs carried. */
function refundsAt(fake: FakeStripe, paymentIntent: string) {
  return {
    refunds: [...fake.refunds.values()].filter((r) => r.payment_intent === paymentIntent),
    keys: new Set(
      fake.requests
        .filter((r) => r.path === "/v1/refunds" && r.params.payment_intent === paymentIntent)
        .map((r) => r.idempotencyKey),
    ),
  };
}

/** Paylink in this process, over the shared store, with Stripe (the fake) as the links' provider. */
async function paylink(spec: string, fake: FakeStripe) {
  const opened = await open(spec);
  const gateway = createStripeGateway({
    stripe: fake.client(),
    webhookSecret: WEBHOOK_SECRET,
    timeoutMs: CALL_TIMEOUT_MS,
  });
  const links = createPaymentLinks({ store: opened.store, gateway });
  // Unexpected failures of the app (a 500's cause): none is expected, and the test checks.
  const failures: unknown[] = [];
  const app = createPaylinkApp({
    links,
    authenticate: staticKeys({}),
    idempotency: idempotencyOf(opened.store),
    providers: [{ gateway, scope }],
    onError: (error) => failures.push(error),
  });
  return {
    store: opened.store,
    failures,
    links,
    /** Creates a Stripe-hosted link. */
    create: async () =>
      (await links.create(scope, sampleLinkInput(new Date(), { provider: "stripe" })))._unsafeUnwrap(),
    /** Cancels `id` locally; answers the payment as the cancel wrote it. */
    cancel: async (id: string) => (await links.cancel(scope, id))._unsafeUnwrap().payment,
    /** Stripe POSTs `webhook` to `/webhooks/stripe`; answers the HTTP status. */
    deliver: async (webhook: SignedWebhook) => {
      const response = await app.fetch(
        new Request("http://paylink.test/webhooks/stripe", {
          method: "POST",
          headers: webhook.headers,
          body: webhook.rawBody,
        }),
      );
      await response.text();
      return response.status;
    },
  };
}

// ---------------------------------------------------------------------------------------------------

/**
 * Stripe is down (`kind`) when links are canceled: each local cancel holds with its stop pending, while
 * the relay retries; the relay is killed mid-outage; after Stripe is back a new relay process confirms
 * every stop once, and Stripe's links and sessions are closed.
 */
async function stopThroughOutage(kind: "pg" | "sqlite", outage: Outage): Promise<void> {
  const spec = storeSpec(kind);
  const fake = await startFake();
  const paylinkHere = await paylink(spec, fake);
  const { links, store } = paylinkHere;
  const made = [await paylinkHere.create(), await paylinkHere.create(), await paylinkHere.create()];
  const refs = made.map(referenceOf);
  const ids = made.map((p) => p.id);
  // Two customers have the page open: Stripe has an open Checkout Session on those links.
  const sessions = [fake.visit(refs[0]!).id, fake.visit(refs[1]!).id];

  fake.outage(outage);
  for (const id of ids) {
    const canceled = await paylinkHere.cancel(id);
    expect(canceled.status).toBe("canceled");
    expect(canceled.providerState?.stop).toBe("pending");
  }

  const first = await startRelay(spec, fake.port);
  // The stop sink tries the oldest cancel, is told to retry later, waits, and tries again.
  const tries = await until(
    "two attempts of the first stop",
    () => {
      const seen = outcomes(first, "stop", ids[0]!);
      if (seen.length >= 2) return seen;
      if (first.done()) throw new Error(`${first.name} exited early: ${first.lines.join(" | ")}`);
      return undefined;
    },
    30_000,
    () => first.lines.join(" | "),
  );
  expect(tries.map(([outcome]) => outcome)).toEqual(["retry_later", "retry_later"]);
  if (outage === "429") {
    // Stripe said `Retry-After: 2`: the relay waited at least that long, not its 100 ms first backoff.
    expect(tries[1]![1] - tries[0]![1], "ms between the attempts of a 429").toBeGreaterThanOrEqual(1990);
  }
  await kill(first);
  expect(
    errorLines(first).filter((line) => !line.includes("retry later")),
    "failures other than the provider's retry_later",
  ).toEqual([]);

  // The local cancels held; nothing reached Stripe.
  for (const id of ids) {
    const payment = await read(links, id);
    expect(payment.status).toBe("canceled");
    expect(payment.providerState).toMatchObject({ stop: "pending", paymentReference: null, refund: "none" });
  }
  for (const ref of refs) expect(fake.links.get(ref)?.active, `${ref} at Stripe`).toBe(true);
  for (const session of sessions) expect(fake.sessions.get(session)?.status).toBe("open");

  fake.restore();
  const second = await startRelay(spec, fake.port);
  await until(
    "every stop confirmed",
    async () => {
      for (const id of ids) if ((await read(links, id)).providerState?.stop !== "confirmed") return undefined;
      return true;
    },
    30_000,
  );
  for (const id of ids) {
    const payment = await read(links, id);
    expect(payment.status).toBe("canceled");
    expect(payment.providerState).toMatchObject({
      reference: referenceOf(made[ids.indexOf(id)]!),
      stop: "confirmed",
      paymentReference: null,
      refund: "none",
    });
  }
  expect(await countsOf(store, "payment_link.provider_stopped", ids)).toEqual([1, 1, 1]);
  expect(await countsOf(store, "payment_link.late_payment", ids)).toEqual([0, 0, 0]);
  for (const ref of refs) expect(fake.links.get(ref)?.active, `${ref} at Stripe`).toBe(false);
  for (const session of sessions) expect(fake.sessions.get(session)?.status).toBe("expired");
  expect(fake.refunds.size).toBe(0);
  for (const id of ids) expect(outcomes(second, "stop", id).map(([outcome]) => outcome)).toEqual(["stopped"]);
  expect(errorLines(second)).toEqual([]);
}

/**
 * A customer pays at Stripe between the local cancel and the stop (link A: its webhook arrives before
 * the stop; link B: the stop finds the payment first, its webhook arrives after). The relay is killed
 * after Stripe made A's refund and before Paylink recorded it. A new relay process: one refund per
 * payment at Stripe, one late payment each, refunds recorded `succeeded`, and every webhook, delivered
 * three times and out of order with the stop, changes nothing more.
 */
async function refundAcrossKill(kind: "pg" | "sqlite"): Promise<void> {
  const spec = storeSpec(kind);
  const fake = await startFake();
  const paylinkHere = await paylink(spec, fake);
  const { links, store } = paylinkHere;
  const a = await paylinkHere.create();
  const b = await paylinkHere.create();
  const ids = [a.id, b.id];

  const first = await startRelay(spec, fake.port, ["--hold-after-refund", "--max-backoff-ms", "1000"]);
  fake.outage("500");
  for (const id of ids) expect((await paylinkHere.cancel(id)).providerState?.stop).toBe("pending");

  // Both customers pay at Stripe before the stops get through; A's webhook comes at once.
  const paidA = fake.pay(referenceOf(a));
  const paidB = fake.pay(referenceOf(b));
  const intentOf = (webhook: SignedWebhook) =>
    (JSON.parse(webhook.rawBody) as { data: { object: { payment_intent: string } } }).data.object
      .payment_intent;
  const [piA, piB] = [intentOf(paidA), intentOf(paidB)];
  expect(await paylinkHere.deliver(paidA)).toBe(200);
  expect(await read(links, a.id)).toMatchObject({
    status: "canceled",
    providerState: { stop: "pending", paymentReference: piA, refund: "none" },
  });

  // The relay is told to retry later by both sinks, then Stripe is back.
  await first.waitFor((line) => line.startsWith(`stop ${a.id} retry_later`));
  await first.waitFor((line) => line.startsWith(`refund ${a.id} retry_later`));
  fake.restore();

  // The stops find both payments (B's for the first time: its late payment comes from the stop), and
  // Stripe made A's refund; the relay holds that answer unrecorded, and dies there.
  for (const id of ids) await first.waitFor((line) => line.startsWith(`stop ${id} already_paid`));
  await first.waitFor((line) => line.startsWith(`refund-called ${piA} succeeded`));
  await kill(first);
  expect(await read(links, b.id)).toMatchObject({
    status: "canceled",
    providerState: { stop: "confirmed", paymentReference: piB, refund: "none" },
  });
  expect(refundsAt(fake, piA).refunds).toHaveLength(1);
  expect((await read(links, a.id)).providerState?.refund, "A's refund, before a new relay").toBe("none");

  // Redeliveries around the stop: A's again (the inbox has it), and B's for the first time.
  expect(await paylinkHere.deliver(paidA)).toBe(200);
  expect(await paylinkHere.deliver(paidB)).toBe(200);
  const second = await startRelay(spec, fake.port, ["--max-backoff-ms", "1000"]);
  // While the new relay works: B's again, and A's event signed anew under another event id, which the
  // inbox cannot recognise; the machine does (the same provider payment is one payment).
  const sessionA = (JSON.parse(paidA.rawBody) as { data: { object: object } }).data.object;
  const answers = await Promise.all([
    paylinkHere.deliver(paidB),
    paylinkHere.deliver(fake.webhook("checkout.session.completed", sessionA)),
  ]);
  expect(answers).toEqual([200, 200]);

  // Until both stops and both refunds have a final answer; what the answers are is asserted below.
  await until(
    "both stops confirmed and both refunds answered for good",
    async () => {
      for (const id of ids) {
        const state = (await read(links, id)).providerState;
        if (state?.stop !== "confirmed" || !["succeeded", "refused"].includes(state.refund)) return undefined;
      }
      return true;
    },
    30_000,
    () => second.lines.join(" | "),
  );
  // After everything: the last deliveries.
  expect(await paylinkHere.deliver(paidA)).toBe(200);
  expect(await paylinkHere.deliver(paidB)).toBe(200);

  for (const [payment, pi] of [
    [a, piA],
    [b, piB],
  ] as const) {
    const at = refundsAt(fake, pi);
    expect(at.refunds, `refunds of ${pi} at Stripe`).toHaveLength(1);
    // Every call for it, before and after the kill, carried the one key that derives from the payment.
    expect([...at.keys], `idempotency keys of the refund POSTs of ${pi}`).toEqual([
      refundIdempotencyKey("stripe", pi),
    ]);
    expect(at.refunds[0]!.amount).toBe(payment.amountTotal);
    const now = await read(links, payment.id);
    expect(now.status).toBe("canceled");
    expect(now.providerState).toMatchObject({
      stop: "confirmed",
      paymentReference: pi,
      refund: "succeeded",
      refundReference: at.refunds[0]!.id,
    });
    expect(fake.links.get(referenceOf(payment))?.active).toBe(false);
  }
  expect(await countsOf(store, "payment_link.late_payment", ids), "late payments").toEqual([1, 1]);
  expect(await countsOf(store, "payment_link.refunded", ids), "refunds recorded").toEqual([1, 1]);
  expect(await countsOf(store, "payment_link.provider_stopped", ids), "stops recorded").toEqual([1, 1]);
  expect(await countsOf(store, "payment_link.paid", ids), "paid").toEqual([0, 0]);
  expect(paylinkHere.failures, "unexpected failures of the webhook endpoint").toEqual([]);
  // The new relay called for A's refund again, under the same key: Stripe answered the first refund.
  expect(second.lines.filter((line) => line.startsWith(`refund-called ${piA} `))).not.toEqual([]);
  expect(errorLines(second)).toEqual([]);
  console.log(
    `${kind}: the killed relay printed ${first.lines.filter((l) => !l.startsWith("error ")).length} facts; refund calls: first ${first.lines.filter((l) => l.startsWith("refund-called")).length}, second ${second.lines.filter((l) => l.startsWith("refund-called")).length}`,
  );
}

// ---------------------------------------------------------------------------------------------------

describe("the servers the provider fault tests need", () => {
  it.runIf(REQUIRE_PG)(
    "PAYLINK_REQUIRE_PG=1: PostgreSQL answers (this fails when its tests would skip)",
    () => {
      expect(pgMissing, "PAYLINK_REQUIRE_PG=1 but the PostgreSQL fault tests would be skipped").toBeNull();
    },
  );
});

const OUTAGES: readonly { outage: Outage; what: string }[] = [
  { outage: "refused", what: "connections refused" },
  { outage: "500", what: "HTTP 500" },
  { outage: "429", what: "HTTP 429 with Retry-After" },
  { outage: "hang", what: "a hang past the gateway's timeout" },
];

for (const kind of ["sqlite", "pg"] as const) {
  const skip = kind === "pg" && pgMissing !== null;
  describe.skipIf(skip)(`provider faults on ${kind === "pg" ? "PostgreSQL" : "SQLite"}`, () => {
    it.each(OUTAGES)(
      "Stripe down during cancels ($what): the cancels hold, a relay killed mid-outage, a new one confirms every stop once",
      async ({ outage }) => {
        await stopThroughOutage(kind, outage);
      },
      60_000,
    );

    it("a customer pays at Stripe between cancel and stop, the relay is killed between refund and record: one refund each", async () => {
      await refundAcrossKill(kind);
    }, 60_000);
  });
}
