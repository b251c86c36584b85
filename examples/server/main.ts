/**
 * `pnpm start`: the Paylink demo server on 127.0.0.1:$PORT (default 3000) over the SQLite file
 * $PAYLINK_DB (default ./.paylink/demo.db) or the PostgreSQL database $PAYLINK_PG_URL, answering loopback
 * hosts and those in $PAYLINK_ALLOWED_HOSTS; events go to webhooks and, with $PAYLINK_NATS_URL, to NATS
 * JetStream ($PAYLINK_WEBHOOK_RETRIES_MS replaces the retry schedule). Links are hosted at the payment
 * provider $PAYLINK_PROVIDER (`test`, the default, `stripe`, `dna` or `none`; see provider.ts for each
 * one's variables). Ctrl-C stops it cleanly; a second Ctrl-C forces.
 */
import { NATS_URL_ENV, parseRetrySchedule, WEBHOOK_RETRIES_ENV } from "./delivery.js";
import { ALLOWED_HOSTS_ENV, parseAllowedHosts } from "./hosts.js";
import { type ProviderConfig, parseProvider } from "./provider.js";
import { startDemoServer } from "./server.js";

const port = Number(process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`PORT must be a port number (0-65535), not "${process.env.PORT}".`);
  process.exit(1);
}
const dbFile = process.env.PAYLINK_DB ?? "./.paylink/demo.db";
const nonEmpty = (name: string) => {
  const value = process.env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
};
const pgUrl = nonEmpty("PAYLINK_PG_URL");
const natsUrl = nonEmpty(NATS_URL_ENV);
let allowedHosts: string[];
let retryScheduleMs: readonly number[] | undefined;
let provider: ProviderConfig;
try {
  allowedHosts = parseAllowedHosts(process.env[ALLOWED_HOSTS_ENV]);
  retryScheduleMs = parseRetrySchedule(process.env[WEBHOOK_RETRIES_ENV]);
  provider = parseProvider(process.env);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}

let demo: Awaited<ReturnType<typeof startDemoServer>>;
try {
  demo = await startDemoServer({
    port,
    dbFile,
    allowedHosts,
    provider,
    ...(pgUrl === undefined ? {} : { pgUrl }),
    ...(natsUrl === undefined ? {} : { natsUrl }),
    ...(retryScheduleMs === undefined ? {} : { retryScheduleMs }),
  });
} catch (error) {
  const code = (error as { code?: string }).code;
  console.error(
    code === "EADDRINUSE"
      ? `Port ${port} is in use. Start with another one: PORT=3001 pnpm start`
      : `Could not start the demo server: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
}

for (const line of demo.banner) console.log(line);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) {
      console.log("Forced stop.");
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal}: stopping — finishing requests in flight, then closing the database …`);
    demo.close().then(
      () => {
        console.log("Stopped.");
        process.exit(0);
      },
      (error: unknown) => {
        console.error("Stop failed:", error);
        process.exit(1);
      },
    );
  });
}
