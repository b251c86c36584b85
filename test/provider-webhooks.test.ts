/**
 * `POST /webhooks/<provider>` with each real gateway behind it (Stripe on the real `stripe` SDK against the
 * local fake of its API, DNA Payments against its local fake, and the built-in test provider), tried as a
 * provider and as an attacker would: genuine webhooks applied once however often they come, out of order
 * with each other and with a cancel; forged, stale, unsigned and altered ones refused with 400 and nothing
 * written; unknown types and other accounts' payments acknowledged and ignored with nothing written.
 */
import { createPaymentLinks, type Scope } from "@paylink/core";
import { createPaylinkApp, staticKeys } from "@paylink/http";
import { createMemoryStore } from "@paylink/store-memory";
import { type GatewayHarness, sampleLinkInput } from "@paylink/testing";
import { afterEach, describe, expect, it } from "vitest";
import { makeDnaHarness } from "../packages/gateway-dna/test/harness.js";
import { stripeHarness } from "../packages/gateway-stripe/test/harness.js";
import { testGatewayHarness } from "../packages/gateway-test/test/harness.js";

const scope: Scope = { accountId: "acct_hooks", livemode: false };
const otherScope: Scope = { accountId: "acct_other", livemode: false };

const harnesses: [string, () => Promise<GatewayHarness>, { stale: boolean }][] = [
  ["stripe", () => stripeHarness(), { stale: true }],
  ["dna", () => makeDnaHarness(), { stale: false }],
  ["test", async () => testGatewayHarness(), { stale: true }],
];

let open: GatewayHarness | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

async function setUp(make: () => Promise<GatewayHarness>) {
  const harness = await make();
  open = harness;
  const { gateway } = harness;
  const store = createMemoryStore();
  const links = createPaymentLinks({ store, gateway });
  const app = createPaylinkApp({
    links,
    idempotency: store,
    authenticate: staticKeys({}),
    providers: [{ gateway, scope }],
    onError: () => undefined,
  });
  const link = async (at: Scope = scope) => {
    const payment = (
      await links.create(at, sampleLinkInput(new Date(), { provider: gateway.provider, currency: "GBP" }))
    )._unsafeUnwrap();
    return { id: payment.id, reference: payment.providerState?.reference ?? "" };
  };
  const deliver = (webhook: { rawBody: string; headers: Record<string, string> }) =>
    app.fetch(
      new Request(`http://paylink.test/webhooks/${gateway.provider}`, {
        method: "POST",
        headers: webhook.headers,
        body: webhook.rawBody,
      }),
    );
  /** Everything a webhook could write: the outbox and every payment of both scopes. */
  const snapshot = async () =>
    JSON.stringify([
      await store.readEvents(0, 10_000),
      (await links.list(scope, { limit: 100 }))._unsafeUnwrap(),
      (await links.list(otherScope, { limit: 100 }))._unsafeUnwrap(),
    ]);
  const types = async (id: string) =>
    (await store.readEvents(0, 10_000)).filter((s) => s.event.paymentId === id).map((s) => s.event.type);
  return { harness, links, store, link, deliver, snapshot, types };
}

describe.each(harnesses)("POST /webhooks/%s", (name, make, can) => {
  it("a genuine payment webhook pays the link once, however often it comes", async () => {
    const h = await setUp(make);
    const { id, reference } = await h.link();
    const webhook = await h.harness.pay(reference);
    for (let i = 0; i < 3; i++) {
      const response = await h.deliver(webhook);
      expect(response.status).toBe(200);
    }
    const paid = (await h.links.get(scope, id))._unsafeUnwrap();
    expect(paid.status).toBe("paid");
    expect(paid.providerState?.paymentReference).toBeTruthy();
    expect((await h.types(id)).filter((type) => type === "payment_link.paid")).toHaveLength(1);
  });

  it("a payment after the local cancel is one late payment, the status stays canceled", async () => {
    const h = await setUp(make);
    const { id, reference } = await h.link();
    (await h.links.cancel(scope, id))._unsafeUnwrap();
    // The stop has not reached the provider yet: the customer pays there.
    const webhook = await h.harness.pay(reference);
    expect((await h.deliver(webhook)).status).toBe(200);
    expect((await h.deliver(webhook)).status).toBe(200);
    const late = (await h.links.get(scope, id))._unsafeUnwrap();
    expect(late.status).toBe("canceled");
    expect(late.providerState).toMatchObject({ stop: "pending" });
    expect(late.providerState?.paymentReference).toBeTruthy();
    expect((await h.types(id)).filter((type) => type === "payment_link.late_payment")).toHaveLength(1);
  });

  it("a failure reported after the payment changes nothing: the machine decides, not the arrival order", async () => {
    const h = await setUp(make);
    const { id, reference } = await h.link();
    let failed: Awaited<ReturnType<GatewayHarness["fail"]>>;
    let paid: Awaited<ReturnType<GatewayHarness["pay"]>>;
    if (name === "stripe") {
      // A Stripe link takes one completed session, so a failed bank debit and a card payment cannot both
      // happen on it: the failure is the same session's, reported (signed) after the payment's.
      paid = await h.harness.pay(reference);
      const fake = (h.harness as Awaited<ReturnType<typeof stripeHarness>>).fake;
      const session = (JSON.parse(paid.rawBody) as { data: { object: Record<string, unknown> } }).data.object;
      failed = fake.webhook("checkout.session.async_payment_failed", {
        ...session,
        payment_status: "unpaid",
      });
    } else {
      failed = await h.harness.fail(reference);
      paid = await h.harness.pay(reference);
    }
    expect((await h.deliver(paid)).status).toBe(200);
    const before = await h.snapshot();
    if (failed !== undefined) expect((await h.deliver(failed)).status).toBe(200);
    expect((await h.links.get(scope, id))._unsafeUnwrap().status).toBe("paid");
    // A late failure may record nothing at all, so the whole store is as it was.
    expect(await h.snapshot()).toBe(before);
  });

  it.each(["bad_signature", "missing_signature", "stale"] as const)(
    "a %s webhook is 400 and writes nothing",
    async (kind) => {
      if (kind === "stale" && !can.stale) return;
      const h = await setUp(make);
      const { reference } = await h.link();
      const before = await h.snapshot();
      const response = await h.deliver(await h.harness.forged(reference, kind));
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: { code: string } };
      expect(body.error.code).toMatch(/^signature_(invalid|missing|stale)$|^body_malformed$/);
      expect(await h.snapshot()).toBe(before);
    },
  );

  it("a body altered after signing is 400 and writes nothing; the genuine one still applies after it", async () => {
    const h = await setUp(make);
    const { id, reference } = await h.link();
    const webhook = await h.harness.pay(reference);
    const before = await h.snapshot();
    // Change one digit of the body (an amount, an id): the signature no longer matches.
    const altered = webhook.rawBody.replace(/\d(?=\d*[^\d]*$)/, (digit) => String((Number(digit) + 1) % 10));
    expect(altered).not.toBe(webhook.rawBody);
    const response = await h.deliver({ rawBody: altered, headers: webhook.headers });
    expect(response.status).toBe(400);
    expect(await h.snapshot()).toBe(before);
    expect((await h.deliver(webhook)).status).toBe(200);
    expect((await h.links.get(scope, id))._unsafeUnwrap().status).toBe("paid");
  });

  it("a genuine webhook for a payment of another account is acknowledged, ignored, and writes nothing", async () => {
    const h = await setUp(make);
    // A link this app's provider account never made: another Paylink account's, paid at the provider.
    const foreign = await h.link(otherScope);
    const webhook = await h.harness.pay(foreign.reference);
    const before = await h.snapshot();
    const response = await h.deliver(webhook);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ received: true, ignored: "unknown_payment" });
    expect(await h.snapshot()).toBe(before);
    expect((await h.links.get(otherScope, foreign.id))._unsafeUnwrap().status).toBe("pending");
  });
});

describe("POST /webhooks/stripe: an event type Paylink does not act on", () => {
  it("is acknowledged with 200, ignored, and writes nothing", async () => {
    const h = await setUp(() => stripeHarness());
    const fake = (h.harness as Awaited<ReturnType<typeof stripeHarness>>).fake;
    const before = await h.snapshot();
    const webhook = fake.webhook("payment_intent.succeeded", { id: "pi_1", object: "payment_intent" });
    const response = await h.deliver(webhook);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ received: true, ignored: "payment_intent.succeeded" });
    expect(await h.snapshot()).toBe(before);
  });
});
