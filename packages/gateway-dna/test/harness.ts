import type { PaymentGateway } from "@paylink/core";
import { createDnaGateway, type DnaGateway, type DnaGatewayOptions } from "../src/index.js";
import { type FakeDna, type Outage, startFakeDna } from "./fake-dna.js";

/** A webhook as it reaches Paylink: the raw body and the lower-case headers. */
export interface Delivered {
  readonly rawBody: string;
  readonly headers: Record<string, string>;
}

/** The gateway-conformance harness shape (`@paylink/testing`), over the fake DNA. */
export interface DnaHarness {
  readonly gateway: PaymentGateway & DnaGateway;
  readonly fake: FakeDna;
  pay(reference: string): Promise<Delivered>;
  fail(reference: string): Promise<Delivered | undefined>;
  forged(reference: string, kind: "bad_signature" | "stale" | "missing_signature"): Promise<Delivered>;
  outage(kind: Outage): void;
  restore(): void;
  close(): Promise<void>;
}

const deliver = (body: unknown): Delivered => ({
  rawBody: JSON.stringify(body),
  headers: { "content-type": "application/json" },
});

/** Starts a fake DNA and a gateway pointed at it (both URLs), with a short timeout. */
export async function makeDnaHarness(overrides: Partial<DnaGatewayOptions> = {}): Promise<DnaHarness> {
  const fake = await startFakeDna();
  // outage() and restore() are synchronous in the harness shape, but closing and reopening the fake's
  // port is not: every request waits for the last switch to finish.
  let pending: Promise<void> = Promise.resolve();
  const fetchAfterSwitch: typeof fetch = async (input, init) => {
    await pending;
    return fetch(input, init);
  };
  const gateway = createDnaGateway({
    clientId: fake.clientId,
    clientSecret: fake.clientSecret,
    terminalId: fake.terminalId,
    apiBaseUrl: fake.baseUrl,
    authBaseUrl: fake.baseUrl,
    timeoutMs: 500,
    callbackUrl: "https://merchant.example/webhooks/dna",
    fetch: fetchAfterSwitch,
    ...overrides,
  });
  return {
    gateway,
    fake,
    async pay(reference) {
      await pending;
      return deliver(fake.pay(reference));
    },
    async fail(reference) {
      await pending;
      return deliver(fake.fail(reference));
    },
    async forged(reference, kind) {
      await pending;
      if (kind === "stale") {
        // DNA signs no timestamp (id, amount, currency, invoiceId, errorCode, success): a callback cannot
        // be "too old" by its signature, and a replay carries the same event id, which the inbox dedupes.
        throw new Error("DNA callbacks carry no signed timestamp: there is no stale callback to forge");
      }
      const genuine = fake.signedWith(reference, "not-the-client-secret");
      if (kind === "bad_signature") return deliver(genuine);
      const { signature: _dropped, ...unsigned } = genuine as Record<string, unknown>;
      return deliver(unsigned);
    },
    outage(kind) {
      pending = pending.then(() => fake.outage(kind));
    },
    restore() {
      pending = pending.then(() => fake.restore());
    },
    async close() {
      await pending;
      await fake.close();
    },
  };
}
