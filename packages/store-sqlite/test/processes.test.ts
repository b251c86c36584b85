/**
 * Real processes on one file: a writer killed with SIGKILL mid-writes, two writers racing on the same
 * links, and several processes opening (and so migrating) one new file at the same instant.
 */
import { writeFileSync } from "node:fs";
import { createPaymentLinks, type DomainEvent } from "@paylink/core";
import { afterAll, expect, test } from "vitest";
import { createSqliteStore } from "../src/index.js";
import { MIGRATIONS } from "../src/migrations.js";
import { rawDb, startWorker, tempDir } from "./helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const scope = { accountId: "acct_worker", livemode: false };

/** Outbox event types per payment id, read with raw SQL. */
function eventTypes(file: string): Map<string, string[]> {
  const db = rawDb(file, { readonly: true });
  try {
    const byId = new Map<string, string[]>();
    const rows = db.prepare("SELECT payment_id, event FROM outbox ORDER BY sequence").all() as {
      payment_id: string;
      event: string;
    }[];
    for (const row of rows) {
      const type = (JSON.parse(row.event) as DomainEvent).type;
      byId.set(row.payment_id, [...(byId.get(row.payment_id) ?? []), type]);
    }
    return byId;
  } finally {
    db.close();
  }
}

test("kill -9 mid-writes: every cancel that returned Ok is on disk once, and the file is intact", async () => {
  const file = tmp.file();
  const printed: string[] = [];
  // Three lives on one file: each restart also recovers the WAL the previous process left behind.
  for (const target of [150, 260, 90]) {
    const worker = startWorker(["cancel-loop", file]);
    const canceledLines = () => worker.lines.filter((line) => line.startsWith("canceled "));
    await worker.waitFor(() => canceledLines().length >= target, 60_000);
    worker.child.kill("SIGKILL");
    const { signal } = await worker.exited;
    expect(signal).toBe("SIGKILL");
    expect(worker.lines.filter((line) => line.startsWith("error"))).toEqual([]);
    printed.push(...canceledLines().map((line) => line.slice("canceled ".length)));
  }
  expect(printed.length).toBeGreaterThanOrEqual(500);

  const db = rawDb(file);
  try {
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    const rows = db.prepare("SELECT id, status, version, payment FROM payments").all() as {
      id: string;
      status: string;
      version: number;
      payment: string;
    }[];
    const byId = new Map(rows.map((row) => [row.id, row]));
    const events = eventTypes(file);
    for (const id of printed) {
      const row = byId.get(id);
      expect(row?.status, id).toBe("canceled");
      expect(JSON.parse(row!.payment).status).toBe("canceled");
      expect(row?.version).toBe(2);
      expect(events.get(id)).toEqual(["payment_link.created", "payment_link.canceled"]);
    }
    // Whatever the kill interrupted is all or nothing: a link is either pending with only its creation,
    // or canceled with both events; never a canceled row without its event or the reverse.
    for (const row of rows) {
      const expected =
        row.status === "pending"
          ? { version: 1, events: ["payment_link.created"] }
          : { version: 2, events: ["payment_link.created", "payment_link.canceled"] };
      expect(["pending", "canceled"]).toContain(row.status);
      expect({ version: row.version, events: events.get(row.id) }).toEqual(expected);
    }
    // And no event without its payment.
    for (const id of events.keys()) expect(byId.has(id)).toBe(true);
  } finally {
    db.close();
  }

  // The store itself reopens the file and reads the same.
  const store = createSqliteStore({ filename: file });
  const links = createPaymentLinks({ store });
  const last = printed[printed.length - 1]!;
  expect((await links.get(scope, last))._unsafeUnwrap().status).toBe("canceled");
  store.close();
}, 120_000);

test("two processes race cancel against startPayment on 200 links: exactly one wins each link", async () => {
  const file = tmp.file();
  const store = createSqliteStore({ filename: file });
  const links = createPaymentLinks({ store });
  const ids: string[] = [];
  for (let i = 0; i < 200; i++) {
    const created = await links.create(scope, {
      customerId: "cus_1",
      provider: "stripe",
      amountSubtotal: 1000,
      currency: "GBP",
      expiresAt: new Date(Date.now() + 86_400_000),
    });
    ids.push(created._unsafeUnwrap().id);
  }
  store.close();
  const idsFile = `${tmp.dir}/race-ids.json`;
  writeFileSync(idsFile, JSON.stringify(ids));

  const canceler = startWorker(["race", file, "cancel", idsFile]);
  const starter = startWorker(["race", file, "startPayment", idsFile]);
  await Promise.all([canceler.waitFor((l) => l === "ready"), starter.waitFor((l) => l === "ready")]);
  canceler.child.stdin.end("go\n");
  starter.child.stdin.end("go\n");
  type Results = Record<string, { won: boolean; code?: string }>;
  const parse = (line: string) => JSON.parse(line.slice("result ".length)) as Results;
  const [cancels, starts] = (
    await Promise.all([
      canceler.waitFor((l) => l.startsWith("result "), 60_000),
      starter.waitFor((l) => l.startsWith("result "), 60_000),
    ])
  ).map(parse) as [Results, Results];
  expect((await canceler.exited).code).toBe(0);
  expect((await starter.exited).code).toBe(0);
  // No busy error reached either process, handled or not.
  expect(canceler.stderr() + starter.stderr()).not.toMatch(/busy|locked/i);

  const db = rawDb(file, { readonly: true });
  const statuses = new Map(
    (db.prepare("SELECT id, status FROM payments").all() as { id: string; status: string }[]).map((r) => [
      r.id,
      r.status,
    ]),
  );
  db.close();
  const events = eventTypes(file);
  let canceledCount = 0;
  for (const id of ids) {
    const cancel = cancels[id]!;
    const start = starts[id]!;
    expect(cancel.won !== start.won, `exactly one winner for ${id}`).toBe(true);
    // The loser was refused by the lifecycle, never by the store.
    if (!cancel.won) expect(cancel.code).toBe("payment_not_cancelable");
    if (!start.won) expect(start.code).toBe("link_not_payable");
    expect(statuses.get(id)).toBe(cancel.won ? "canceled" : "processing");
    expect(events.get(id)).toEqual([
      "payment_link.created",
      cancel.won ? "payment_link.canceled" : "payment_link.payment_started",
    ]);
    if (cancel.won) canceledCount++;
  }
  console.log(`race: cancel won ${canceledCount} links, startPayment won ${ids.length - canceledCount}`);
}, 120_000);

test("four processes open one new file at the same instant: all succeed, migrations applied once", async () => {
  const file = tmp.file();
  const workers = Array.from({ length: 4 }, () => startWorker(["open", file]));
  await Promise.all(workers.map((w) => w.waitFor((l) => l === "ready")));
  for (const w of workers) w.child.stdin.end("go\n");
  const answers = await Promise.all(workers.map((w) => w.waitFor((l) => /^(ok|error) /.test(l))));
  for (const answer of answers) expect(answer).toMatch(/^ok pay_/);
  const db = rawDb(file, { readonly: true });
  try {
    const versions = db
      .prepare("SELECT version FROM paylink_schema_migrations ORDER BY version")
      .pluck()
      .all();
    expect(versions).toEqual(MIGRATIONS.map((m) => m.version));
    expect(db.prepare("SELECT count(*) FROM payments").pluck().get()).toBe(4);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
  } finally {
    db.close();
  }
}, 60_000);
