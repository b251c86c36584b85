/**
 * Which database the suite ran on, and CI's guard: with PAYLINK_REQUIRE_PG=1 a run that would fall
 * back to PGlite (no PAYLINK_PG_URL, or a server that does not answer) fails here instead of passing
 * with the multi-connection tests skipped.
 */
import { expect, test } from "vitest";
import { openBackend, REQUIRE_PG } from "./support.js";

const backend = await openBackend({ lazy: true });

test(
  REQUIRE_PG
    ? "PAYLINK_REQUIRE_PG=1: the PostgreSQL server suite runs (this fails when it would be skipped)"
    : `backend: ${backend.kind === "server" ? "PostgreSQL server at PAYLINK_PG_URL" : `PGlite in-process, server suite skipped (${backend.serverMissing})`}`,
  async () => {
    if (REQUIRE_PG) {
      expect(
        backend.kind,
        `PAYLINK_REQUIRE_PG=1 but the server suite would be skipped: ${backend.serverMissing}`,
      ).toBe("server");
    }
    await backend.close();
  },
);
