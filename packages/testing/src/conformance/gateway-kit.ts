import assert from "node:assert/strict";
import {
  createPaymentLinks,
  type Payment,
  type PaymentGateway,
  type PaymentStore,
  type StoredPayment,
} from "@paylink/core";
import { sampleLinkInput } from "../arbitraries.js";

/** A provider webhook as the provider sends it: the raw body and the headers, names in lower case. */
export interface ProviderWebhook {
  readonly rawBody: string;
  readonly headers: Record<string, string>;
}

/** How a harness can make its provider misbehave; see {@link GatewayHarness.outage}. */
export type OutageKind = "refused" | "500" | "429" | "hang";

/** The ways a harness forges a webhook; see {@link GatewayHarness.forged}. */
export type ForgeryKind = "bad_signature" | "stale" | "missing_signature";

/**
 * What `gatewayConformance` runs each test against: a gateway, and the customer's and the network's
 * side of its provider (a local fake of the provider's API, or an in-process provider). Made fresh for
 * every test and closed after it.
 */
export interface GatewayHarness {
  /** The gateway under test, configured to talk to this harness's provider. */
  readonly gateway: PaymentGateway;
  /**
   * The customer pays the provider object `reference` in full; answers the provider webhook that
   * reports it (raw body + lower-case headers), signed as the provider signs. Rejects when the provider
   * refuses the payment because the object takes no more money (stopped, or paid already).
   */
  pay(reference: string): Promise<ProviderWebhook>;
  /** A customer's payment attempt fails; the webhook that reports it (or undefined if the provider sends none). */
  fail(reference: string): Promise<ProviderWebhook | undefined>;
  /**
   * A webhook for `reference` reporting a successful payment (so accepting it would do harm) whose
   * signature is wrong / too old (signed correctly, more than the tolerance ago) / missing.
   */
  forged(reference: string, kind: ForgeryKind): Promise<ProviderWebhook>;
  /**
   * Makes the provider answer every call this way until `restore()`: refuse connections, 500, 429 with
   * Retry-After 2, or hang past the gateway's timeout (`callTimeoutMs` of the suite's options).
   */
  outage(kind: OutageKind): void;
  /** Ends an outage: the provider answers normally again. */
  restore(): void;
  /** Frees servers and sockets. */
  close(): Promise<void>;
}

/** What the gateway topic files register their tests with; built once per suite by `gatewayConformance`. */
export interface GatewaySuite {
  /**
   * A test run on a fresh harness, closed afterwards. `skip(reason)` ends it as skipped, visibly (for a
   * provider that lacks what the test needs).
   */
  it(name: string, body: (harness: GatewayHarness, skip: (reason: string) => never) => Promise<void>): void;
  /** Currencies the suite makes links in (each at least once per test that pays). */
  readonly currencies: readonly string[];
  /** The gateway's own timeout of one provider call, as the harness configured it. */
  readonly callTimeoutMs: number;
  /** How much later than `callTimeoutMs` an answer may come before it counts as a hang. */
  readonly marginMs: number;
  /** What the provider cannot do, each with the reason; the tests that need it are skipped with it. */
  readonly unsupported: GatewayCapabilities;
}

/** Capabilities some providers lack, each with the reason given by the gateway's author. */
export interface GatewayCapabilities {
  /** The provider signs no timestamp, so no webhook can be stale: the `stale` forgery is not tested. */
  readonly staleWebhooks?: string;
  /**
   * The signature covers fields, not the raw bytes: a byte that changes nothing in the JSON is not tested
   * (a changed field still is).
   */
  readonly rawBodySignatures?: string;
  /**
   * The gateway refuses every refund (the provider cannot deduplicate them): the idempotency-key tests
   * are skipped, and outages are tested on createLink and stopLink only.
   */
  readonly refunds?: string;
}

/**
 * A store that only keeps what `create` inserts: the suite uses core's own `create` to make its
 * payments (so they are exactly what Paylink hands a gateway) without depending on a store package.
 */
function scratchStore(): PaymentStore {
  const kept = new Map<string, StoredPayment>();
  return {
    get: async (_scope, id) => kept.get(id),
    insert: async (_scope, record) => {
      if (kept.has(record.payment.id)) return false;
      kept.set(record.payment.id, record);
      return true;
    },
    compareAndSwap: async () => false,
    findDue: async () => [],
    readEvents: async () => [],
    list: async () => [],
  };
}

const links = createPaymentLinks({ store: scratchStore() });
const SCOPE = { accountId: "acct_gateway_conformance", livemode: false };

/** A new pending payment link made by core's `create`, in `currency`, for `provider`. */
export async function newLink(provider: string, currency = "GBP"): Promise<Payment> {
  const created = await links.create(
    SCOPE,
    sampleLinkInput(new Date(), { provider, currency, description: `Conformance link in ${currency}` }),
  );
  if (created.isErr()) throw new Error(`gateway conformance: create failed: ${created.error.message}`);
  return created.value;
}

/**
 * Awaits a gateway call that must answer in time: fails with `law` when it rejects (the port's methods
 * answer values, never throw) or when it has not answered after `deadlineMs` (a hang).
 */
export async function answer<T>(law: string, call: () => Promise<T>, deadlineMs: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), deadlineMs);
  });
  try {
    const settled = await Promise.race([
      call().then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      late,
    ]);
    if (settled === "late") assert.fail(`${law} (no answer within ${deadlineMs} ms: a hang)`);
    if ("error" in settled)
      assert.fail(
        `${law} (but it threw: ${settled.error instanceof Error ? settled.error.message : String(settled.error)})`,
      );
    return settled.value;
  } finally {
    clearTimeout(timer);
  }
}

/** Narrows `result` to the outcome `expected`, failing with `law` and what came instead. */
export function expectOutcome<R extends { readonly outcome: string }, O extends R["outcome"]>(
  result: R,
  expected: O,
  law: string,
): Extract<R, { outcome: O }> {
  if (result.outcome !== expected) assert.fail(`${law} (got ${JSON.stringify(result)})`);
  return result as Extract<R, { outcome: O }>;
}

/** Calls `pay`, failing with `law` if the harness rejects (the provider refused the payment). */
export async function paid(harness: GatewayHarness, reference: string, law: string) {
  try {
    return await harness.pay(reference);
  } catch (error) {
    assert.fail(`${law} (the provider refused the payment: ${(error as Error).message})`);
  }
}
