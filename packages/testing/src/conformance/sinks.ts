import assert from "node:assert/strict";
import { createPaymentLinks } from "@paylink/core";
import type { SinkPosition } from "@paylink/core/store";
import { fakeClock, sampleLinkInput } from "../arbitraries.js";
import { at, type DeliverySuite, type DeliveryTestStore, T0 } from "./delivery-kit.js";
import { NEIGHBOURS, ok, SCOPE, START } from "./kit.js";

/** Every sink's row, by name: the port leaves the order of `sinkPositions` open. */
const positions = async (store: DeliveryTestStore): Promise<SinkPosition[]> =>
  (await store.sinkPositions())
    .map(({ sink, position, owner, leaseUntil }) => ({ sink, position, owner, leaseUntil }))
    .sort((a, b) => (a.sink < b.sink ? -1 : a.sink > b.sink ? 1 : 0));

/** The row of one sink. */
const positionOf = async (store: DeliveryTestStore, sink: string) =>
  (await positions(store)).find((row) => row.sink === sink);

/** `RelayStore`: one cursor and one lease per sink, moved only by the lease's holder. */
export function sinkTests({ it, concurrency }: DeliverySuite): void {
  it("sinks: a new sink starts at 0; its owner reclaims it; another is refused while the lease lives and takes it over once it ended", async (store) => {
    assert.deepEqual(await store.sinkPositions(), [], "law: a fresh store has no sinks");
    assert.equal(
      await store.claimSink("webhooks", "relay-a", T0, at(30_000)),
      0,
      "law: a new sink starts at 0",
    );
    assert.equal(
      await store.claimSink("webhooks", "relay-a", at(1_000), at(31_000)),
      0,
      "law: the owner reclaims its own live lease",
    );
    assert.deepEqual(
      await positionOf(store, "webhooks"),
      { sink: "webhooks", position: 0, owner: "relay-a", leaseUntil: at(31_000) },
      "law: a reclaim extends the owner's lease to the new leaseUntil",
    );
    assert.equal(
      await store.claimSink("webhooks", "relay-b", at(30_999), at(60_000)),
      undefined,
      "law: another owner is refused while the lease is live (leaseUntil > now)",
    );
    assert.deepEqual(
      await positionOf(store, "webhooks"),
      { sink: "webhooks", position: 0, owner: "relay-a", leaseUntil: at(31_000) },
      "law: a refused claim changes nothing",
    );
    assert.equal(
      await store.claimSink("webhooks", "relay-b", at(31_000), at(61_000)),
      0,
      "law: another owner takes the sink over once its lease ended (leaseUntil <= now)",
    );
    assert.deepEqual(
      await positionOf(store, "webhooks"),
      { sink: "webhooks", position: 0, owner: "relay-b", leaseUntil: at(61_000) },
      "law: a takeover makes the new owner the holder, until its leaseUntil",
    );
    assert.equal(
      await store.claimSink("webhooks", "relay-a", at(32_000), at(62_000)),
      undefined,
      "law: the former owner is refused while the new lease lives",
    );
  });

  it("sinks: only the holder advances; a position never moves backwards; an advance extends the lease", async (store) => {
    assert.equal(await store.claimSink("nats", "relay-a", T0, at(30_000)), 0, "law: a new sink starts at 0");
    assert.equal(
      await store.advanceSink("nats", "relay-a", 10, at(40_000)),
      true,
      "law: the holder advances its sink",
    );
    assert.deepEqual(
      await positionOf(store, "nats"),
      { sink: "nats", position: 10, owner: "relay-a", leaseUntil: at(40_000) },
      "law: an advance moves the position and extends the lease to leaseUntil",
    );
    assert.equal(
      await store.advanceSink("nats", "relay-a", 4, at(50_000)),
      true,
      "law: an advance by the holder answers true, even to an older position",
    );
    assert.equal((await positionOf(store, "nats"))?.position, 10, "law: a position never moves backwards");
    assert.equal(
      await store.advanceSink("nats", "relay-b", 20, at(90_000)),
      false,
      "law: an advance by another owner answers false",
    );
    assert.deepEqual(
      await positionOf(store, "nats"),
      { sink: "nats", position: 10, owner: "relay-a", leaseUntil: at(50_000) },
      "law: an advance by another owner changes nothing, neither position nor lease",
    );
    assert.equal(
      await store.claimSink("nats", "relay-b", at(45_000), at(75_000)),
      undefined,
      "law: the lease extended by an advance is still live before its new end",
    );
    assert.equal(
      await store.claimSink("nats", "relay-b", at(50_000), at(80_000)),
      10,
      "law: a takeover answers the position the previous holder reached",
    );
    assert.equal(
      await store.advanceSink("nats", "relay-a", 30, at(90_000)),
      false,
      "law: a relay whose lease was taken over cannot advance the sink",
    );
    assert.equal((await positionOf(store, "nats"))?.position, 10, "law: a refused advance moves nothing");
    assert.equal(
      await store.advanceSink("unclaimed", "relay-a", 5, at(90_000)),
      false,
      "law: an advance of a sink nobody claimed answers false",
    );
    assert.equal(await positionOf(store, "unclaimed"), undefined, "law: a refused advance creates no sink");
  });

  it("sinks: a release keeps the position and frees the lease; a release by another owner changes nothing", async (store) => {
    await store.claimSink("webhooks", "relay-a", T0, at(30_000));
    assert.equal(
      await store.advanceSink("webhooks", "relay-a", 7, at(30_000)),
      true,
      "law: the holder advances",
    );
    await store.releaseSink("webhooks", "relay-b");
    assert.deepEqual(
      await positionOf(store, "webhooks"),
      { sink: "webhooks", position: 7, owner: "relay-a", leaseUntil: at(30_000) },
      "law: a release by another owner leaves the holder's lease",
    );
    assert.equal(
      await store.claimSink("webhooks", "relay-b", at(1_000), at(31_000)),
      undefined,
      "law: after another owner's release the lease still refuses others",
    );
    await store.releaseSink("webhooks", "relay-a");
    assert.deepEqual(
      await positionOf(store, "webhooks"),
      { sink: "webhooks", position: 7, owner: null, leaseUntil: null },
      "law: a release keeps the position and clears owner and leaseUntil",
    );
    assert.equal(
      await store.claimSink("webhooks", "relay-b", at(1_000), at(31_000)),
      7,
      "law: a released sink is claimed at once by another owner, at the kept position",
    );
    assert.equal(
      await store.advanceSink("webhooks", "relay-a", 9, at(31_000)),
      false,
      "law: a relay that released its sink no longer advances it",
    );
    await store.releaseSink("never-claimed", "relay-a");
    assert.equal(
      await positionOf(store, "never-claimed"),
      undefined,
      "law: releasing an unknown sink creates none",
    );
  });

  it("sinks: sinkPositions lists every sink with its own position and lease; names are exact", async (store) => {
    // Names that differ by case, by a separator or by a prefix are different sinks.
    await store.claimSink("nats", "relay-a", T0, at(30_000));
    await store.claimSink("NATS", "relay-b", T0, at(40_000));
    await store.claimSink("nats:orders", "relay-c", T0, at(50_000));
    await store.claimSink("nats_", "relay-d", T0, at(60_000));
    await store.advanceSink("nats", "relay-a", 3, at(30_000));
    await store.advanceSink("nats:orders", "relay-c", 8, at(55_000));
    await store.releaseSink("nats_", "relay-d");
    assert.deepEqual(
      await positions(store),
      [
        { sink: "NATS", position: 0, owner: "relay-b", leaseUntil: at(40_000) },
        { sink: "nats", position: 3, owner: "relay-a", leaseUntil: at(30_000) },
        { sink: "nats:orders", position: 8, owner: "relay-c", leaseUntil: at(55_000) },
        { sink: "nats_", position: 0, owner: null, leaseUntil: null },
      ],
      "law: sinkPositions lists exactly the claimed sinks, each with its own position, owner and lease",
    );
    const [row] = await store.sinkPositions();
    (row as { position: number }).position = 999;
    assert.ok(
      (await store.sinkPositions()).every((r) => r.position !== 999),
      "law: mutating what sinkPositions returned changes nothing",
    );
  });

  it("sinks: lastSequence is 0 on an empty store, then the newest outbox sequence of every scope", async (store) => {
    assert.equal(await store.lastSequence(), 0, "law: lastSequence is 0 when the outbox is empty");
    const links = createPaymentLinks({ store, clock: fakeClock(START) });
    for (const scope of [SCOPE, ...NEIGHBOURS, SCOPE]) {
      const link = ok(await links.create(scope, sampleLinkInput(START)), "law: a valid link is created");
      ok(await links.cancel(scope, link.id), "law: a pending link can be canceled");
      const all = await store.readEvents(0, Number.MAX_SAFE_INTEGER);
      assert.equal(
        await store.lastSequence(),
        all[all.length - 1]!.sequence,
        "law: lastSequence equals the sequence of the newest event readEvents returns",
      );
    }
    await store.claimSink("webhooks", "relay-a", T0, at(30_000));
    await store.advanceSink("webhooks", "relay-a", 2, at(30_000));
    const all = await store.readEvents(0, Number.MAX_SAFE_INTEGER);
    assert.equal(all.length, 8, "law: each create and cancel writes one event");
    assert.equal(
      await store.lastSequence(),
      all[all.length - 1]!.sequence,
      "law: lastSequence reads the outbox, not a sink's position",
    );
  });

  it(`races: ${concurrency} concurrent claims of a free sink, then of a lapsed one, by different owners — exactly one wins each`, async (store) => {
    const claims = await Promise.all(
      Array.from({ length: concurrency }, (_, i) => store.claimSink("race", `relay-${i}`, T0, at(30_000))),
    );
    const winners = claims.flatMap((answer, i) => (answer === undefined ? [] : [i]));
    assert.equal(
      winners.length,
      1,
      `law: exactly one of ${concurrency} concurrent claims of a free sink wins (answers: ${claims.join(", ")})`,
    );
    assert.equal(claims[winners[0]!], 0, "law: the winner is handed position 0");
    assert.equal(
      (await positionOf(store, "race"))?.owner,
      `relay-${winners[0]}`,
      "law: the winner holds the lease",
    );
    await store.advanceSink("race", `relay-${winners[0]}`, 5, at(30_000));

    const takeovers = await Promise.all(
      Array.from({ length: concurrency }, (_, i) =>
        store.claimSink("race", `late-${i}`, at(30_000), at(60_000)),
      ),
    );
    const late = takeovers.flatMap((answer, i) => (answer === undefined ? [] : [i]));
    assert.equal(
      late.length,
      1,
      `law: exactly one of ${concurrency} concurrent takeovers of a lapsed lease wins (answers: ${takeovers.join(", ")})`,
    );
    assert.equal(takeovers[late[0]!], 5, "law: the takeover's winner is handed the kept position");
    assert.equal(
      (await positionOf(store, "race"))?.owner,
      `late-${late[0]}`,
      "law: the takeover's winner holds the lease",
    );
  });
}
