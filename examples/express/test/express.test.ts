import { expect } from "vitest";
import { mountedPaylinkSuite } from "../../shared/mounted-suite.js";
import { API_KEY, createExpressExample, listen, PREFIX } from "../main.js";

mountedPaylinkSuite({
  name: "an Express 5 app",
  prefix: PREFIX,
  apiKey: API_KEY,
  async start() {
    const example = await createExpressExample();
    const server = await listen(example.app, 0);
    const address = server.address();
    if (address === null || typeof address !== "object") throw new Error("no port");
    return {
      base: `http://127.0.0.1:${address.port}`,
      paylink: example.paylink,
      ids: example.ids,
      close: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    };
  },
  // Express's own 404 is an HTML page, not Paylink's JSON envelope.
  expectHostNotFound(response) {
    expect(response.headers.get("content-type")).not.toContain("application/json");
  },
});
