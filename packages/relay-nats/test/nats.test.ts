import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { createPaymentLinks, type DomainEvent, type Scope } from "@paylink/core";
import { createRelay } from "@paylink/relay";
import { createNatsSink } from "@paylink/relay-nats";
import { createMemoryStore } from "@paylink/store-memory";
import { sampleLinkInput } from "@paylink/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const NATS_URL = process.env.PAYLINK_NATS_URL ?? "nats://127.0.0.1:4222";
const scope: Scope = { accountId: "acct_nats", livemode: false };

let connection: Awaited<ReturnType<typeof connect>> | undefined;
beforeAll(async () => {
  try {
    connection = await connect({ servers: NATS_URL, timeout: 2000 });
  } catch (error) {
    if (process.env.PAYLINK_REQUIRE_NATS === "1") throw error;
  }
});
afterAll(async () => {
  await connection?.drain();
});

/** A stream and subject prefix of this test's own, removed afterwards. */
async function freshStream() {
  const suffix = randomBytes(4).toString("hex");
  const stream = `PAYLINK_TEST_${suffix}`;
  const prefix = `paylink_test_${suffix}`;
  return { stream, prefix };
}

/** Every message of `stream`, in stream order, as the events they carry with their Nats-Msg-Id. */
async function readStream(stream: string) {
  const manager = await jetstreamManager(connection!);
  const { state } = await manager.streams.info(stream);
  const out: { subject: string; msgId: string | undefined; event: DomainEvent }[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const message = await manager.streams.getMessage(stream, { seq });
    if (message === null) continue;
    out.push({ subject: message.subject, msgId: message.header?.get("Nats-Msg-Id"), event: message.json() });
  }
  return out;
}

describe.skipIf(process.env.PAYLINK_REQUIRE_NATS !== "1" && !process.env.PAYLINK_NATS_URL)(
  "the NATS JetStream sink (real nats-server)",
  () => {
    it("creates the stream, publishes every event to paylink.<type> with Nats-Msg-Id = event id, in order; a redelivered batch is dropped as a duplicate", async () => {
      const { stream, prefix } = await freshStream();
      const store = createMemoryStore();
      const links = createPaymentLinks({ store });
      for (let i = 0; i < 5; i++) {
        const link = (await links.create(scope, sampleLinkInput(new Date())))._unsafeUnwrap();
        await links.cancel(scope, link.id);
      }
      const sink = await createNatsSink({ connection: connection!, stream, subjectPrefix: prefix });
      const relay = createRelay({ store, sinks: [sink] });
      expect(await relay.runOnce()).toEqual([{ sink: "nats", delivered: 10, outcome: "caught_up" }]);
      const events = (await store.readEvents(0, 100)).map((e) => e.event);
      const messages = await readStream(stream);
      expect(messages.map((m) => m.msgId)).toEqual(events.map((e) => e.id));
      expect(messages.map((m) => m.subject)).toEqual(events.map((e) => `${prefix}.${e.type}`));
      expect(messages.map((m) => m.event)).toEqual(events);
      // At least once: the same batch again (a relay that died before saving its cursor) adds nothing.
      await sink.deliver(await store.readEvents(0, 100));
      expect(await readStream(stream)).toHaveLength(10);
      const manager = await jetstreamManager(connection!);
      await manager.streams.delete(stream);
    });

    it("a second sink on an existing stream reuses it; a bad subject prefix is refused", async () => {
      const { stream, prefix } = await freshStream();
      await createNatsSink({ connection: connection!, stream, subjectPrefix: prefix });
      await createNatsSink({ connection: connection!, stream, subjectPrefix: prefix });
      const manager = await jetstreamManager(connection!);
      expect((await manager.streams.info(stream)).config.subjects).toEqual([`${prefix}.>`]);
      await manager.streams.delete(stream);
      await expect(createNatsSink({ connection: connection!, subjectPrefix: "bad prefix" })).rejects.toThrow(
        /not a subject prefix/,
      );
    });
  },
);
