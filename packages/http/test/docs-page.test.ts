import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DOCS_SCRIPT } from "../src/docs-page/client.generated.js";
import { compileDocsScript, GENERATED, generatedModule } from "./docs-script.js";
import { setup } from "./helpers.js";

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

describe("the /docs page's script", () => {
  it("is client.ts compiled: the checked-in module is what `pnpm --filter @paylink/http generate` writes", () => {
    expect(readFileSync(GENERATED, "utf8")).toBe(generatedModule(compileDocsScript()));
  });

  it("is a classic script the page can inline: no module syntax, no end of the script element", () => {
    expect(DOCS_SCRIPT).not.toMatch(/^\s*(import|export)\b/m);
    expect(DOCS_SCRIPT).not.toMatch(/<\/script/i);
  });

  it("runs under the page's CSP: the policy names the hashes of the inline script and style served", async () => {
    const s = setup();
    const response = await s.send("GET", "/docs", { key: null });
    const csp = response.headers.get("content-security-policy")!;
    const html = await response.text();
    const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
    const style = /<style>([\s\S]*)<\/style>/.exec(html)![1]!;
    expect(script).toBe(DOCS_SCRIPT);
    expect(csp).toContain(`script-src ${sha256(script)};`);
    expect(csp).toContain(`style-src ${sha256(style)};`);
  });
});
