/**
 * The demo server: both API dialects of `@paylink/http` over the embedded SQLite store, server-rendered
 * pages (the merchant page `/`, the hosted payment page `/pay/{id}`, the lifecycle at `/lifecycle`; see
 * `web.ts`), one log line per request and a graceful stop. Every request is first checked against the
 * allowed hosts (`hosts.ts`): any other `Host` is refused before a page or the API sees it. With a
 * payment provider (`provider.ts`), links are hosted at it: created there, stopped there when canceled or
 * expired, late payments refunded there, and its webhooks come in at `POST /webhooks/<provider>`.
 */
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import {
  type Clock,
  createPaymentLinks,
  type IdempotencyStore,
  type PaymentLinks,
  type PaymentStore,
  systemClock,
} from "@paylink/core";
import type { DeliveryStore } from "@paylink/core/store";
import type { TestWebhook } from "@paylink/gateway-test";
import { createPaylinkApp, type ServerHandle, serve, staticKeys } from "@paylink/http";
import { createExpirySweep } from "@paylink/relay";
import { createPostgresStore } from "@paylink/store-postgres";
import { createSqliteStore } from "@paylink/store-sqlite";
import pg from "pg";
import { type Delivery, startDelivery } from "./delivery.js";
import { createDeliveryPages, registerCurl } from "./delivery-pages.js";
import { type AllowedHosts, allowedHosts, LOOPBACK_HOSTS, refuseOtherHosts } from "./hosts.js";
import {
  createDemoProvider,
  type DemoProvider,
  type ProviderConfig,
  providerBannerLine,
  TEST_PROVIDER_NOT_SHARED,
} from "./provider.js";
import { createReceiver } from "./receiver.js";
import { DEMO_ACCOUNT, DEMO_KEY, DEMO_PAYMENTS, DEMO_SCOPE, type DemoId, seedDemo } from "./seed.js";
import { createWebPages } from "./web.js";

/**
 * The demo's brake on guessing keys: failed API-key checks a client address may make per window, then 429
 * until the window frees (`authFailureLimit` in `@paylink/http`).
 */
export const DEMO_AUTH_FAILURE_LIMIT = { max: 20, windowMs: 60_000 } as const;

/** A store the demo can run on, and close when it stops. */
export type DemoStore = PaymentStore &
  IdempotencyStore &
  DeliveryStore & {
    close(): Promise<void>;
    /** Runs `work` while no other demo server on the same database runs its own (seeding at start). */
    exclusive<T>(work: () => Promise<T>): Promise<T>;
  };

/** The PostgreSQL advisory lock key the demo servers of one database seed under. */
const SEED_LOCK = 0x5061796c; // "Payl"

/**
 * Opens the demo's store, migrated: the PostgreSQL database at `pgUrl` when given (several demo servers
 * may share it), else the embedded SQLite file (its folder is created when missing).
 */
export async function openStore(dbFile: string, pgUrl?: string): Promise<DemoStore> {
  if (pgUrl !== undefined) {
    const pool = new pg.Pool({ connectionString: pgUrl, max: 10 });
    pool.on("error", (error) => console.error("[postgres] idle client error:", error.message));
    const store = createPostgresStore({ pool });
    try {
      await store.migrate();
    } catch (error) {
      await pool.end();
      throw error;
    }
    const exclusive = async <T>(work: () => Promise<T>): Promise<T> => {
      const client = await pool.connect();
      // A client whose unlock failed may still hold the session lock: it is destroyed, not pooled.
      let broken: Error | undefined;
      try {
        await client.query("SELECT pg_advisory_lock($1)", [SEED_LOCK]);
        try {
          return await work();
        } finally {
          await client.query("SELECT pg_advisory_unlock($1)", [SEED_LOCK]).catch((error: Error) => {
            broken = error;
          });
        }
      } finally {
        client.release(broken);
      }
    };
    return Object.assign(store, { close: () => pool.end(), exclusive });
  }
  mkdirSync(dirname(resolve(dbFile)), { recursive: true });
  const store = createSqliteStore({ filename: dbFile });
  store.migrate(); // fail fast on a file that is not a Paylink database
  const closeFile = store.close.bind(store);
  // One process seeds a new file at a time in practice (`pnpm start`); a race only repeats a seeded link's
  // insert, which fails and leaves that link as the other process wrote it.
  return Object.assign(store, {
    close: async () => closeFile(),
    exclusive: <T>(work: () => Promise<T>) => work(),
  });
}

/** The URL without its password, for the console. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(the PostgreSQL URL)";
  }
}

/**
 * `links` whose `create` names `provider` as every new link's provider: the provider's sinks act on their
 * own provider's links only (`payment.provider`), and every link this server makes is hosted at it,
 * whatever provider a client's `POST /payments` named. Charges have no provider object and keep theirs.
 */
function hostedAt(links: PaymentLinks, provider: string): PaymentLinks {
  return {
    ...links,
    create: (scope, input, options) =>
      links.create(scope, input.kind === "charge" ? input : { ...input, provider }, options),
  };
}

/** Options of {@link startDemoServer}. */
export interface DemoOptions {
  /** Port on 127.0.0.1; 0 picks a free one. */
  readonly port: number;
  /** SQLite file; its folder is created. Unused with `pgUrl`. */
  readonly dbFile: string;
  /** A PostgreSQL URL (`PAYLINK_PG_URL`): the demo runs on that database instead, migrating it. */
  readonly pgUrl?: string;
  /** A NATS URL (`PAYLINK_NATS_URL`): turns the NATS JetStream sink on. */
  readonly natsUrl?: string;
  /** Pauses between webhook attempts (`PAYLINK_WEBHOOK_RETRIES_MS`). Default: the Standard Webhooks schedule. */
  readonly retryScheduleMs?: readonly number[];
  /** How often the relay and the dispatcher look for other processes' work. Default 1 000 ms. */
  readonly deliveryPollMs?: number;
  readonly hostname?: string;
  /** Where the one-line-per-request log (and a line per provider answer) goes. Default: `console.log`. */
  readonly log?: (line: string) => void;
  /** Time source (tests). Default: core's `systemClock`. */
  readonly clock?: Clock;
  /**
   * Hostnames answered besides loopback (`PAYLINK_ALLOWED_HOSTS`, see `parseAllowedHosts`); a leading
   * dot allows subdomains too. The address the server listens on, unless a wildcard, is added.
   */
  readonly allowedHosts?: readonly string[];
  /**
   * The payment provider links are hosted at (`PAYLINK_PROVIDER`, read by `parseProvider`; `main.ts`
   * defaults it to the test provider). Default here: `none`, links without a provider object.
   */
  readonly provider?: ProviderConfig;
  /** Backoff of a failing relay sink (a provider in an outage). Default `DEMO_RELAY_BACKOFF` (1 → 10 s). */
  readonly deliveryBackoff?: { readonly firstMs: number; readonly maxMs: number };
  /**
   * How often `links.expireDue()` runs (`createExpirySweep`; default `DEMO_EXPIRY_SWEEP_MS`); `0` turns the
   * sweep off. A link expires
   * lazily on its next read anyway, but an expired link nobody reads would otherwise stay payable at its
   * provider and send no `payment_link.expired` webhook: the sweep expires it, which marks its stop pending.
   */
  readonly expirySweepMs?: number;
}

/** How often the demo expires due links (5 s): an expired link is stopped at its provider within seconds. */
export const DEMO_EXPIRY_SWEEP_MS = 5_000;

/** A running demo server. */
export interface DemoServer {
  readonly url: string;
  readonly port: number;
  /** What `main.ts` prints at start: URLs, the key, the seeded payments and three curl lines. */
  readonly banner: readonly string[];
  /** The three ready curl lines: cancel, the same again (no-op), cancel a charge (refused). */
  readonly curl: readonly string[];
  readonly links: PaymentLinks;
  /** The relay, the dispatcher and the webhook endpoints running in this process. */
  readonly delivery: Delivery;
  /** The curl line that registers the demo's receiver page as a webhook endpoint. */
  readonly registerCurl: string;
  /** The hosts it answers (and form posts may come from). */
  readonly hosts: AllowedHosts;
  /** The payment provider links are hosted at, or `undefined` (`none`). */
  readonly provider: DemoProvider | undefined;
  /** Stops accepting, finishes requests in flight, then closes the store. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the demo: opens (and seeds) the store, serves both dialects, and returns once ready. The test
 * provider with `pgUrl` is refused ({@link TEST_PROVIDER_NOT_SHARED}).
 */
export async function startDemoServer(options: DemoOptions): Promise<DemoServer> {
  if (options.pgUrl !== undefined && options.provider?.name === "test")
    throw new Error(TEST_PROVIDER_NOT_SHARED);
  const expirySweepMs = options.expirySweepMs ?? DEMO_EXPIRY_SWEEP_MS;
  if (!Number.isSafeInteger(expirySweepMs) || expirySweepMs < 0)
    throw new Error(`expirySweepMs must be a whole number of milliseconds ≥ 0, not ${expirySweepMs}`);
  const log = options.log ?? ((line: string) => console.log(line));
  const hostname = options.hostname ?? "127.0.0.1";
  // The address it listens on is a host it is served on (unless loopback, already in, or a wildcard,
  // which names no host). Built before the store opens: a bad name throws with nothing to clean up.
  const bound = hostname.includes(":") ? `[${hostname}]` : hostname;
  const skip = hostname === "0.0.0.0" || hostname === "::" || allowedHosts().allowsHost(bound);
  const hosts = allowedHosts([...(options.allowedHosts ?? []), ...(skip ? [] : [bound])]);
  const store = await openStore(options.dbFile, options.pgUrl);
  let handler: (request: Request, env?: object) => Promise<Response> = async () =>
    new Response("starting", { status: 503, headers: { "retry-after": "1" } });
  let server: ServerHandle;
  try {
    server = await serve({
      app: { fetch: (request, env) => handler(request, env) },
      port: options.port,
      hostname,
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  const base = server.url;
  const urlFor = (payment: { id: string }) => `${base}/pay/${payment.id}`;
  const clock = options.clock ?? systemClock;

  let delivery: Delivery;
  let provider: DemoProvider | undefined;
  try {
    provider = createDemoProvider(options.provider ?? { name: "none" }, { base, clock });
    // Several demo servers may start on one PostgreSQL database at once: one seeds, the others then find
    // every demo payment there.
    await store.exclusive(() => seedDemo(store, { urlFor, clock }));
    delivery = await startDelivery(store, {
      ...(options.natsUrl === undefined ? {} : { natsUrl: options.natsUrl }),
      ...(options.retryScheduleMs === undefined ? {} : { retryScheduleMs: options.retryScheduleMs }),
      ...(options.deliveryPollMs === undefined ? {} : { pollMs: options.deliveryPollMs }),
      ...(options.deliveryBackoff === undefined ? {} : { backoff: options.deliveryBackoff }),
      ...(provider === undefined
        ? {}
        : {
            gateway: provider.gateway,
            clock,
            onProviderOutcome: (outcome) => {
              // Retries are the relay's (its onError says so); already-recorded ones are redeliveries.
              if (outcome.outcome === "retry_later" || outcome.outcome === "already_recorded") return;
              const about = outcome.sink === "stop" ? outcome.reference : outcome.paymentReference;
              const detail = outcome.detail ?? outcome.error?.code;
              log(
                `[${provider!.name}] ${outcome.sink} ${outcome.paymentId} ${about}: ${outcome.outcome}${detail === undefined ? "" : ` (${detail})`}`,
              );
            },
          }),
    });
  } catch (error) {
    await server.close();
    await store.close();
    throw error;
  }
  // Every commit through these links wakes the relay in this process: events leave at once. With a
  // provider, `create` makes the provider's object first, and a cancel marks its stop pending.
  const plain = createPaymentLinks({
    store: delivery.relay.notifying(store),
    clock,
    urlFor,
    ...(provider === undefined ? {} : { gateway: provider.gateway }),
  });
  const links = provider === undefined ? plain : hostedAt(plain, provider.name);
  // Off with 0; else expired links are stopped at the provider without waiting for a read.
  const expirySweep =
    expirySweepMs === 0
      ? undefined
      : createExpirySweep({
          links,
          everyMs: expirySweepMs,
          onError: (error) => log(`[expiry] sweep failed: ${error.code}`),
          onExpired: (count) => log(`[expiry] ${count} due link(s) expired`),
        });
  const receiver = createReceiver({
    endpoints: (scope) => store.listEndpoints(scope),
    scope: DEMO_SCOPE,
    clock,
  });
  const deliveryPages = createDeliveryPages({
    scope: DEMO_SCOPE,
    events: store,
    endpoints: delivery.endpoints,
    relay: delivery.relay,
    receiver,
    hosts,
    base,
    apiKey: DEMO_KEY,
  });
  const api = createPaylinkApp({
    webhooks: delivery.endpoints,
    events: store,
    links,
    idempotency: store,
    clock,
    docsBaseUrl: base,
    title: "Paylink demo API",
    authenticate: staticKeys({ [DEMO_KEY]: { accountId: DEMO_ACCOUNT, livemode: false, canWrite: true } }),
    authFailureLimit: DEMO_AUTH_FAILURE_LIMIT,
    ...(provider === undefined ? {} : { providers: [{ gateway: provider.gateway, scope: DEMO_SCOPE }] }),
  });

  /**
   * A webhook of the test provider, delivered as the provider would: a POST of its raw body and headers
   * to `/webhooks/test`, through the same handler as any request (host check, log line, the API's intake).
   */
  const deliverWebhook = (webhook: TestWebhook) =>
    handler(
      new Request(provider!.webhookUrl, {
        method: "POST",
        // `host` as a client sends it (the host check answers a request without one 400).
        headers: { host: new URL(base).host, "content-type": "application/json", ...webhook.headers },
        body: webhook.rawBody,
      }),
    );
  const pages = createWebPages({
    links,
    scope: DEMO_SCOPE,
    clock,
    hosts,
    lag: () => delivery.relay.lag(),
    ...(provider === undefined ? {} : { provider: { ...provider, deliverWebhook } }),
  });

  /**
   * The host check first (DNS rebinding: another `Host` gets 421 before anything is read or changed),
   * then the HTML pages (`/`, `/pay/…`, `/merchant/…`, `/lifecycle`), then the API.
   */
  async function route(request: Request, env?: object): Promise<Response> {
    return (
      refuseOtherHosts(hosts, request) ??
      (await deliveryPages(request)) ??
      (await pages(request)) ??
      api.fetch(request, env)
    );
  }

  // One line per request: method, path (never the query, never a header), status, milliseconds.
  handler = async (request, env) => {
    const started = performance.now();
    let status = 500;
    try {
      const response = await route(request, env);
      status = response.status;
      return response;
    } finally {
      const path = new URL(request.url).pathname;
      const shown = path.length > 120 ? `${path.slice(0, 120)}…` : path;
      log(`${request.method} ${shown} ${status} ${(performance.now() - started).toFixed(1)}ms`);
    }
  };

  const curl = [
    `curl -X POST ${base}/payments/pay_demo_pending/cancel -H "x-api-key: ${DEMO_KEY}"`,
    `curl -X POST ${base}/payments/pay_demo_pending/cancel -H "x-api-key: ${DEMO_KEY}"`,
    `curl -X POST ${base}/payments/pay_demo_charge/cancel -H "x-api-key: ${DEMO_KEY}"`,
  ];
  const statuses: string[] = [];
  for (const id of Object.keys(DEMO_PAYMENTS) as DemoId[]) {
    const current = await links.get(DEMO_SCOPE, id);
    const status = current.isOk() ? current.value.status : "missing";
    const kind = current.isOk() && current.value.kind === "charge" ? " (charge)" : "";
    statuses.push(`    ${id.padEnd(20)} ${`${status}${kind}`.padEnd(20)} ${base}/pay/${id}`);
  }
  const banner = [
    `Paylink demo server on ${base}`,
    `  Merchant page   ${base}/   (payments, 50 a page, Cancel buttons, create a link)`,
    `  Lifecycle       ${base}/lifecycle   (the diagram generated from the machine, with counts)`,
    `  API reference   ${base}/docs`,
    `  OpenAPI         ${base}/openapi.json`,
    `  Payments API    ${base}/payments/{id}/cancel   (x-api-key or Authorization: Bearer)`,
    `  DNA Payments    ${base}/v1/payment-links/{id}/cancellation   (Authorization: Bearer)`,
    options.pgUrl === undefined
      ? `  Database        ${options.dbFile} (SQLite; delete it to start over)`
      : `  Database        ${redactUrl(options.pgUrl)} (PostgreSQL, migrated; other demo servers may share it)`,
    providerBannerLine(provider),
    `  Events          ${base}/merchant/events   (relay lag, webhook deliveries, events; sinks: ${delivery.sinks.join(", ")})`,
    `  Webhooks        ${base}/demo/webhooks   (a receiver that verifies signatures)`,
    `  Allowed hosts   ${[...LOOPBACK_HOSTS, ...hosts.extra].join(", ")}  (any other Host: 421; add names with PAYLINK_ALLOWED_HOSTS)`,
    `  API key         ${DEMO_KEY}  (test mode, account ${DEMO_ACCOUNT})`,
    "  Payments        (hosted pages: test card 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined)",
    ...statuses,
    "",
    "Try: cancel a pending link, the same again (a no-op), then a charge (refused):",
    ...curl.map((line) => `  ${line}`),
    "",
    "Register the receiver page as a webhook endpoint, then cancel a link and watch /demo/webhooks:",
    `  ${registerCurl(base, DEMO_KEY)}`,
    "",
  ];

  // Started last: nothing after it can fail and leave its timer behind.
  expirySweep?.start();
  let closing: Promise<void> | undefined;
  return {
    url: base,
    port: server.port,
    banner,
    curl,
    links,
    delivery,
    registerCurl: registerCurl(base, DEMO_KEY),
    hosts,
    provider,
    close() {
      closing ??= (async () => {
        await server.close();
        await expirySweep?.stop();
        await delivery.stop();
        await store.close();
      })();
      return closing;
    },
  };
}
