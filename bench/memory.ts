/**
 * A cancel through core on the memory store, next to the least a hand-written in-memory implementation
 * could do: a `Map` lookup, a version check and a swap of a new object. The ratio is the whole cost of
 * Paylink's command path without any I/O: scope check, read (a copy), lazy-expiry check, the compiled
 * decision, timestamps, the outbox event (with its id), the compare-and-swap (a copy) and the Result.
 * There is no target: no store is this cheap, so this row shows what core costs per command.
 */
import { createPaymentLinks, type Payment, type Scope } from "@paylink/core";
import { createMemoryStore } from "@paylink/store-memory";
import { sampleLinkInput } from "@paylink/testing";
import { type BenchModuleResult, compare } from "./harness.js";

const scope: Scope = { accountId: "acct_bench", livemode: false };
const POOL = 400_000;

/** Runs the memory-store benchmark. */
export async function run(): Promise<BenchModuleResult> {
  const links = createPaymentLinks({ store: createMemoryStore() });
  const input = sampleLinkInput(new Date(), { expiresAt: new Date(Date.now() + 365 * 86_400_000) });
  const ids: string[] = [];
  for (let i = 0; i < POOL; i++) ids.push((await links.create(scope, input))._unsafeUnwrap().id);
  const template = (await links.get(scope, ids[0]!))._unsafeUnwrap();

  // The baseline's own rows: the same payments in a Map with their versions.
  const map = new Map<string, { payment: Payment; version: number }>();
  const mapIds = Array.from({ length: 10_000 }, (_, i) => `pay_map_${i}`);
  for (const id of mapIds) map.set(id, { payment: { ...template, id }, version: 1 });

  let next = 0;
  let b = 0;
  const row = await compare(
    "cancel on the memory store, 1 caller",
    {
      name: "links.cancel + memory store",
      fn: async () => {
        const id = ids[next++];
        if (id === undefined) throw new Error("bench/memory: the link pool ran dry; raise POOL");
        const result = await links.cancel(scope, id);
        if (result.isErr() || !result.value.changed) throw new Error(`cancel failed for ${id}`);
      },
    },
    {
      name: "Map compare-and-swap",
      fn: () => {
        const id = mapIds[b++ % mapIds.length]!;
        const current = map.get(id)!;
        const expected = current.version;
        if (map.get(id)!.version !== expected) throw new Error("lost the swap");
        map.set(id, {
          payment: { ...current.payment, status: "canceled", updatedAt: new Date().toISOString() },
          version: expected + 1,
        });
      },
    },
    // 5 rounds of (100 ms + tinybench's warmup) at ≈ 200 k cancels/s stay well inside POOL.
    { rounds: 5, timeMs: 100, unit: "cancel" },
  );
  return { rows: [row] };
}
