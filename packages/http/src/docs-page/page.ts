/**
 * `GET /docs`: an interactive API reference that loads nothing from elsewhere. One HTML page with inline
 * CSS and script (`client.ts`, compiled into `client.generated.ts`) renders `openapi.json`, fetched from
 * the same server, with a "Try it" form per operation that sends the request from the browser.
 */
import { createHash } from "node:crypto";
import { DOCS_SCRIPT } from "./client.generated.js";

const STYLE = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5b6475; --bg: #ffffff; --panel: #f5f7fa;
  --line: #dde2ea; --accent: #2d5bd7; --get: #1f7a4d; --post: #2d5bd7; --bad: #b3261e; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --muted: #9aa3b2; --bg: #14171c; --panel: #1c2027;
  --line: #2c323c; --accent: #7fa2ff; --get: #5cc98f; --post: #7fa2ff; --bad: #ff8a80; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 20px 28px; border-bottom: 1px solid var(--line); display: flex; gap: 24px; align-items: end; flex-wrap: wrap; }
header h1 { margin: 0; font-size: 22px; }
header .meta { color: var(--muted); font-size: 13px; }
main { padding: 12px 28px 60px; max-width: 1100px; }
h2 { margin: 28px 0 8px; font-size: 18px; }
details.op { border: 1px solid var(--line); border-radius: 8px; margin: 10px 0; background: var(--panel); }
details.op > summary { cursor: pointer; padding: 10px 14px; display: flex; gap: 12px; align-items: center; list-style: none; }
details.op > summary::-webkit-details-marker { display: none; }
.method { font: 700 12px/1 ui-monospace, monospace; padding: 5px 8px; border-radius: 4px; color: #fff; min-width: 52px; text-align: center; }
.method.get { background: var(--get); } .method.post { background: var(--post); } .method.delete { background: var(--bad); }
.path { font-family: ui-monospace, monospace; font-weight: 600; }
.summary { color: var(--muted); }
.body { padding: 4px 16px 16px; border-top: 1px solid var(--line); background: var(--bg); border-radius: 0 0 8px 8px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
code, pre, textarea, input, select { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px; overflow: auto; max-height: 420px; margin: 6px 0; }
label { display: block; margin: 8px 0 2px; font-size: 13px; color: var(--muted); }
input, textarea, select { width: 100%; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); }
textarea { min-height: 140px; }
button { margin-top: 10px; padding: 7px 16px; border: 0; border-radius: 6px; background: var(--accent); color: #fff; font-weight: 600; cursor: pointer; }
.status { font-weight: 700; } .status.bad { color: var(--bad); } .status.good { color: var(--get); }
.key { display: flex; gap: 8px; align-items: end; } .key input { width: 260px; } .key select { width: 140px; }
.muted { color: var(--muted); } .error { color: var(--bad); }
`;

const hash = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

/**
 * The Content-Security-Policy of the page: only its own inline script and style (by hash) and requests to
 * the same origin. Nothing external can load.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  `script-src ${hash(DOCS_SCRIPT)}`,
  `style-src ${hash(STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** The HTML of `/docs`. */
export function docsPage(title: string): string {
  const safeTitle = title.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${safeTitle} — API reference</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <div><h1 id="title">${safeTitle}</h1><div class="meta" id="version">loading openapi.json …</div></div>
  <div class="key">
    <div><label for="api-key">API key</label><input id="api-key" autocomplete="off" placeholder="sk_test_…"></div>
    <div><label for="key-mode">send as</label><select id="key-mode"><option value="x-api-key">x-api-key</option><option value="bearer">Bearer</option></select></div>
  </div>
</header>
<main id="app"><p class="muted">Loading …</p></main>
<script>${DOCS_SCRIPT}</script>
</body>
</html>
`;
}
