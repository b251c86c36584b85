/**
 * The demo server: both API dialects of `@paylink/http` over the embedded SQLite store, server-rendered
 * pages (the merchant page `/`, the hosted payment page `/pay/{id}`, the lifecycle at `/lifecycle`; see
 * `web.ts`), one log line per request and a graceful stop. Every request is first checked against the
 * allowed hosts (`hosts.ts`): any other `Host` is refused before a page or the API sees it.
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
import { createPaylinkApp, type ServerHandle, serve, staticKeys } from "@paylink/http";
import { createSqliteStore } from "@paylink/store-sqlite";
import { type AllowedHosts, allowedHosts, LOOPBACK_HOSTS, refuseOtherHosts } from "./hosts.js";
import { DEMO_ACCOUNT, DEMO_KEY, DEMO_PAYMENTS, DEMO_SCOPE, type DemoId, seedDemo } from "./seed.js";
import { createWebPages } from "./web.js";

/**
 * The demo's brake on guessing keys: failed API-key checks a client address may make per window, then 429
 * until the window frees (`authFailureLimit` in `@paylink/http`).
 */
export const DEMO_AUTH_FAILURE_LIMIT = { max: 20, windowMs: 60_000 } as const;

/** A store the demo can run on, and close when it stops. */
export type DemoStore = PaymentStore & IdempotencyStore & { close(): void };

/** Opens the demo's store: the embedded SQLite file (its folder is created when missing). */
export function openStore(dbFile: string): DemoStore {
  mkdirSync(dirname(resolve(dbFile)), { recursive: true });
  const store = createSqliteStore({ filename: dbFile });
  store.migrate(); // fail fast on a file that is not a Paylink database
  return store;
}

/** Options of {@link startDemoServer}. */
export interface DemoOptions {
  /** Port on 127.0.0.1; 0 picks a free one. */
  readonly port: number;
  /** SQLite file; its folder is created. */
  readonly dbFile: string;
  readonly hostname?: string;
  /** Where the one-line-per-request log goes. Default: `console.log`. */
  readonly log?: (line: string) => void;
  /** Time source (tests). Default: core's `systemClock`. */
  readonly clock?: Clock;
  /**
   * Hostnames answered besides loopback (`PAYLINK_ALLOWED_HOSTS`, see `parseAllowedHosts`); a leading
   * dot allows subdomains too. The address the server listens on, unless a wildcard, is added.
   */
  readonly allowedHosts?: readonly string[];
}

/** A running demo server. */
export interface DemoServer {
  readonly url: string;
  readonly port: number;
  /** What `main.ts` prints at start: URLs, the key, the seeded payments and three curl lines. */
  readonly banner: readonly string[];
  /** The three ready curl lines: cancel, the same again (no-op), cancel a charge (refused). */
  readonly curl: readonly string[];
  readonly links: PaymentLinks;
  /** The hosts it answers (and form posts may come from). */
  readonly hosts: AllowedHosts;
  /** Stops accepting, finishes requests in flight, then closes the store. Idempotent. */
  close(): Promise<void>;
}

/** Starts the demo: opens (and seeds) the store, serves both dialects, and returns once ready. */
export async function startDemoServer(options: DemoOptions): Promise<DemoServer> {
  const log = options.log ?? ((line: string) => console.log(line));
  const hostname = options.hostname ?? "127.0.0.1";
  // The address it listens on is a host it is served on (unless loopback, already in, or a wildcard,
  // which names no host). Built before the store opens: a bad name throws with nothing to clean up.
  const bound = hostname.includes(":") ? `[${hostname}]` : hostname;
  const skip = hostname === "0.0.0.0" || hostname === "::" || allowedHosts().allowsHost(bound);
  const hosts = allowedHosts([...(options.allowedHosts ?? []), ...(skip ? [] : [bound])]);
  const store = openStore(options.dbFile);
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
    store.close();
    throw error;
  }
  const base = server.url;
  const urlFor = (payment: { id: string }) => `${base}/pay/${payment.id}`;
  const clock = options.clock ?? systemClock;

  try {
    await seedDemo(store, { urlFor, clock });
  } catch (error) {
    await server.close();
    store.close();
    throw error;
  }
  const links = createPaymentLinks({ store, clock, urlFor });
  const api = createPaylinkApp({
    links,
    idempotency: store,
    clock,
    docsBaseUrl: base,
    title: "Paylink demo API",
    authenticate: staticKeys({ [DEMO_KEY]: { accountId: DEMO_ACCOUNT, livemode: false, canWrite: true } }),
    authFailureLimit: DEMO_AUTH_FAILURE_LIMIT,
  });

  const pages = createWebPages({ links, scope: DEMO_SCOPE, clock, hosts });

  /**
   * The host check first (DNS rebinding: another `Host` gets 421 before anything is read or changed),
   * then the HTML pages (`/`, `/pay/…`, `/merchant/…`, `/lifecycle`), then the API.
   */
  async function route(request: Request, env?: object): Promise<Response> {
    return refuseOtherHosts(hosts, request) ?? (await pages(request)) ?? api.fetch(request, env);
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
    `  Database        ${options.dbFile} (SQLite; delete it to start over)`,
    `  Allowed hosts   ${[...LOOPBACK_HOSTS, ...hosts.extra].join(", ")}  (any other Host: 421; add names with PAYLINK_ALLOWED_HOSTS)`,
    `  API key         ${DEMO_KEY}  (test mode, account ${DEMO_ACCOUNT})`,
    "  Payments        (hosted pages: test card 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined)",
    ...statuses,
    "",
    "Try: cancel a pending link, the same again (a no-op), then a charge (refused):",
    ...curl.map((line) => `  ${line}`),
    "",
  ];

  let closing: Promise<void> | undefined;
  return {
    url: base,
    port: server.port,
    banner,
    curl,
    links,
    hosts,
    close() {
      closing ??= (async () => {
        await server.close();
        store.close();
      })();
      return closing;
    },
  };
}
