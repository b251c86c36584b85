import { createPaymentLinks, type PaymentLinks, type Scope } from "@paylink/core";
import { createPaylinkApp, type PaylinkAppOptions, staticKeys } from "@paylink/http";
import { createMemoryStore, type MemoryStore, type MemoryStoreOptions } from "@paylink/store-memory";
import { type FakeClock, fakeClock, sampleLinkInput } from "@paylink/testing";

export const BASE = "http://paylink.test";
export const DOCS = "https://docs.example.com/paylink";

export const KEYS = {
  rw: "sk_test_rw_0123456789",
  ro: "sk_test_ro_0123456789",
  live: "sk_live_rw_0123456789",
  other: "sk_test_other_0123456789",
} as const;

export const SCOPE: Scope = { accountId: "acct_test", livemode: false };

/** The seed-000 payment fields, in the seed's order. */
export const SEED_000_FIELDS = [
  "id",
  "customerId",
  "kind",
  "status",
  "provider",
  "amountSubtotal",
  "taxAmount",
  "amountTotal",
  "currency",
  "description",
  "metadata",
  "url",
  "expiresAt",
  "createdAt",
  "updatedAt",
  "object",
  "livemode",
];

/** The seed-004 response fields, in the seed's order. */
export const SEED_004_FIELDS = [
  "id",
  "amount",
  "currency",
  "invoiceId",
  "terminalId",
  "customerName",
  "description",
  "createdDate",
  "expirationDate",
  "viewedDate",
  "attemptedDate",
  "paidDate",
  "cancelledDate",
  "status",
  "url",
];

export const ERROR_A_KEYS = ["type", "code", "message", "param", "details", "doc_url"];

export interface Setup {
  store: MemoryStore;
  clock: FakeClock;
  links: PaymentLinks;
  app: ReturnType<typeof createPaylinkApp>;
  /** Sends a request through `app.fetch`. */
  send(method: string, path: string, init?: SendInit): Promise<Response>;
  /** Creates one payment per state in SCOPE; returns their ids by state. */
  seed(): Promise<Record<StateName, string>>;
  /** Every event in the store's outbox. */
  events(): Promise<unknown[]>;
}

export type StateName =
  | "pending"
  | "viewed"
  | "attempted"
  | "processing"
  | "paid"
  | "canceled"
  | "expired"
  | "charge";

export interface SendInit {
  key?: string | null;
  bearer?: string;
  headers?: Record<string, string>;
  /** A JSON body (sets content-type) … */
  json?: unknown;
  /** … or a raw one. */
  body?: string;
}

/**
 * A memory store, a fake clock, the commands and the app over them. `overrides` replace options of the
 * app; as a function, it gets the store and clock first (to wire `webhooks` and `events` to them).
 */
export function setup(
  overrides:
    | Partial<PaylinkAppOptions>
    | ((store: MemoryStore, clock: FakeClock) => Partial<PaylinkAppOptions>) = {},
  storeOptions: MemoryStoreOptions = {},
): Setup {
  const store = createMemoryStore(storeOptions);
  const clock = fakeClock(new Date("2026-01-01T00:00:00.000Z"));
  let n = 0;
  const links = createPaymentLinks({
    store,
    clock,
    ids: {
      paymentId: () => `pay_${String(++n).padStart(4, "0")}`,
      eventId: () => `evt_${String(++n).padStart(6, "0")}`,
    },
    urlFor: (payment) => `https://pay.example/${payment.id}`,
  });
  const app = createPaylinkApp({
    links,
    idempotency: store,
    clock,
    docsBaseUrl: DOCS,
    onError: () => undefined,
    authenticate: staticKeys({
      [KEYS.rw]: { accountId: "acct_test", livemode: false, canWrite: true },
      [KEYS.ro]: { accountId: "acct_test", livemode: false, canWrite: false },
      [KEYS.live]: { accountId: "acct_test", livemode: true, canWrite: true },
      [KEYS.other]: { accountId: "acct_other", livemode: false, canWrite: true },
    }),
    ...(typeof overrides === "function" ? overrides(store, clock) : overrides),
  });

  const send = async (method: string, path: string, init: SendInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (init.bearer !== undefined) headers.set("authorization", `Bearer ${init.bearer}`);
    else if (init.key !== null && !headers.has("authorization") && !headers.has("x-api-key")) {
      headers.set("x-api-key", init.key ?? KEYS.rw);
    }
    let body: string | undefined = init.body;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
    }
    return app.fetch(new Request(`${BASE}${path}`, { method, headers, body }));
  };

  const seed = async () => {
    const link = async (extra: Record<string, unknown> = {}) =>
      (
        await links.create(
          SCOPE,
          sampleLinkInput(clock.now(), { expiresAt: new Date(clock.now().getTime() + 86_400_000), ...extra }),
        )
      )._unsafeUnwrap().id;
    const ids = {} as Record<StateName, string>;
    ids.pending = await link();
    ids.viewed = await link();
    await links.view(SCOPE, ids.viewed);
    ids.attempted = await link();
    await links.startPayment(SCOPE, ids.attempted);
    await links.paymentFailed(SCOPE, ids.attempted);
    ids.processing = await link();
    await links.startPayment(SCOPE, ids.processing);
    ids.paid = await link();
    await links.startPayment(SCOPE, ids.paid);
    await links.paymentSucceeded(SCOPE, ids.paid);
    ids.canceled = await link();
    await links.cancel(SCOPE, ids.canceled);
    ids.expired = await link({ expiresAt: new Date(clock.now().getTime() + 1000) });
    clock.advance(2000);
    await links.get(SCOPE, ids.expired);
    ids.charge = (
      await links.create(SCOPE, {
        kind: "charge",
        customerId: "cus_1",
        provider: "stripe",
        amountSubtotal: 500,
        currency: "JPY",
      })
    )._unsafeUnwrap().id;
    return ids;
  };

  const events = async () => store.readEvents(0, 1_000_000);
  return { store, clock, links, app, send, seed, events };
}
