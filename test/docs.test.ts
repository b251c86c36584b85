import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { generatedDocs } from "../scripts/docs.js";

const root = fileURLToPath(new URL("..", import.meta.url));

describe("generated docs", () => {
  test("the committed docs equal what the machine and the error registry generate (run `pnpm docs:generate`)", async () => {
    for (const [path, content] of Object.entries(await generatedDocs())) {
      expect(readFileSync(`${root}${path}`, "utf8"), path).toBe(content);
    }
  });
});
