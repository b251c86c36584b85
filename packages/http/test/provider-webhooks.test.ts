import { createHmac } from "node:crypto";
import {
  createPaymentLinks,
  type IdempotencyStore,
  PAYLINK_ID_METADATA_KEY,
  type PaymentStore,
  type Scope,
} from "@paylink/core";
import { createTestGateway, type TestGateway, type TestWebhook } from "@paylink/gateway-test";
import {
  createPaylinkApp,
  PROVIDER_WEBHOOK_BODY_LIMIT_BYTES,
  providerEventKey,
  staticKeys,
} from "@paylink/http";
import { createMemoryStore, type MemoryStore } from "@paylink/store-memory";
import { type FakeClock, fakeClock, sampleLinkInput } from "@paylink/testing";
import { describe, expect, it, vi } from "vitest";
import { BASE, KEYS, SCOPE, SEED_000_FIELDS, SEED_004_FIELDS } from "./helpers.js";

const OTHER: Scope = { accountId: "acct_other", livemode: false };

type Store = PaymentStore & IdempotencyStore;

interface Harness {
  readonly store: MemoryStore;
  readonly clock: FakeClock;
  readonly gateway: TestGateway;
  readonly links: ReturnType<typeof createPaymentLinks>;
  readonly app: ReturnType<typeof createPaylinkApp>;
  readonly errors: unknown[];
  /** Posts a webhook to `/webhooks/test` exactly as the provider would. */
  deliver(webhook: TestWebhook): Response | Promise<Response>;
  /** A link made through the test gateway: its id and its provider object. */
  link(scope?: Scope): Promise<{ id: string; reference: string }>;
  /** The customer pays `reference`: the signed webhook that reports it. */
  pay(reference: string): Promise<{ paymentReference: string; webhook: TestWebhook }>;
  /** Every event in the outbox. */
  events(): Promise<readonly { event: { type: string; paymentId: string } }[]>;
  /** True when the inbox holds nothing for `eventId` (probed by claiming the key, then releasing it). */
  inboxFree(eventId: string): Promise<boolean>;
}

/** A memory store, a fake clock shared by core, app and test provider, and the app with `providers`. */
function harness(wrap: (store: MemoryStore) => Store = (store) => store): Harness {
  const clock = fakeClock(new Date("2026-01-01T00:00:00.000Z"));
  const store = createMemoryStore();
  const used = wrap(store);
  const gateway = createTestGateway({ clock });
  const links = createPaymentLinks({ store: used, clock, gateway });
  const errors: unknown[] = [];
  const app = createPaylinkApp({
    links,
    idempotency: used,
    clock,
    onError: (error) => errors.push(error),
    authenticate: staticKeys({
      [KEYS.rw]: { accountId: SCOPE.accountId, livemode: false, canWrite: true },
    }),
    providers: [{ gateway, scope: SCOPE }],
  });
  return {
    store,
    clock,
    gateway,
    links,
    app,
    errors,
    deliver: (webhook) =>
      app.fetch(
        new Request(`${BASE}/webhooks/test`, {
          method: "POST",
          headers: webhook.headers,
          body: webhook.rawBody,
        }),
      ),
    async link(scope = SCOPE) {
      const expiresAt = new Date(clock.now().getTime() + 7 * 86_400_000);
      const created = await links.create(
        scope,
        sampleLinkInput(clock.now(), { provider: "test", expiresAt }),
      );
      const payment = created._unsafeUnwrap();
      return { id: payment.id, reference: payment.providerState!.reference! };
    },
    async pay(reference) {
      const answer = await gateway.pay(reference);
      if (answer.outcome !== "paid") throw new Error(`not paid: ${answer.outcome}`);
      return answer;
    },
    events: () => store.readEvents(0, 1_000_000),
    async inboxFree(eventId) {
      const now = clock.now();
      const key = providerEventKey("test", eventId);
      const existing = await store.claimIdempotencyKey(
        SCOPE,
        {
          key,
          fingerprint: "probe",
          response: null,
          createdAt: now.toISOString(),
          token: "probe",
          lockedUntil: new Date(now.getTime() + 1_000).toISOString(),
        },
        new Date(now.getTime() - 86_400_000).toISOString(),
      );
      if (existing !== undefined) return false;
      await store.releaseIdempotencyKey(SCOPE, key, "probe");
      return true;
    },
  };
}

/** Signs `body` as the test provider does (Standard Webhooks), for bodies the provider would never send. */
function signed(secret: string, id: string, at: Date, body: string): TestWebhook {
  const timestamp = String(Math.floor(at.getTime() / 1_000));
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const signature = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
  return {
    rawBody: body,
    headers: { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": `v1,${signature}` },
  };
}

const get = (h: Harness, path: string) =>
  h.app.fetch(new Request(`${BASE}${path}`, { headers: { "x-api-key": KEYS.rw } }));

const typesOf = async (h: Harness, id: string) =>
  (await h.events()).filter((stored) => stored.event.paymentId === id).map((stored) => stored.event.type);

describe("POST /webhooks/<provider>: a verified payment goes through the machine", () => {
  it("a paid webhook pays the link and records the provider payment, without an API key", async () => {
    const h = harness();
    const { id, reference } = await h.link();
    const paid = await h.pay(reference);

    const response = await h.deliver(paid.webhook);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      received: true,
      eventId: paid.webhook.headers["webhook-id"],
      eventType: "payment.succeeded",
      results: [{ type: "PAYMENT_SUCCEEDED", payment: id, outcome: "applied", status: "paid" }],
    });
    const payment = (await h.links.get(SCOPE, id))._unsafeUnwrap();
    expect(payment.status).toBe("paid");
    expect(payment.providerState?.paymentReference).toBe(paid.paymentReference);
    expect(await typesOf(h, id)).toEqual(["payment_link.created", "payment_link.paid"]);
  });

  it("the same webhook three times: 200 each, the same answer, one `paid` event", async () => {
    const h = harness();
    const { id, reference } = await h.link();
    const paid = await h.pay(reference);

    const eventId = paid.webhook.headers["webhook-id"]!;
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) {
      // The third delivery is signed anew a minute later, as a provider's retry may be: the same event.
      h.clock.advance(i === 2 ? 60_000 : 0);
      const webhook =
        i === 2 ? signed(h.gateway.secret, eventId, h.clock.now(), paid.webhook.rawBody) : paid.webhook;
      expect(webhook.headers["webhook-timestamp"] === paid.webhook.headers["webhook-timestamp"]).toBe(i < 2);
      const response = await h.deliver(webhook);
      expect(response.status).toBe(200);
      expect(response.headers.get("idempotent-replayed")).toBe(i === 0 ? null : "true");
      answers.push(await response.text());
    }
    expect(new Set(answers).size).toBe(1);
    expect(await typesOf(h, id)).toEqual(["payment_link.created", "payment_link.paid"]);
    expect(await h.inboxFree(eventId)).toBe(false);
  });

  it("no merchant Idempotency-Key can take an event's inbox slot: the key has a comma, which merchants' never do", async () => {
    const h = harness();
    const { id, reference } = await h.link();
    const decoy = await h.link();
    const paid = await h.pay(reference);
    const eventId = paid.webhook.headers["webhook-id"]!;
    const merchant = await h.app.fetch(
      new Request(`${BASE}/payments/${decoy.id}/cancel`, {
        method: "POST",
        headers: { "x-api-key": KEYS.rw, "idempotency-key": providerEventKey("test", eventId) },
      }),
    );
    expect(merchant.status).toBe(400);
    expect(await merchant.json()).toMatchObject({ error: { code: "idempotency_key_invalid" } });
    expect((await h.links.get(SCOPE, decoy.id))._unsafeUnwrap().status).toBe("pending");
    const delivered = await h.deliver(paid.webhook);
    expect(delivered.status).toBe(200);
    expect((await h.links.get(SCOPE, id))._unsafeUnwrap().status).toBe("paid");
  });

  it("the answer is recorded in the event's own write: a crash before the inbox is completed loses nothing", async () => {
    // The process "dies" after the command's write, before the transport completes the inbox entry.
    const h = harness((store) => ({
      ...store,
      completeIdempotencyKey: () => Promise.reject(new Error("killed")),
    }));
    const { id, reference } = await h.link();
    const paid = await h.pay(reference);

    const first = await h.deliver(paid.webhook);
    expect(first.status).toBe(200);
    const again = await h.deliver(paid.webhook);
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.text()).toBe(await first.text());
    expect(await typesOf(h, id)).toEqual(["payment_link.created", "payment_link.paid"]);
  });

  it("a redelivered failure is applied once: the inbox keeps START_PAYMENT from running again", async () => {
    const h = harness();
    const { id, reference } = await h.link();
    const failed = await h.gateway.fail(reference);
    if (failed.outcome !== "declined") throw new Error(failed.outcome);

    const first = await h.deliver(failed.webhook);
    expect(first.status).toBe(200);
    const again = await h.deliver(failed.webhook);
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.text()).toBe(await first.text());
    expect((await h.links.get(SCOPE, id))._unsafeUnwrap().status).toBe("attempted");
    // Without the inbox the second delivery would have started (and failed) a second attempt.
    expect(await typesOf(h, id)).toEqual([
      "payment_link.created",
      "payment_link.payment_started",
      "payment_link.payment_failed",
    ]);
  });

  it("out of order: a failure reported after the payment changes nothing", async () => {
    const h = harness();
    const { id, reference } = await h.link();
    const failed = await h.gateway.fail(reference); // made first, delivered last
    if (failed.outcome !== "declined") throw new Error(failed.outcome);
    const paid = await h.pay(reference);

    expect((await h.deliver(paid.webhook)).status).toBe(200);
    const before = (await h.links.get(SCOPE, id))._unsafeUnwrap();
    const eventsBefore = await h.events();

    const late = await h.deliver(failed.webhook);
    expect(late.status).toBe(200);
    expect(await late.json()).toEqual({
      received: true,
      eventId: failed.webhook.headers["webhook-id"],
      eventType: "payment.failed",
      results: [
        {
          type: "START_PAYMENT",
          payment: id,
          outcome: "refused",
          code: "link_not_payable",
          status: "paid",
        },
        { type: "PAYMENT_FAILED", payment: id, outcome: "applied", status: "paid" },
      ],
    });
    expect((await h.links.get(SCOPE, id))._unsafeUnwrap()).toEqual(before);
    expect(await h.events()).toEqual(eventsBefore);
  });

  it("paid after a local cancel: one late_payment, the link stays canceled, however often delivered", async () => {
    const h = harness();
    const { id, reference } = await h.link();
    const canceled = (await h.links.cancel(SCOPE, id))._unsafeUnwrap().payment;
    expect(canceled.providerState?.stop).toBe("pending");
    // The customer pays before the stop reaches the provider.
    const paid = await h.pay(reference);

    for (let i = 0; i < 2; i++) {
      const response = await h.deliver(paid.webhook);
      expect(response.status).toBe(200);
      expect(((await response.json()) as { results: unknown[] }).results).toEqual([
        { type: "PAYMENT_SUCCEEDED", payment: id, outcome: "applied", status: "canceled" },
      ]);
    }
    const payment = (await h.links.get(SCOPE, id))._unsafeUnwrap();
    expect(payment.status).toBe("canceled");
    expect(payment.providerState?.paymentReference).toBe(paid.paymentReference);
    expect(await typesOf(h, id)).toEqual([
      "payment_link.created",
      "payment_link.canceled",
      "payment_link.late_payment",
    ]);
  });
});

describe("POST /webhooks/<provider>: what must write nothing", () => {
  it("bad, missing and stale signatures and a body altered after signing: 400, nothing written", async () => {
    const h = harness();
    const { id, reference } = await h.link();
    const paid = await h.pay(reference);
    const eventsBefore = await h.events();
    const paymentBefore = (await h.links.get(SCOPE, id))._unsafeUnwrap();

    const forged = (kind: "bad_signature" | "stale" | "missing_signature") =>
      h.gateway.forged(reference, kind);
    const cases = [
      { webhook: forged("bad_signature"), code: "signature_invalid" },
      { webhook: forged("missing_signature"), code: "signature_missing" },
      { webhook: forged("stale"), code: "signature_stale" },
      {
        webhook: { ...paid.webhook, rawBody: paid.webhook.rawBody.replace('"amount":1200', '"amount":1') },
        code: "signature_invalid",
      },
      {
        webhook: signed(h.gateway.secret, "tev_not_ours", h.clock.now(), '{"hello":"world"}'),
        code: "body_malformed",
      },
    ];
    expect(cases[3]!.webhook.rawBody).not.toBe(paid.webhook.rawBody);
    for (const { webhook, code } of cases) {
      const response = await h.deliver(webhook);
      expect(response.status, code).toBe(400);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe(code);
      expect(body.error.message).toEqual(expect.any(String));
    }

    expect(await h.events()).toEqual(eventsBefore);
    expect((await h.links.get(SCOPE, id))._unsafeUnwrap()).toEqual(paymentBefore);
    for (const { webhook } of cases) {
      const eventId = webhook.headers["webhook-id"];
      if (eventId !== undefined) expect(await h.inboxFree(eventId), eventId).toBe(true);
    }
    // The genuine webhook, whose id the altered copy carried, still applies.
    expect((await h.deliver(paid.webhook)).status).toBe(200);
    expect((await h.links.get(SCOPE, id))._unsafeUnwrap().status).toBe("paid");
  });

  it("a verified event of a type that maps to nothing: 200 ignored, nothing written", async () => {
    const h = harness();
    const { id, reference } = await h.link();
    const eventsBefore = await h.events();
    const body = JSON.stringify({
      id: "tev_refund_1",
      type: "payment.refunded",
      created: Math.floor(h.clock.now().getTime() / 1_000),
      data: { link: reference, amount: 1200, currency: "GBP", metadata: { [PAYLINK_ID_METADATA_KEY]: id } },
    });

    const response = await h.deliver(signed(h.gateway.secret, "tev_refund_1", h.clock.now(), body));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true, ignored: "payment.refunded" });
    expect(await h.events()).toEqual(eventsBefore);
    expect(await h.inboxFree("tev_refund_1")).toBe(true);
  });

  it("a payment of another account (or none): 200 ignored, nothing written", async () => {
    const h = harness();
    const { id, reference } = await h.link(OTHER);
    const paid = await h.pay(reference);
    const eventsBefore = await h.events();

    const response = await h.deliver(paid.webhook);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true, ignored: "unknown_payment" });
    expect(await h.events()).toEqual(eventsBefore);
    expect((await h.links.get(OTHER, id))._unsafeUnwrap().status).toBe("pending");
    expect(await h.inboxFree(paid.webhook.headers["webhook-id"]!)).toBe(true);
  });

  it("a store that fails: 503 without driver text, nothing recorded; a redelivery applies it", async () => {
    let down = false;
    const h = harness((store) => ({
      ...store,
      compareAndSwap: (...args: Parameters<MemoryStore["compareAndSwap"]>) => {
        if (down) return Promise.reject(new Error("SQLITE_BUSY: secret driver text"));
        return store.compareAndSwap(...args);
      },
    }));
    const { id, reference } = await h.link();
    const paid = await h.pay(reference);

    down = true;
    const failed = await h.deliver(paid.webhook);
    expect(failed.status).toBe(503);
    expect(failed.headers.get("retry-after")).toBe("1");
    const text = await failed.text();
    expect(JSON.parse(text)).toMatchObject({ error: { code: "store_unavailable" } });
    expect(text).not.toContain("SQLITE");
    expect(h.errors.length).toBeGreaterThan(0);
    expect((await h.links.get(SCOPE, id))._unsafeUnwrap().status).toBe("pending");

    down = false;
    const retried = await h.deliver(paid.webhook);
    expect(retried.status).toBe(200);
    expect(retried.headers.get("idempotent-replayed")).toBeNull();
    expect((await h.links.get(SCOPE, id))._unsafeUnwrap().status).toBe("paid");
    expect(await typesOf(h, id)).toEqual(["payment_link.created", "payment_link.paid"]);
  });

  it("a concurrent duplicate answers 409 with Retry-After; after the first one, the answer is replayed", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let held = false;
    const h = harness((store) => ({
      ...store,
      compareAndSwap: async (...args: Parameters<MemoryStore["compareAndSwap"]>) => {
        if (!held) {
          held = true;
          await gate;
        }
        return store.compareAndSwap(...args);
      },
    }));
    const { id, reference } = await h.link();
    const paid = await h.pay(reference);

    const first = h.deliver(paid.webhook);
    await vi.waitFor(() => expect(held).toBe(true), { timeout: 10_000 });
    const duplicate = await h.deliver(paid.webhook);
    expect(duplicate.status).toBe(409);
    expect(Number(duplicate.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await duplicate.json()).toMatchObject({ error: { code: "event_in_progress" } });

    release();
    const answered = await first;
    expect(answered.status).toBe(200);
    const replay = await h.deliver(paid.webhook);
    expect(replay.status).toBe(200);
    expect(await replay.text()).toBe(await answered.text());
    expect(await typesOf(h, id)).toEqual(["payment_link.created", "payment_link.paid"]);
  });

  it("a body over 256 KiB: 413, nothing written", async () => {
    const h = harness();
    await h.link();
    const eventsBefore = await h.events();
    const response = await h.deliver({
      rawBody: "x".repeat(PROVIDER_WEBHOOK_BODY_LIMIT_BYTES + 1),
      headers: { "content-type": "application/json" },
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: "body_too_large" } });
    expect(await h.events()).toEqual(eventsBefore);
  });
});

describe("the provider webhook paths", () => {
  it("answer other methods 405 with Allow, serve only the given providers, and are not in /openapi.json", async () => {
    const h = harness();
    const wrong = await h.app.fetch(new Request(`${BASE}/webhooks/test`));
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
    expect(await wrong.json()).toMatchObject({ error: { code: "method_not_allowed" } });

    const stripe = await h.app.fetch(new Request(`${BASE}/webhooks/stripe`, { method: "POST", body: "{}" }));
    expect(stripe.status).toBe(404);

    const document = await (await h.app.fetch(new Request(`${BASE}/openapi.json`))).text();
    expect(document).not.toContain("/webhooks/");
  });

  it("refuse a provider given twice or a name that is not a path segment, at construction", () => {
    const gateway = createTestGateway();
    const store = createMemoryStore();
    const base = {
      links: createPaymentLinks({ store }),
      idempotency: store,
      authenticate: staticKeys({}),
    };
    expect(() =>
      createPaylinkApp({
        ...base,
        providers: [
          { gateway, scope: SCOPE },
          { gateway, scope: OTHER },
        ],
      }),
    ).toThrow(RangeError);
    expect(() =>
      createPaylinkApp({ ...base, providers: [{ gateway: { ...gateway, provider: "a/b" }, scope: SCOPE }] }),
    ).toThrow(RangeError);
  });
});

describe("providerState on the payments API's reads only", () => {
  it("GET /payments/{id} and GET /payments show providerState when there is one; cancel and DNA keep their fields", async () => {
    const h = harness();
    const { id, reference } = await h.link();
    const paid = await h.pay(reference);
    expect((await h.deliver(paid.webhook)).status).toBe(200);
    const charge = (
      await h.links.create(SCOPE, {
        kind: "charge",
        customerId: "cus_1",
        provider: "test",
        amountSubtotal: 500,
        currency: "JPY",
      })
    )._unsafeUnwrap();
    const providerState = (await h.links.get(SCOPE, id))._unsafeUnwrap().providerState;
    expect(providerState).toMatchObject({ reference, paymentReference: paid.paymentReference });

    const one = (await (await get(h, `/payments/${id}`)).json()) as { data: Record<string, unknown> };
    expect(Object.keys(one.data)).toEqual([...SEED_000_FIELDS, "providerState"]);
    expect(one.data.providerState).toEqual(providerState);

    const list = (await (await get(h, "/payments")).json()) as { data: Record<string, unknown>[] };
    const byId = new Map(list.data.map((payment) => [payment.id, payment]));
    expect(byId.get(id)?.providerState).toEqual(providerState);
    // A payment without a provider object has exactly the payments API's fields.
    expect(Object.keys(byId.get(charge.id)!)).toEqual(SEED_000_FIELDS);
    const chargeOne = (await (await get(h, `/payments/${charge.id}`)).json()) as {
      data: Record<string, unknown>;
    };
    expect(Object.keys(chargeOne.data)).toEqual(SEED_000_FIELDS);

    // Writes keep the payments API's fields, even for a payment with a provider state.
    const open = await h.link();
    const canceled = await h.app.fetch(
      new Request(`${BASE}/payments/${open.id}/cancel`, {
        method: "POST",
        headers: { "x-api-key": KEYS.rw },
      }),
    );
    expect(canceled.status).toBe(200);
    const canceledBody = (await canceled.json()) as { data: Record<string, unknown> };
    expect(Object.keys(canceledBody.data)).toEqual(SEED_000_FIELDS);
    expect((await h.links.get(SCOPE, open.id))._unsafeUnwrap().providerState?.stop).toBe("pending");

    const dna = await h.app.fetch(
      new Request(`${BASE}/v1/payment-links/${id}`, { headers: { authorization: `Bearer ${KEYS.rw}` } }),
    );
    expect(dna.status).toBe(200);
    expect(Object.keys((await dna.json()) as object)).toEqual(SEED_004_FIELDS);
  });
});
