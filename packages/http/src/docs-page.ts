/**
 * `GET /docs`: an interactive API reference that loads nothing from elsewhere. One HTML page with inline
 * CSS and script renders `openapi.json` (fetched from the same server) — operations, parameters, schemas,
 * responses — and a "Try it" form per operation that sends the request from the browser.
 */
import { createHash } from "node:crypto";

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
.method.get { background: var(--get); } .method.post { background: var(--post); }
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

const SCRIPT = `
(function () {
  "use strict";
  var app = document.getElementById("app");
  var keyInput = document.getElementById("api-key");
  var keyMode = document.getElementById("key-mode");
  function esc(value) {
    return String(value).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function resolve(spec, schema) {
    var guard = 0;
    while (schema && schema.$ref && guard++ < 20) {
      var name = schema.$ref.split("/").pop();
      schema = (spec.components && spec.components.schemas && spec.components.schemas[name]) || {};
    }
    return schema || {};
  }
  function typeOf(spec, schema) {
    if (!schema) return "any";
    if (schema.$ref) return schema.$ref.split("/").pop();
    if (schema.anyOf) return schema.anyOf.map(function (s) { return typeOf(spec, s); }).join(" | ");
    if (schema.oneOf) return schema.oneOf.map(function (s) { return typeOf(spec, s); }).join(" | ");
    if (schema.enum) return schema.enum.map(function (v) { return JSON.stringify(v); }).join(" | ");
    var t = Array.isArray(schema.type) ? schema.type.join(" | ") : schema.type || "any";
    if (t === "array") return typeOf(spec, schema.items) + "[]";
    if (schema.format) t += " (" + schema.format + ")";
    return t;
  }
  function example(spec, schema, depth) {
    schema = resolve(spec, schema);
    if (depth > 6) return null;
    if (schema.example !== undefined) return schema.example;
    if (schema.default !== undefined) return schema.default;
    if (schema.enum) return schema.enum[0];
    if (schema.anyOf) return example(spec, schema.anyOf[0], depth + 1);
    var t = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    if (t === "object") {
      var out = {};
      var props = schema.properties || {};
      var required = schema.required || [];
      Object.keys(props).forEach(function (k) {
        if (required.indexOf(k) >= 0 || props[k].example !== undefined) out[k] = example(spec, props[k], depth + 1);
      });
      return out;
    }
    if (t === "array") return [];
    if (t === "integer" || t === "number") return 0;
    if (t === "boolean") return false;
    if (t === "string") return schema.format === "date-time" ? new Date(Date.now() + 86400000).toISOString() : "string";
    return null;
  }
  function schemaTable(spec, schema) {
    schema = resolve(spec, schema);
    var props = schema.properties;
    if (!props) return "<pre>" + esc(typeOf(spec, schema)) + "</pre>";
    var required = schema.required || [];
    var rows = Object.keys(props).map(function (k) {
      var p = props[k];
      return "<tr><td><code>" + esc(k) + "</code>" + (required.indexOf(k) >= 0 ? " *" : "") + "</td><td><code>" +
        esc(typeOf(spec, p)) + "</code></td><td>" + esc(p.description || "") + "</td></tr>";
    });
    return "<table><tr><th>field</th><th>type</th><th>notes</th></tr>" + rows.join("") + "</table>" +
      (schema.additionalProperties === false ? "<p class=muted>Unknown fields are refused.</p>" : "");
  }
  function operation(spec, path, method, op, index) {
    var params = op.parameters || [];
    var html = "<details class=op id=op-" + index + "><summary><span class='method " + esc(method) + "'>" +
      esc(method.toUpperCase()) + "</span><span class=path>" + esc(path) + "</span><span class=summary>" +
      esc(op.summary || "") + "</span></summary><div class=body>";
    if (op.description) html += "<p>" + esc(op.description) + "</p>";
    if (op.security) {
      html += "<p class=muted>Auth: " + esc(op.security.map(function (s) { return Object.keys(s).join("+"); }).join(" or ")) + "</p>";
    }
    if (params.length) {
      html += "<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th><th>notes</th></tr>" +
        params.map(function (p) {
          return "<tr><td><code>" + esc(p.name) + "</code>" + (p.required ? " *" : "") + "</td><td>" + esc(p.in) +
            "</td><td><code>" + esc(typeOf(spec, p.schema)) + "</code></td><td>" + esc(p.description || (p.schema && p.schema.description) || "") + "</td></tr>";
        }).join("") + "</table>";
    }
    var body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
    if (body) html += "<h4>Body" + (op.requestBody.required ? "" : " (optional)") + "</h4>" + schemaTable(spec, body.schema);
    html += "<h4>Responses</h4><table><tr><th>status</th><th>meaning</th><th>body</th></tr>" +
      Object.keys(op.responses || {}).map(function (status) {
        var r = op.responses[status];
        var c = r.content && r.content["application/json"];
        return "<tr><td>" + esc(status) + "</td><td>" + esc(r.description || "") + "</td><td><code>" +
          esc(c ? typeOf(spec, c.schema) : "") + "</code></td></tr>";
      }).join("") + "</table>";
    html += "<h4>Try it</h4><form data-op=" + index + ">";
    params.forEach(function (p) {
      var value = p.example !== undefined ? p.example : (p.schema && p.schema.example !== undefined ? p.schema.example : "");
      if (p.in === "header") value = "";
      html += "<label>" + esc(p.in) + " <code>" + esc(p.name) + "</code></label><input name='" + esc(p.in + ":" + p.name) +
        "' value='" + esc(value) + "'>";
    });
    if (body) {
      html += "<label>JSON body</label><textarea name=body>" +
        esc(op.requestBody.required ? JSON.stringify(example(spec, body.schema, 0), null, 2) : "") + "</textarea>";
    }
    html += "<button type=submit>Send</button><div class=result></div></form></div></details>";
    return html;
  }
  function render(spec) {
    var ops = [];
    var groups = {};
    Object.keys(spec.paths || {}).forEach(function (path) {
      Object.keys(spec.paths[path]).forEach(function (method) {
        var op = spec.paths[path][method];
        var tag = (op.tags && op.tags[0]) || "Other";
        (groups[tag] = groups[tag] || []).push(ops.length);
        ops.push({ path: path, method: method, op: op });
      });
    });
    var html = "";
    if (spec.info && spec.info.description) html += "<p>" + esc(spec.info.description) + "</p>";
    Object.keys(groups).forEach(function (tag) {
      html += "<h2>" + esc(tag) + "</h2>";
      groups[tag].forEach(function (i) { html += operation(spec, ops[i].path, ops[i].method, ops[i].op, i); });
    });
    app.innerHTML = html;
    var forms = app.querySelectorAll("form[data-op]");
    for (var f = 0; f < forms.length; f++) wire(forms[f], ops[Number(forms[f].getAttribute("data-op"))]);
    return ops.length;
  }
  function wire(form, entry) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var out = form.querySelector(".result");
      var path = entry.path;
      var query = [];
      var headers = {};
      var inputs = form.querySelectorAll("input");
      for (var i = 0; i < inputs.length; i++) {
        var parts = inputs[i].name.split(":");
        var where = parts[0], name = parts.slice(1).join(":"), value = inputs[i].value;
        if (where === "path") path = path.replace("{" + name + "}", encodeURIComponent(value));
        else if (where === "query" && value !== "") query.push(encodeURIComponent(name) + "=" + encodeURIComponent(value));
        else if (where === "header" && value !== "") headers[name] = value;
      }
      var key = keyInput.value.trim();
      if (key) {
        if (keyMode.value === "x-api-key" && entry.path.indexOf("/v1/") !== 0) headers["x-api-key"] = key;
        else headers["Authorization"] = "Bearer " + key;
      }
      var init = { method: entry.method.toUpperCase(), headers: headers };
      var textarea = form.querySelector("textarea");
      if (textarea && textarea.value.trim() !== "") {
        init.body = textarea.value;
        headers["Content-Type"] = "application/json";
      }
      var url = path.replace(/^\\//, "") + (query.length ? "?" + query.join("&") : "");
      out.innerHTML = "<p class=muted>Sending " + esc(init.method + " /" + url) + " …</p>";
      fetch(url, init).then(function (res) {
        return res.text().then(function (text) {
          var pretty = text;
          try { pretty = JSON.stringify(JSON.parse(text), null, 2); } catch (e) {}
          var replay = res.headers.get("Idempotent-Replayed");
          out.innerHTML = "<p class='status " + (res.ok ? "good" : "bad") + "'>HTTP " + res.status +
            (replay ? " (replayed)" : "") + "</p><pre>" + esc(pretty) + "</pre>";
        });
      }).catch(function (error) {
        out.innerHTML = "<p class=error>" + esc(error && error.message ? error.message : String(error)) + "</p>";
      });
    });
  }
  fetch("openapi.json").then(function (res) {
    if (!res.ok) throw new Error("openapi.json answered HTTP " + res.status);
    return res.json();
  }).then(function (spec) {
    document.getElementById("title").textContent = (spec.info && spec.info.title) || "API";
    document.getElementById("version").textContent = "OpenAPI " + spec.openapi + " · version " + ((spec.info && spec.info.version) || "");
    render(spec);
  }).catch(function (error) {
    app.innerHTML = "<p class=error>Could not load openapi.json: " + esc(error && error.message ? error.message : String(error)) + "</p>";
  });
})();
`;

const hash = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

/**
 * The Content-Security-Policy of the page: only its own inline script and style (by hash) and requests to
 * the same origin. Nothing external can load.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  `script-src ${hash(SCRIPT)}`,
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
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** The inline script, for tests that run it against a stub DOM. */
export const DOCS_SCRIPT = SCRIPT;
