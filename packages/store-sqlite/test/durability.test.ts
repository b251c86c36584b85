/**
 * The `synchronous` option: the durability a commit gets is the one asked for, on the store's own
 * connection, and nothing else is accepted.
 */
import Database from "better-sqlite3";
import { afterAll, expect, test, vi } from "vitest";
import { createSqliteStore, type SqliteStoreOptions } from "../src/index.js";
import { tempDir } from "./helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/**
 * `PRAGMA synchronous` as the store's own connection has it (0 OFF, 1 NORMAL, 2 FULL). The pragma is per
 * connection, so no other connection can tell: the probe catches the store's as it opens.
 */
function storeSynchronous(options: Omit<SqliteStoreOptions, "filename">): number {
  const opened = vi.spyOn(Database.prototype, "pragma");
  const store = createSqliteStore({ filename: tmp.file(), ...options });
  const connection = opened.mock.contexts[0] as Database.Database | undefined;
  opened.mockRestore();
  try {
    expect(connection, "the store opened its connection").toBeInstanceOf(Database);
    return connection!.pragma("synchronous", { simple: true }) as number;
  } finally {
    store.close();
  }
}

test('synchronous: "full" by default, "normal" when asked, on the store\'s own connection', () => {
  expect(storeSynchronous({})).toBe(2);
  expect(storeSynchronous({ synchronous: "full" })).toBe(2);
  expect(storeSynchronous({ synchronous: "normal" })).toBe(1);
});

test("synchronous: anything else is refused with a TypeError", () => {
  for (const synchronous of ["off", "FULL", "extra", "", null, 1]) {
    expect(
      () => createSqliteStore({ filename: tmp.file(), synchronous: synchronous as never }),
      String(synchronous),
    ).toThrow(TypeError);
  }
});
