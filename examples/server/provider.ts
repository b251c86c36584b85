/**
 * The payment provider the demo hosts its links at (`PAYLINK_PROVIDER`): the built-in test provider (the
 * default; the customer pays on the demo's own `/pay/{id}` page), Stripe, DNA Payments, or none (links
 * without a provider object, as before gateways). Read from the environment by `main.ts`, made into a
 * gateway by `server.ts` once the server's address is known.
 */
import type { Clock, PaymentGateway } from "@paylink/core";
import { createDnaGateway } from "@paylink/gateway-dna";
import { createStripeGateway } from "@paylink/gateway-stripe";
import { createTestGateway, type TestGateway, type TestOutage } from "@paylink/gateway-test";
import Stripe from "stripe";

/** The variable choosing the provider: `test` (default), `stripe`, `dna` or `none`. */
export const PROVIDER_ENV = "PAYLINK_PROVIDER";
/** The providers `PAYLINK_PROVIDER` may name. */
export const PROVIDER_NAMES = ["test", "stripe", "dna", "none"] as const;
/** A provider `PAYLINK_PROVIDER` may name. */
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** The outages the merchant page can switch the test provider into (`TestGateway.outage`). */
export const TEST_OUTAGES: readonly TestOutage[] = ["refused", "500", "429", "hang"];

/** Where Stripe's API is, when not at Stripe (a local stand-in): the SDK's own `host`/`port`/`protocol`. */
export interface StripeApiBase {
  readonly host: string;
  readonly port: number;
  readonly protocol: "http" | "https";
}

/** The provider the demo runs on, as read from the environment ({@link parseProvider}). */
export type ProviderConfig =
  | { readonly name: "none" }
  | { readonly name: "test" }
  | {
      readonly name: "stripe";
      readonly secretKey: string;
      readonly webhookSecret: string;
      readonly apiBase?: StripeApiBase;
    }
  | {
      readonly name: "dna";
      readonly clientId: string;
      readonly clientSecret: string;
      readonly terminalId: string;
      /** The key DNA's callbacks are signed with. Default (the gateway's): the client secret. */
      readonly callbackSecret?: string;
      readonly environment: "live" | "test";
      readonly apiBaseUrl?: string;
      readonly authBaseUrl?: string;
    };

/** The variables {@link parseProvider} reads (a subset of `process.env`). */
export type ProviderEnv = Readonly<Record<string, string | undefined>>;

/** A variable's value, trimmed; `undefined` when unset or blank. */
function value(env: ProviderEnv, name: string): string | undefined {
  const text = env[name]?.trim();
  return text === undefined || text === "" ? undefined : text;
}

/** A variable that must be set for `provider`. */
function required(env: ProviderEnv, name: string, provider: string): string {
  const text = value(env, name);
  if (text === undefined) throw new Error(`${name} is required with ${PROVIDER_ENV}=${provider}.`);
  return text;
}

/** An http(s) URL with nothing but scheme, host and port (and an optional path for DNA), or a message. */
function baseUrl(env: ProviderEnv, name: string, withPath: boolean): URL | undefined {
  const text = value(env, name);
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${name} must be an http(s) URL such as http://127.0.0.1:12111, not "${text}".`);
  }
  const bare = url.username === "" && url.password === "" && url.search === "" && url.hash === "";
  if (
    !(url.protocol === "http:" || url.protocol === "https:") ||
    !bare ||
    (!withPath && url.pathname !== "/")
  )
    throw new Error(
      `${name} must be an http(s) URL with ${withPath ? "no credentials, query or fragment" : "no path, credentials, query or fragment"} (e.g. http://127.0.0.1:12111), not "${text}".`,
    );
  return url;
}

/**
 * Why the test provider cannot serve demo servers that share a PostgreSQL database: its links live in one
 * process's memory, so another server's relay would find a link unknown, "stop" it there and record
 * `stopped ✓` while the link stays payable in the process that made it.
 */
export const TEST_PROVIDER_NOT_SHARED =
  "PAYLINK_PROVIDER=test keeps its links in one process's memory, so it cannot serve demo servers that share a PostgreSQL database (PAYLINK_PG_URL): use none, stripe or dna there.";

/**
 * Reads `PAYLINK_PROVIDER` and the variables of the provider it names. `test` when unset or blank, but
 * `none` with `PAYLINK_PG_URL` (where `test` is refused: {@link TEST_PROVIDER_NOT_SHARED}).
 *
 * - `stripe`: `STRIPE_SECRET_KEY` and `STRIPE_WEBHOOK_SECRET` (both required; a live key is refused, the
 *   demo being a test-mode account with no login), `PAYLINK_STRIPE_API_BASE` (optional: a local stand-in
 *   of Stripe's API, e.g. `http://127.0.0.1:12111`).
 * - `dna`: `DNA_CLIENT_ID`, `DNA_CLIENT_SECRET`, `DNA_TERMINAL_ID` (required), `DNA_CALLBACK_SECRET`
 *   (optional, default the client secret), `DNA_ENVIRONMENT` (`test`, the default, or `live`),
 *   `PAYLINK_DNA_API_BASE` and `PAYLINK_DNA_AUTH_BASE` (optional: other hosts than the environment's).
 *
 * @throws {Error} with a message for the console, naming the variable, when a value is missing or wrong.
 */
export function parseProvider(env: ProviderEnv): ProviderConfig {
  const shared = value(env, "PAYLINK_PG_URL") !== undefined;
  const asked = value(env, PROVIDER_ENV) ?? (shared ? "none" : "test");
  const name = PROVIDER_NAMES.find((known) => known === asked.toLowerCase());
  if (name === undefined)
    throw new Error(`${PROVIDER_ENV} must be one of ${PROVIDER_NAMES.join(", ")}, not "${asked}".`);
  if (name === "test" && shared) throw new Error(TEST_PROVIDER_NOT_SHARED);
  if (name === "none" || name === "test") return { name };
  if (name === "stripe") {
    const secretKey = required(env, "STRIPE_SECRET_KEY", name);
    if (/^(sk|rk)_live_/.test(secretKey))
      throw new Error(
        "STRIPE_SECRET_KEY is a live key: the demo serves a test-mode account with no login, so it takes test keys only (sk_test_…).",
      );
    const webhookSecret = required(env, "STRIPE_WEBHOOK_SECRET", name);
    const api = baseUrl(env, "PAYLINK_STRIPE_API_BASE", false);
    if (api === undefined) return { name, secretKey, webhookSecret };
    const protocol = api.protocol === "http:" ? "http" : "https";
    const port = api.port === "" ? (protocol === "http" ? 80 : 443) : Number(api.port);
    return { name, secretKey, webhookSecret, apiBase: { host: api.hostname, port, protocol } };
  }
  const clientId = required(env, "DNA_CLIENT_ID", name);
  const clientSecret = required(env, "DNA_CLIENT_SECRET", name);
  const terminalId = required(env, "DNA_TERMINAL_ID", name);
  const callbackSecret = value(env, "DNA_CALLBACK_SECRET");
  const environment = value(env, "DNA_ENVIRONMENT") ?? "test";
  if (environment !== "test" && environment !== "live")
    throw new Error(`DNA_ENVIRONMENT must be test or live, not "${environment}".`);
  const apiBaseUrl = baseUrl(env, "PAYLINK_DNA_API_BASE", true);
  const authBaseUrl = baseUrl(env, "PAYLINK_DNA_AUTH_BASE", true);
  return {
    name,
    clientId,
    clientSecret,
    terminalId,
    environment,
    ...(callbackSecret === undefined ? {} : { callbackSecret }),
    ...(apiBaseUrl === undefined ? {} : { apiBaseUrl: apiBaseUrl.href }),
    ...(authBaseUrl === undefined ? {} : { authBaseUrl: authBaseUrl.href }),
  };
}

/** The provider a demo server runs on: its gateway, and for the test provider its switches. */
export interface DemoProvider {
  /** `test`, `stripe` or `dna` (the gateway's `provider`). */
  readonly name: string;
  readonly gateway: PaymentGateway;
  /** Where the provider posts its webhooks: `${base}/webhooks/<provider>`. */
  readonly webhookUrl: string;
  /** The test provider itself (customer side, outages); `undefined` for Stripe and DNA. */
  readonly test: TestProvider | undefined;
}

/** The in-process test provider, with the outage it is in (the gateway does not say). */
export interface TestProvider {
  readonly gateway: TestGateway;
  /** The outage its API is in, or `null` when it answers normally. */
  outage(): TestOutage | null;
  /** Puts its API into `kind` of outage (every create, stop and refund fails so) until {@link restore}. */
  startOutage(kind: TestOutage): void;
  /** Ends the outage. */
  restore(): void;
}

/** Options of {@link createDemoProvider}. */
export interface DemoProviderOptions {
  /** The server's base URL (`http://127.0.0.1:3000`): the test provider's pay pages and webhook URLs. */
  readonly base: string;
  /** Time source of the test provider's webhook timestamps. Default: the system clock. */
  readonly clock?: Clock;
  /** How long the test provider's API may hang before its gateway answers `retry_later`. Default 5 000 ms. */
  readonly testTimeoutMs?: number;
}

/**
 * Makes the gateway of `config` (`undefined` for `none`). The test provider's links are paid on the
 * demo's own page, `${base}/pay/{payment id}`, and it keeps them in this process's memory: they are gone
 * when the server stops (a link made before a restart can then only be canceled).
 */
export function createDemoProvider(
  config: ProviderConfig,
  options: DemoProviderOptions,
): DemoProvider | undefined {
  const { base } = options;
  const webhookUrl = (provider: string) => `${base}/webhooks/${provider}`;
  switch (config.name) {
    case "none":
      return undefined;
    case "test": {
      const gateway = createTestGateway({
        urlFor: (_reference, payment) => `${base}/pay/${payment.id}`,
        timeoutMs: options.testTimeoutMs ?? 5_000,
        ...(options.clock === undefined ? {} : { clock: options.clock }),
      });
      let current: TestOutage | null = null;
      const test: TestProvider = {
        gateway,
        outage: () => current,
        startOutage(kind) {
          gateway.outage(kind);
          current = kind;
        },
        restore() {
          gateway.restore();
          current = null;
        },
      };
      return { name: gateway.provider, gateway, webhookUrl: webhookUrl(gateway.provider), test };
    }
    case "stripe": {
      const stripe = new Stripe(config.secretKey, {
        ...(config.apiBase === undefined ? {} : config.apiBase),
        maxNetworkRetries: 0,
      });
      const gateway = createStripeGateway({ stripe, webhookSecret: config.webhookSecret });
      return { name: gateway.provider, gateway, webhookUrl: webhookUrl(gateway.provider), test: undefined };
    }
    case "dna": {
      const callbackUrl = webhookUrl("dna");
      const gateway = createDnaGateway({
        clientId: config.clientId,
        clientSecret: config.clientSecret,
        terminalId: config.terminalId,
        environment: config.environment,
        callbackUrl,
        ...(config.callbackSecret === undefined ? {} : { callbackSecret: config.callbackSecret }),
        ...(config.apiBaseUrl === undefined ? {} : { apiBaseUrl: config.apiBaseUrl }),
        ...(config.authBaseUrl === undefined ? {} : { authBaseUrl: config.authBaseUrl }),
      });
      return { name: gateway.provider, gateway, webhookUrl: callbackUrl, test: undefined };
    }
  }
}

/** The banner's line about the provider. */
export function providerBannerLine(provider: DemoProvider | undefined): string {
  const label = "  Provider        ";
  if (provider === undefined)
    return `${label}none (links have no provider object; ${PROVIDER_ENV}=test|stripe|dna hosts them at one)`;
  const what =
    provider.test !== undefined
      ? "in process: paid on /pay/{id}, outage switches on the merchant page"
      : provider.name === "stripe"
        ? "forward Stripe's webhooks here: stripe listen --forward-to <this URL>"
        : "DNA's callbacks must reach this URL";
  return `${label}${provider.name}   webhooks at ${provider.webhookUrl}   (${what})`;
}
