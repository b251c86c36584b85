import type { Payment } from "@paylink/core";

/** DNA's hosts: `live` takes money, `test` is DNA's sandbox. */
export const DNA_HOSTS = {
  live: { apiBaseUrl: "https://api.dnapayments.com", authBaseUrl: "https://oauth.dnapayments.com" },
  test: { apiBaseUrl: "https://test-api.dnapayments.com", authBaseUrl: "https://test-oauth.dnapayments.com" },
} as const;

/** Options of {@link createDnaGateway}. */
export interface DnaGatewayOptions {
  /** OAuth client id of the DNA account. */
  readonly clientId: string;
  /** OAuth client secret; also the default key of callback signatures (`callbackSecret`). */
  readonly clientSecret: string;
  /** The terminal every link is created on; it must belong to the client id. */
  readonly terminalId: string;
  /** Which of DNA's hosts the base URLs default to. Default `"live"`, as in DNA's own SDK. */
  readonly environment?: "live" | "test";
  /** DNA's API, without a trailing slash. Default per `environment`: `https://api.dnapayments.com`. */
  readonly apiBaseUrl?: string;
  /**
   * DNA's OAuth server; tokens come from `<authBaseUrl>/oauth2/token`. Default per `environment`:
   * `https://oauth.dnapayments.com`.
   */
  readonly authBaseUrl?: string;
  /** The fetch to use (tests, proxies, instrumentation). Default `globalThis.fetch`. */
  readonly fetch?: typeof globalThis.fetch;
  /** Each HTTP request (token or API) is abandoned after this long and answers `retry_later`. Default 10 000. */
  readonly timeoutMs?: number;
  /** A token is refreshed this long before DNA says it expires (at most half its life). Default 60 000. */
  readonly tokenRefreshMarginMs?: number;
  /** The clock tokens expire by, in epoch milliseconds. Default `Date.now`. */
  readonly now?: () => number;
  /**
   * The key callbacks are verified with. DNA's SDKs and plugins use the client secret, which is the
   * default; DNA's payment-link documentation does not say which key signs link callbacks, so an
   * account where they differ sets it here.
   */
  readonly callbackSecret?: string;
  /** Sent as `paymentSettings.callbackUrl`: where DNA posts a successful payment. */
  readonly callbackUrl?: string;
  /** Sent as `paymentSettings.failureCallbackUrl`: where DNA posts a failed one. Default `callbackUrl`. */
  readonly failureCallbackUrl?: string;
  /** The link's `customerName`, mandatory at DNA. Default: metadata `customer_name` if a string, else `customerId`. */
  readonly customerName?: (payment: Payment) => string;
  /** DNA's `transactionType` for links. Default `"SALE"` (authorise and settle). */
  readonly transactionType?: "SALE" | "AUTH" | "PRE-AUTH";
  /**
   * Before creating a link, look for one this gateway already created for the same payment (its
   * `invoiceId`) among the terminal's links created from `payment.createdAt` minus this long: DNA has
   * no idempotency key, so this is what keeps a retried create from making a second payable link.
   * Default 3 600 000 (one hour); `0` turns the look-up off.
   */
  readonly createLookbackMs?: number;
}

/** The options with defaults applied. */
export interface ResolvedOptions {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly terminalId: string;
  readonly apiBaseUrl: string;
  readonly tokenUrl: string;
  readonly fetch: typeof globalThis.fetch;
  readonly timeoutMs: number;
  readonly tokenRefreshMarginMs: number;
  readonly now: () => number;
  readonly callbackSecret: string;
  readonly callbackUrl: string | undefined;
  readonly failureCallbackUrl: string | undefined;
  readonly customerName: (payment: Payment) => string;
  readonly transactionType: string;
  readonly createLookbackMs: number;
}

const trimSlash = (url: string) => url.replace(/\/+$/, "");

function defaultCustomerName(payment: Payment): string {
  const name = payment.metadata.customer_name;
  return typeof name === "string" && name !== "" ? name : payment.customerId;
}

/** Applies the defaults; throws on a missing credential (a programming error, caught at startup). */
export function resolveOptions(options: DnaGatewayOptions): ResolvedOptions {
  for (const key of ["clientId", "clientSecret", "terminalId"] as const) {
    if (typeof options[key] !== "string" || options[key] === "") {
      throw new TypeError(`createDnaGateway: ${key} is required`);
    }
  }
  const hosts = DNA_HOSTS[options.environment ?? "live"];
  const callbackUrl = options.callbackUrl;
  return {
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    terminalId: options.terminalId,
    apiBaseUrl: trimSlash(options.apiBaseUrl ?? hosts.apiBaseUrl),
    tokenUrl: `${trimSlash(options.authBaseUrl ?? hosts.authBaseUrl)}/oauth2/token`,
    fetch: options.fetch ?? globalThis.fetch,
    timeoutMs: options.timeoutMs ?? 10_000,
    tokenRefreshMarginMs: options.tokenRefreshMarginMs ?? 60_000,
    now: options.now ?? Date.now,
    callbackSecret: options.callbackSecret ?? options.clientSecret,
    callbackUrl,
    failureCallbackUrl: options.failureCallbackUrl ?? callbackUrl,
    customerName: options.customerName ?? defaultCustomerName,
    transactionType: options.transactionType ?? "SALE",
    createLookbackMs: options.createLookbackMs ?? 3_600_000,
  };
}
