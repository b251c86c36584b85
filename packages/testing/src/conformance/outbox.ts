import assert from "node:assert/strict";
import type { StoredEvent } from "@paylink/core";
import { insertSample, SCOPE, type Suite, sampleEvent } from "./kit.js";

/** The outbox as a publisher reads it: `readEvents(after, limit)` paging by the last sequence seen. */
export function outboxTests({ it }: Suite): void {
  it("outbox: events are read back in commit order, each once, with increasing sequences", async (store) => {
    const written: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { payment, event } = await insertSample(store);
      written.push(event.id);
      const next = { ...payment, status: "expired" as const };
      // Two events in one write, as a late payment on a due link writes them.
      const expired = sampleEvent(next, "payment_link.expired");
      const late = sampleEvent(next, "payment_link.late_payment");
      assert.equal(
        await store.compareAndSwap(SCOPE, { payment: next, version: 2 }, 1, [expired, late]),
        true,
        "law: compareAndSwap at the stored version answers true",
      );
      written.push(expired.id, late.id);
    }
    // Page through with a small limit, as a publisher would.
    const read: StoredEvent[] = [];
    let after = 0;
    for (let pages = 0; pages <= written.length; pages++) {
      const page = await store.readEvents(after, 4);
      if (page.length === 0) break;
      assert.ok(page.length <= 4, `law: readEvents returns at most limit events (got ${page.length})`);
      read.push(...page);
      after = page[page.length - 1]!.sequence;
    }
    for (let i = 1; i < read.length; i++) {
      assert.ok(
        read[i]!.sequence > read[i - 1]!.sequence,
        `law: sequences strictly increase (${read[i - 1]!.sequence} then ${read[i]!.sequence})`,
      );
    }
    assert.deepEqual(
      read.map((stored) => stored.event.id),
      written,
      "law: paging by the last sequence seen reads every committed event exactly once, in commit order",
    );
    assert.deepEqual(await store.readEvents(after, 4), [], "law: nothing follows the last committed event");
    assert.deepEqual(
      (await store.readEvents(0, 1)).map((stored) => stored.event.id),
      written.slice(0, 1),
      "law: reading again from the start gives the same first event",
    );
  });
}
