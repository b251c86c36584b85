/**
 * `@paylink/relay-nats` — the NATS JetStream sink of `@paylink/relay`: each outbox event is published to
 * `paylink.<type>` with `Nats-Msg-Id` = the event's id, so the stream drops a redelivered event within
 * its duplicate window.
 * @packageDocumentation
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { StoredEvent } from "@paylink/core";
import type { Sink } from "@paylink/relay";

/** The connection the application opened (`connect` from `@nats-io/transport-node`). */
export type NatsConnection = Parameters<typeof jetstream>[0];

/** Options of {@link createNatsSink}. */
export interface NatsSinkOptions {
  readonly connection: NatsConnection;
  /** The stream, created with the subjects `<subjectPrefix>.>` when missing. Default `PAYLINK`. */
  readonly stream?: string;
  /** Subjects are `<subjectPrefix>.<event type>`, e.g. `paylink.payment_link.canceled`. Default `paylink`. */
  readonly subjectPrefix?: string;
  /**
   * How long the stream remembers message ids to drop duplicates, for a stream this sink creates.
   * Default 2 minutes (JetStream's own default); a redelivery after a longer outage reaches consumers
   * twice, and they dedupe by `Nats-Msg-Id`.
   */
  readonly duplicateWindowMs?: number;
  /** The sink's name, which keys its cursor in the store. Default `nats`. */
  readonly name?: string;
}

const SUBJECT_PART = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/**
 * Creates the NATS sink, creating the stream when it is missing. A batch is published in order on one
 * connection and counts as delivered once JetStream acknowledged every message of it.
 *
 * @example
 * const connection = await connect({ servers: "nats://127.0.0.1:4222" });
 * const relay = createRelay({ store, sinks: [await createNatsSink({ connection })] });
 */
export async function createNatsSink(options: NatsSinkOptions): Promise<Sink> {
  const stream = options.stream ?? "PAYLINK";
  const prefix = options.subjectPrefix ?? "paylink";
  if (!SUBJECT_PART.test(prefix)) throw new TypeError(`createNatsSink: "${prefix}" is not a subject prefix`);
  const manager = await jetstreamManager(options.connection);
  try {
    await manager.streams.info(stream);
  } catch {
    await manager.streams.add({
      name: stream,
      subjects: [`${prefix}.>`],
      duplicate_window: (options.duplicateWindowMs ?? 120_000) * 1_000_000,
    });
  }
  const js = jetstream(options.connection);
  return {
    name: options.name ?? "nats",
    async deliver(events: readonly StoredEvent[]) {
      // Published back to back (in order on the connection), then every acknowledgement awaited.
      const acks = events.map(({ event }) =>
        js.publish(`${prefix}.${event.type}`, JSON.stringify(event), { msgID: event.id }),
      );
      await Promise.all(acks);
    },
  };
}
