import { defineConfig } from "tsup";
import { base } from "../../tsup.base";

// Two entries, the main one and the store-writer kit (`@paylink/core/store`). Split, so that the code
// both use (the machine the due statuses are read off) is one shared chunk, built once per process.
export default defineConfig({
  ...base,
  entry: { index: "src/index.ts", store: "src/store-kit/index.ts" },
  splitting: true,
});
