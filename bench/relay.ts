/**
 * The relay's sinks against what a hand-written publisher would do with the same messages:
 * - NATS: `relay.runOnce()` handing the outbox to the JetStream sink, against a raw loop publishing the
 *   same JSON with the same `Nats-Msg-Id`s in batches of the same size, every ack awaited per batch.
 * - Webhooks: the dispatcher posting queued deliveries to loopback receivers (signing each), against a
 *   raw `fetch` POST loop with the same bodies and signatures at the same concurrency.
 * Skipped (with the reason) when no NATS server answers.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { createPaymentLinks, type Scope, type StoredEvent } from "@paylink/core";
import { createRelay } from "@paylink/relay";
import { createNatsSink } from "@paylink/relay-nats";
import { createMemoryStore } from "@paylink/store-memory";
import { sampleLinkInput } from "@paylink/testing";
import { createWebhookDispatcher, createWebhookEndpoints, createWebhookSink } from "@paylink/webhooks";
import { Webhook } from "standardwebhooks";
import { type BenchModuleResult, rowFromRounds } from "./harness.js";

const scope: Scope = { accountId: "acct_bench", livemode: false };
const ROUNDS = 5;

/** A store holding `links` created links (one event each), with room for cursors, endpoints and deliveries. */
async function outboxOf(links: number) {
  const store = createMemoryStore();
  const commands = createPaymentLinks({ store });
  const input = sampleLinkInput(new Date(), { expiresAt: new Date(Date.now() + 86_400_000) });
  for (let i = 0; i < links; i++) await commands.create(scope, input);
  return store;
}

const perSecond = (count: number, started: bigint) =>
  count / (Number(process.hrtime.bigint() - started) / 1e9);

async function nats(): Promise<ReturnType<typeof rowFromRounds> | string> {
  let connection: Awaited<ReturnType<typeof connect>>;
  try {
    connection = await connect({
      servers: process.env.PAYLINK_NATS_URL ?? "nats://127.0.0.1:4222",
      timeout: 2000,
    });
  } catch {
    return "no NATS server at PAYLINK_NATS_URL (default nats://127.0.0.1:4222)";
  }
  const EVENTS = 5_000;
  const store = await outboxOf(EVENTS);
  const events: StoredEvent[] = await store.readEvents(0, EVENTS);
  const manager = await jetstreamManager(connection);
  const js = jetstream(connection);
  const subject: number[] = [];
  const baseline: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const name = `BENCH_${process.pid}_${round}`;
    const prefix = `bench_${process.pid}_${round}`;
    // Paylink: the relay reads the outbox and hands it to the sink, 100 events a batch.
    const sink = await createNatsSink({
      connection,
      stream: name,
      subjectPrefix: prefix,
      name: `nats_${round}`,
    });
    const relay = createRelay({ store, sinks: [sink], batchSize: 100 });
    let started = process.hrtime.bigint();
    await relay.runOnce();
    subject.push(perSecond(EVENTS, started));
    await manager.streams.purge(name);
    // Baseline: the same messages, the same ids, the same batches.
    started = process.hrtime.bigint();
    for (let i = 0; i < events.length; i += 100) {
      await Promise.all(
        events
          .slice(i, i + 100)
          .map(({ event }) =>
            js.publish(`${prefix}.${event.type}`, JSON.stringify(event), { msgID: `raw_${event.id}` }),
          ),
      );
    }
    baseline.push(perSecond(EVENTS, started));
    await manager.streams.delete(name);
  }
  await connection.drain();
  return rowFromRounds(
    "relay to NATS JetStream",
    { name: "relay.runOnce + NATS sink", opsPerSec: subject },
    { name: "raw JetStream publish loop, same messages and batches", opsPerSec: baseline },
    { unit: "event", target: 0.5 },
  );
}

async function webhooks() {
  const RECEIVERS = 16;
  const EVENTS = 2_000;
  const servers: Server[] = [];
  const urls: string[] = [];
  for (let i = 0; i < RECEIVERS; i++) {
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(204).end());
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    servers.push(server);
    urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`);
  }
  const subject: number[] = [];
  const baseline: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const store = await outboxOf(EVENTS / RECEIVERS);
    const hooks = store;
    const endpoints = createWebhookEndpoints({ store: hooks, allow: { loopback: true } });
    const secrets: string[] = [];
    for (const url of urls) secrets.push((await endpoints.create(scope, { url }))._unsafeUnwrap().secret);
    await createRelay({ store, sinks: [createWebhookSink({ store: hooks })] }).runOnce();
    const dispatcher = createWebhookDispatcher({
      store: hooks,
      allow: { loopback: true },
      concurrency: RECEIVERS,
    });
    let started = process.hrtime.bigint();
    const sent = await dispatcher.runOnce();
    if (sent !== EVENTS) throw new Error(`bench/relay: ${sent} deliveries instead of ${EVENTS}`);
    subject.push(perSecond(EVENTS, started));
    // Baseline: per receiver, a loop of signed fetch POSTs of the same bodies, all receivers at once.
    const bodies = (await store.readEvents(0, EVENTS)).map(({ event }) => ({
      id: event.id,
      body: JSON.stringify(event),
    }));
    started = process.hrtime.bigint();
    await Promise.all(
      urls.map(async (url, r) => {
        const signer = new Webhook(secrets[r]!);
        for (const { id, body } of bodies) {
          const now = new Date();
          const response = await fetch(url, {
            method: "POST",
            body,
            headers: {
              "content-type": "application/json",
              "webhook-id": id,
              "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
              "webhook-signature": signer.sign(id, now, body),
            },
          });
          await response.arrayBuffer();
        }
      }),
    );
    baseline.push(perSecond(EVENTS, started));
  }
  for (const server of servers) server.close();
  return rowFromRounds(
    "webhook deliveries to 16 loopback receivers",
    { name: "dispatcher.runOnce (signed, one attempt per endpoint at a time)", opsPerSec: subject },
    { name: "raw signed fetch POST loop per receiver, same bodies", opsPerSec: baseline },
    { unit: "delivery", target: 0.5 },
  );
}

/** Runs the relay benchmarks. */
export async function run(): Promise<BenchModuleResult> {
  const rows = [await webhooks()];
  const natsRow = await nats();
  if (typeof natsRow === "string") return { rows, skipped: natsRow };
  rows.unshift(natsRow);
  return { rows };
}
