/**
 * Latency of event delivery: from the commit of a command to the receipt of its event, p50, p99 and max,
 * for the webhook path (relay → webhook sink → dispatcher → a loopback `node:http` receiver) and the NATS
 * path (relay → NATS sink → JetStream → an ordered consumer on its own connection):
 *
 * - **relay in the same process** as the writer, woken by `relay.notifying(store)` right after the commit
 *   (memory store, and a SQLite file);
 * - **relay in another process** (bench/fixtures/latency-relay.ts, started with the same tsx loader):
 *   relay and dispatcher over the SQLite file the writer writes to (or the PostgreSQL schema, with
 *   `PAYLINK_PG_URL`), finding the writes by polling every 50 or 100 ms.
 *
 * The writer (`links.create`, one event per link) and both receivers live in the bench process, so commit
 * and receipt are read from one clock, `performance.now()`: commit = just after the command's promise
 * resolved, receipt = when the receiver's handler starts (the HTTP request handler; the consumer's
 * callback). Samples are sequential: the next command is issued after both receipts and a random pause
 * (2–12 ms in process; 2 ms plus up to the poll interval across processes, so that commits fall at every
 * phase of the relay's poll), so no sample waits behind another. 300 samples a row in 3 rounds
 * (`PAYLINK_BENCH_LATENCY_SAMPLES`), after 10 unmeasured ones. A receipt missing for 10 s fails the run.
 *
 * Baselines, measured in the same rounds from the writer to the same receivers with bodies the receivers
 * got from the relay: a signed `fetch` POST of the same body (webhooks), a JetStream publish of the same
 * message (NATS). Rows fit the bench table: the Paylink and baseline columns are 1 ÷ the median latency
 * (per second), the ratio is baseline p50 ÷ Paylink p50 per round, and the notes hold the milliseconds.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type JetStreamClient, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { createPaymentLinks, type PaymentLinks, type Scope } from "@paylink/core";
import { createRelay, type Sink } from "@paylink/relay";
import { createNatsSink } from "@paylink/relay-nats";
import { sampleLinkInput } from "@paylink/testing";
import { createWebhookDispatcher, createWebhookEndpoints, createWebhookSink } from "@paylink/webhooks";
import { Webhook } from "standardwebhooks";
import { READY, RELAY_CONFIG_ENV, type RelayProcessConfig } from "./fixtures/latency-relay.js";
import {
  type BenchStore,
  describeStore,
  openStore,
  postgresPool,
  type StoreSpec,
} from "./fixtures/latency-stores.js";
import { type BenchModuleResult, type BenchRow, median, rowFromRounds } from "./harness.js";

const scope: Scope = { accountId: "acct_bench", livemode: false };
const NATS_URL = process.env.PAYLINK_NATS_URL ?? "nats://127.0.0.1:4222";
/** Measured samples per row (split over the rounds), after a warmup. */
const SAMPLES = Number(process.env.PAYLINK_BENCH_LATENCY_SAMPLES ?? 300);
const ROUNDS = 3;
const WARMUP = 10;
/** A receipt that takes longer than this fails the run instead of hanging it. */
const RECEIPT_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------------------------------
// Receipts: the receivers mark a key with the time their handler started; the writer waits for the key.

interface Arrivals {
  mark(key: string, at: number): void;
  /** The time `key` arrived: at once if it already did, else when it does. */
  wait(key: string): Promise<number>;
}

function createArrivals(what: string): Arrivals {
  const early = new Map<string, number>();
  const waiters = new Map<string, (at: number) => void>();
  return {
    mark(key, at) {
      const waiter = waiters.get(key);
      if (waiter === undefined) early.set(key, at);
      else {
        waiters.delete(key);
        waiter(at);
      }
    },
    wait(key) {
      const at = early.get(key);
      if (at !== undefined) {
        early.delete(key);
        return Promise.resolve(at);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(key);
          reject(new Error(`bench/latency: no ${what} receipt of ${key} within ${RECEIPT_TIMEOUT_MS} ms`));
        }, RECEIPT_TIMEOUT_MS);
        waiters.set(key, (received) => {
          clearTimeout(timer);
          resolve(received);
        });
      });
    },
  };
}

/** An event as the receiver got it, kept to be sent again by the baselines. */
interface Received {
  readonly id: string;
  readonly type: string;
  readonly body: string;
}

/**
 * Relayed events are keyed by their payment's id (what the writer knows after `create`), the baselines'
 * messages by their own id (`raw_…`), so that a baseline never takes a relayed event for its own.
 */
const keyOf = (id: string, body: string) =>
  id.startsWith("raw_") ? id : (JSON.parse(body) as { paymentId: string }).paymentId;

/** The loopback webhook receiver: marks each request when its handler starts, then answers 204. */
async function webhookReceiver(arrivals: Arrivals, kept: Received[]) {
  const server: Server = createServer((req, res) => {
    const at = performance.now();
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const id = String(req.headers["webhook-id"]);
      if (!id.startsWith("raw_") && kept.length < SAMPLES) {
        kept.push({ id, type: (JSON.parse(body) as { type: string }).type, body });
      }
      arrivals.mark(keyOf(id, body), at);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks` };
}

/** A JetStream stream for one setup, and an ordered consumer of it on a connection of its own. */
async function natsReceiver(relayConnection: NatsConnection, arrivals: Arrivals, setup: number) {
  const stream = `BENCH_LATENCY_${process.pid}_${setup}`;
  const prefix = `bench_latency_${process.pid}_${setup}`;
  const manager = await jetstreamManager(relayConnection);
  await manager.streams.add({ name: stream, subjects: [`${prefix}.>`] });
  const connection = await connect({ servers: NATS_URL, name: "paylink-bench-receiver" });
  const consumer = await jetstream(connection).consumers.get(stream);
  const messages = await consumer.consume({
    callback: (message) => {
      const at = performance.now();
      arrivals.mark(keyOf(message.headers?.get("Nats-Msg-Id") ?? "", message.string()), at);
    },
  });
  return {
    stream,
    prefix,
    async close() {
      await messages.close();
      await connection.drain();
      await manager.streams.delete(stream);
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Figures.

/** The `p`-quantile by nearest rank (p99 of 300 samples is the third largest). */
function quantile(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

const ms = (x: number) => Number(x.toFixed(x < 10 ? 2 : 1));
const sleep = (wait: number) => new Promise((done) => setTimeout(done, wait));

/** Latencies of one row, per round, of Paylink and of its baseline. */
interface Samples {
  readonly subject: number[][];
  readonly baseline: number[][];
}

const emptySamples = (): Samples => ({
  subject: Array.from({ length: ROUNDS }, () => []),
  baseline: Array.from({ length: ROUNDS }, () => []),
});

function latencyRow(
  name: string,
  names: { subject: string; baseline: string },
  samples: Samples,
  store: StoreSpec,
): BenchRow {
  const all = samples.subject.flat();
  const base = samples.baseline.flat();
  return rowFromRounds(
    name,
    { name: names.subject, opsPerSec: samples.subject.map((round) => 1000 / median(round)) },
    { name: names.baseline, opsPerSec: samples.baseline.map((round) => 1000 / median(round)) },
    {
      unit: "event",
      extra: {
        store: describeStore(store),
        "p50 ms": ms(quantile(all, 0.5)),
        "p99 ms": ms(quantile(all, 0.99)),
        "max ms": ms(Math.max(...all)),
        "baseline p50 ms": ms(quantile(base, 0.5)),
        "baseline p99 ms": ms(quantile(base, 0.99)),
        samples: all.length,
      },
    },
  );
}

// ---------------------------------------------------------------------------------------------------
// One setup: a writer, its receivers, a relay somewhere, and the samples.

/** Where the relay of a setup runs. */
type Placement =
  | { readonly kind: "in process" }
  | { readonly kind: "other process"; readonly pollMs: number };

interface Setup {
  readonly store: StoreSpec;
  readonly placement: Placement;
}

/** A running relay and dispatcher, in this process or another. */
interface RunningRelay {
  /** The store the writer writes through (`relay.notifying(store)` in process). */
  readonly writerStore: BenchStore;
  stop(): Promise<void>;
}

async function relayInProcess(store: BenchStore, nats: NatsSinkTarget | undefined): Promise<RunningRelay> {
  const dispatcher = createWebhookDispatcher({ store, allow: { loopback: true } });
  const sinks: Sink[] = [createWebhookSink({ store, onQueued: () => dispatcher.wake() })];
  if (nats !== undefined) {
    sinks.push(
      await createNatsSink({ connection: nats.connection, stream: nats.stream, subjectPrefix: nats.prefix }),
    );
  }
  const relay = createRelay({ store, sinks });
  relay.start();
  dispatcher.start();
  return {
    writerStore: relay.notifying(store),
    stop: async () => {
      await Promise.all([relay.stop(), dispatcher.stop()]);
    },
  };
}

const relayProcessFile = fileURLToPath(new URL("./fixtures/latency-relay.ts", import.meta.url));

/** Starts bench/fixtures/latency-relay.ts with this process's loader flags and waits for its `ready`. */
async function relayInOtherProcess(
  store: BenchStore,
  spec: StoreSpec,
  pollMs: number,
  nats: NatsSinkTarget | undefined,
): Promise<RunningRelay> {
  const config: RelayProcessConfig = {
    store: spec,
    pollMs,
    ...(nats === undefined ? {} : { nats: { url: NATS_URL, stream: nats.stream, prefix: nats.prefix } }),
  };
  const child = spawn(process.execPath, [...process.execArgv, relayProcessFile], {
    env: { ...process.env, [RELAY_CONFIG_ENV]: JSON.stringify(config) },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  await new Promise<void>((ready, fail) => {
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      if (out.split("\n").includes(READY)) ready();
    });
    void exited.then((code) => fail(new Error(`bench/latency: the relay process exited (${code})`)));
  });
  return {
    writerStore: store,
    async stop() {
      child.stdin.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

interface NatsSinkTarget {
  readonly connection: NatsConnection;
  readonly stream: string;
  readonly prefix: string;
}

/** Runs one setup and returns its webhook row and, with NATS, its NATS row. */
async function measure(setup: Setup, index: number, nats: NatsConnection | undefined): Promise<BenchRow[]> {
  const { store: spec, placement } = setup;
  const opened = await openStore(spec);
  const webhookArrivals = createArrivals("webhook");
  const natsArrivals = createArrivals("NATS");
  const kept: Received[] = [];
  const receiver = await webhookReceiver(webhookArrivals, kept);
  const stream = nats === undefined ? undefined : await natsReceiver(nats, natsArrivals, index);
  const target = stream === undefined || nats === undefined ? undefined : { connection: nats, ...stream };

  const endpoint = (
    await createWebhookEndpoints({ store: opened.store, allow: { loopback: true } }).create(scope, {
      url: receiver.url,
    })
  )._unsafeUnwrap();
  const running =
    placement.kind === "in process"
      ? await relayInProcess(opened.store, target)
      : await relayInOtherProcess(opened.store, spec, placement.pollMs, target);
  const links: PaymentLinks = createPaymentLinks({ store: running.writerStore });
  const input = sampleLinkInput(new Date(), { expiresAt: new Date(Date.now() + 86_400_000) });
  const pauseMs = () => 2 + Math.random() * (placement.kind === "in process" ? 10 : placement.pollMs);
  const basePauseMs = () => 2 + Math.random() * 10;

  /** One command, then the receipts of its event: latencies in ms (NATS `undefined` without NATS). */
  async function commitAndReceive(): Promise<[number, number | undefined]> {
    const created = await links.create(scope, input);
    const committed = performance.now();
    if (created.isErr()) throw new Error(`bench/latency: create failed: ${created.error.code}`);
    const key = created.value.id;
    const [webhook, viaNats] = await Promise.all([
      webhookArrivals.wait(key),
      target === undefined ? undefined : natsArrivals.wait(key),
    ]);
    return [webhook - committed, viaNats === undefined ? undefined : viaNats - committed];
  }

  const signer = new Webhook(endpoint.secret);
  const js: JetStreamClient | undefined = nats === undefined ? undefined : jetstream(nats);
  let rawCount = 0;
  /** The baselines: the same body straight from the writer to each receiver. */
  async function direct(): Promise<[number, number | undefined]> {
    const { id, type, body } = kept[rawCount % kept.length]!;
    const rawId = `raw_${rawCount++}_${id}`;
    let started = performance.now();
    const now = new Date();
    const response = await fetch(receiver.url, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "webhook-id": rawId,
        "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
        "webhook-signature": signer.sign(rawId, now, body),
      },
    });
    const posted = (await webhookArrivals.wait(rawId)) - started;
    await response.arrayBuffer();
    if (js === undefined || target === undefined) return [posted, undefined];
    await sleep(basePauseMs());
    started = performance.now();
    const [received] = await Promise.all([
      natsArrivals.wait(rawId),
      js.publish(`${target.prefix}.${type}`, body, { msgID: rawId }),
    ]);
    return [posted, received - started];
  }

  const webhookSamples = emptySamples();
  const natsSamples = emptySamples();
  try {
    for (let i = 0; i < WARMUP; i++) {
      await commitAndReceive();
      await sleep(pauseMs());
    }
    for (let i = 0; i < WARMUP; i++) await direct();
    const perRound = Math.ceil(SAMPLES / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      // Alternating which side goes first, so that machine noise hits both alike.
      const sides = round % 2 === 0 ? (["subject", "baseline"] as const) : (["baseline", "subject"] as const);
      for (const side of sides) {
        for (let i = 0; i < perRound; i++) {
          const [webhook, viaNats] = side === "subject" ? await commitAndReceive() : await direct();
          webhookSamples[side][round]!.push(webhook);
          if (viaNats !== undefined) natsSamples[side][round]!.push(viaNats);
          await sleep(side === "subject" ? pauseMs() : basePauseMs());
        }
      }
    }
  } finally {
    await running.stop();
    receiver.server.close();
    await stream?.close();
    await opened.close();
  }

  const where =
    placement.kind === "in process"
      ? "relay in process, woken at commit"
      : `relay in another process, polling every ${placement.pollMs} ms`;
  const store = describeStore(spec).split(" ")[0]!.toLowerCase();
  const rows = [
    latencyRow(
      `latency commit → webhook receipt, ${where} (${store})`,
      {
        subject: "relay + webhook sink + dispatcher → node:http receiver",
        baseline: "signed fetch POST of the same body",
      },
      webhookSamples,
      spec,
    ),
  ];
  if (target !== undefined) {
    rows.push(
      latencyRow(
        `latency commit → NATS receipt, ${where} (${store})`,
        {
          subject: "relay + NATS sink → JetStream ordered consumer",
          baseline: "JetStream publish of the same message",
        },
        natsSamples,
        spec,
      ),
    );
  }
  return rows;
}

/** Runs the latency benchmarks; NATS rows are skipped without a server, the PostgreSQL row without `PAYLINK_PG_URL`. */
export async function run(): Promise<BenchModuleResult> {
  const skipped: string[] = [];
  let nats: NatsConnection | undefined;
  try {
    nats = await connect({ servers: NATS_URL, timeout: 2000, name: "paylink-bench-writer" });
  } catch {
    skipped.push(`NATS latency rows: no NATS server at PAYLINK_NATS_URL (default ${NATS_URL})`);
  }
  const dir = mkdtempSync(join(tmpdir(), "paylink-bench-latency-"));
  const setups: Setup[] = [
    { store: { kind: "memory" }, placement: { kind: "in process" } },
    { store: { kind: "sqlite", filename: join(dir, "in-process.db") }, placement: { kind: "in process" } },
    {
      store: { kind: "sqlite", filename: join(dir, "poll-50.db") },
      placement: { kind: "other process", pollMs: 50 },
    },
    {
      store: { kind: "sqlite", filename: join(dir, "poll-100.db") },
      placement: { kind: "other process", pollMs: 100 },
    },
  ];
  const pgUrl = process.env.PAYLINK_PG_URL;
  const schema = `paylink_bench_latency_${process.pid}`;
  if (pgUrl === undefined) skipped.push("PostgreSQL latency row: no PAYLINK_PG_URL");
  else {
    setups.push({
      store: { kind: "postgres", url: pgUrl, schema },
      placement: { kind: "other process", pollMs: 50 },
    });
  }
  const rows: BenchRow[] = [];
  try {
    for (const [index, setup] of setups.entries()) {
      try {
        rows.push(...(await measure(setup, index, nats)));
      } catch (error) {
        if (setup.store.kind !== "postgres") throw error;
        skipped.push(`PostgreSQL latency row: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (pgUrl !== undefined) {
      const pool = postgresPool(pgUrl, 1);
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await pool.end();
    }
    await nats?.drain();
  }
  return skipped.length === 0 ? { rows } : { rows, skipped: skipped.join("; ") };
}
