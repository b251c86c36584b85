import { expect } from "vitest";
import type { RawRequest } from "./arbitraries.js";
import { ERROR_A_KEYS } from "./helpers.js";

/** Checks one response: never 5xx, and any error is exactly one dialect's shape without internals. */
export async function checkResponse(raw: RawRequest, response: Response): Promise<void> {
  const context = `${raw.method} ${raw.path.slice(0, 120)} → ${response.status}`;
  expect(response.status, context).toBeLessThan(500);
  const text = await response.text();
  if (raw.method === "HEAD") return;
  const type = response.headers.get("content-type") ?? "";
  if (!type.startsWith("application/json")) {
    // Only the documentation routes answer something other than JSON.
    expect(response.status, context).toBe(200);
    return;
  }
  expect(text, context).not.toMatch(/\bat .*\.(ts|js):\d+|Error:|SQLITE|stack/);
  const body = JSON.parse(text) as Record<string, unknown>;
  if (response.status >= 400) {
    if ("success" in body) {
      expect(Object.keys(body), context).toEqual(["success", "error"]);
      expect(body.success).toBe(false);
      const error = body.error as Record<string, unknown>;
      expect(Object.keys(error), context).toEqual(ERROR_A_KEYS);
      expect(typeof error.code).toBe("string");
      expect(typeof error.message).toBe("string");
      expect(typeof error.doc_url).toBe("string");
    } else {
      expect(Object.keys(body), context).toEqual(["code", "message"]);
    }
  }
}
