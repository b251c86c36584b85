// Generated from client.ts by `pnpm --filter @paylink/http generate`. Do not edit: a test fails on drift.

/** The script of the `/docs` page, compiled from `client.ts`; the page inlines it and hashes it for its CSP. */
export const DOCS_SCRIPT = `(() => {
  const app = document.getElementById("app");
  const keyInput = document.getElementById("api-key");
  const keyMode = document.getElementById("key-mode");
  const ENTITIES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#39;"
  };
  function esc(value) {
    return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
  }
  const refName = (ref) => ref.split("/").pop() ?? "";
  function resolve(spec, schema) {
    let guard = 0;
    while (schema?.$ref && guard++ < 20) {
      schema = spec.components?.schemas?.[refName(schema.$ref)] ?? {};
    }
    return schema ?? {};
  }
  function typeOf(spec, schema) {
    if (!schema) return "any";
    if (schema.$ref) return refName(schema.$ref);
    if (schema.anyOf) return schema.anyOf.map((s) => typeOf(spec, s)).join(" | ");
    if (schema.oneOf) return schema.oneOf.map((s) => typeOf(spec, s)).join(" | ");
    if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
    let type = Array.isArray(schema.type) ? schema.type.join(" | ") : schema.type || "any";
    if (type === "array") return \`\${typeOf(spec, schema.items)}[]\`;
    if (schema.format) type += \` (\${schema.format})\`;
    return type;
  }
  function example(spec, given, depth) {
    const schema = resolve(spec, given);
    if (depth > 6) return null;
    if (schema.example !== void 0) return schema.example;
    if (schema.default !== void 0) return schema.default;
    if (schema.enum) return schema.enum[0];
    if (schema.anyOf) return example(spec, schema.anyOf[0], depth + 1);
    const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    if (type === "object") {
      const out = {};
      const props = schema.properties ?? {};
      const required = schema.required ?? [];
      for (const k of Object.keys(props)) {
        const prop = props[k];
        if (required.indexOf(k) >= 0 || prop.example !== void 0) out[k] = example(spec, prop, depth + 1);
      }
      return out;
    }
    if (type === "array") return [];
    if (type === "integer" || type === "number") return 0;
    if (type === "boolean") return false;
    if (type === "string") {
      return schema.format === "date-time" ? new Date(Date.now() + 864e5).toISOString() : "string";
    }
    return null;
  }
  function schemaTable(spec, given) {
    const schema = resolve(spec, given);
    const props = schema.properties;
    if (!props) return \`<pre>\${esc(typeOf(spec, schema))}</pre>\`;
    const required = schema.required ?? [];
    const rows = Object.keys(props).map((k) => {
      const p = props[k];
      return \`<tr><td><code>\${esc(k)}</code>\${required.indexOf(k) >= 0 ? " *" : ""}</td><td><code>\${esc(
        typeOf(spec, p)
      )}</code></td><td>\${esc(p.description || "")}</td></tr>\`;
    });
    return \`<table><tr><th>field</th><th>type</th><th>notes</th></tr>\${rows.join("")}</table>\` + (schema.additionalProperties === false ? "<p class=muted>Unknown fields are refused.</p>" : "");
  }
  function operation(spec, { path, method, op }, index) {
    const params = op.parameters ?? [];
    let html = \`<details class=op id=op-\${index}><summary><span class='method \${esc(method)}'>\${esc(method.toUpperCase())}</span><span class=path>\${esc(path)}</span><span class=summary>\${esc(op.summary || "")}</span></summary><div class=body>\`;
    if (op.description) html += \`<p>\${esc(op.description)}</p>\`;
    if (op.security) {
      const schemes = op.security.map((s) => Object.keys(s).join("+")).join(" or ");
      html += \`<p class=muted>Auth: \${esc(schemes)}</p>\`;
    }
    if (params.length) {
      html += "<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th><th>notes</th></tr>" + params.map(
        (p) => \`<tr><td><code>\${esc(p.name)}</code>\${p.required ? " *" : ""}</td><td>\${esc(p.in)}</td><td><code>\${esc(typeOf(spec, p.schema))}</code></td><td>\${esc(p.description || p.schema?.description || "")}</td></tr>\`
      ).join("") + "</table>";
    }
    const body = op.requestBody?.content?.["application/json"];
    if (body) {
      html += \`<h4>Body\${op.requestBody?.required ? "" : " (optional)"}</h4>\${schemaTable(spec, body.schema)}\`;
    }
    const responses = op.responses ?? {};
    html += "<h4>Responses</h4><table><tr><th>status</th><th>meaning</th><th>body</th></tr>" + Object.keys(responses).map((status) => {
      const r = responses[status] ?? {};
      const c = r.content?.["application/json"];
      return \`<tr><td>\${esc(status)}</td><td>\${esc(r.description || "")}</td><td><code>\${esc(
        c ? typeOf(spec, c.schema) : ""
      )}</code></td></tr>\`;
    }).join("") + "</table>";
    html += \`<h4>Try it</h4><form data-op=\${index}>\`;
    for (const p of params) {
      let value = p.example !== void 0 ? p.example : p.schema?.example !== void 0 ? p.schema.example : "";
      if (p.in === "header") value = "";
      html += \`<label>\${esc(p.in)} <code>\${esc(p.name)}</code></label><input name='\${esc(\`\${p.in}:\${p.name}\`)}' value='\${esc(
        value
      )}'>\`;
    }
    if (body) {
      const sample = op.requestBody?.required ? JSON.stringify(example(spec, body.schema, 0), null, 2) : "";
      html += \`<label>JSON body</label><textarea name=body>\${esc(sample)}</textarea>\`;
    }
    html += "<button type=submit>Send</button><div class=result></div></form></div></details>";
    return html;
  }
  function render(spec) {
    const ops = [];
    const groups = {};
    const paths = spec.paths ?? {};
    for (const path of Object.keys(paths)) {
      const methods = paths[path] ?? {};
      for (const method of Object.keys(methods)) {
        const op = methods[method];
        const tag = op.tags?.[0] || "Other";
        groups[tag] ?? (groups[tag] = []);
        groups[tag].push(ops.length);
        ops.push({ path, method, op });
      }
    }
    let html = "";
    if (spec.info?.description) html += \`<p>\${esc(spec.info.description)}</p>\`;
    for (const tag of Object.keys(groups)) {
      html += \`<h2>\${esc(tag)}</h2>\`;
      for (const i of groups[tag] ?? []) html += operation(spec, ops[i], i);
    }
    app.innerHTML = html;
    const forms = app.querySelectorAll("form[data-op]");
    for (let f = 0; f < forms.length; f++) {
      const form = forms[f];
      wire(form, ops[Number(form.getAttribute("data-op"))]);
    }
    return ops.length;
  }
  const messageOf = (error) => error && error.message ? String(error.message) : String(error);
  function wire(form, entry) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const out = form.querySelector(".result");
      let path = entry.path;
      const query = [];
      const headers = {};
      const inputs = form.querySelectorAll("input");
      for (let i = 0; i < inputs.length; i++) {
        const input = inputs[i];
        const parts = input.name.split(":");
        const where = parts[0];
        const name = parts.slice(1).join(":");
        const value = input.value;
        if (where === "path") path = path.replace(\`{\${name}}\`, encodeURIComponent(value));
        else if (where === "query" && value !== "")
          query.push(\`\${encodeURIComponent(name)}=\${encodeURIComponent(value)}\`);
        else if (where === "header" && value !== "") headers[name] = value;
      }
      const key = keyInput.value.trim();
      if (key) {
        if (keyMode.value === "x-api-key" && entry.path.indexOf("/v1/") !== 0) headers["x-api-key"] = key;
        else headers.Authorization = \`Bearer \${key}\`;
      }
      const init = {
        method: entry.method.toUpperCase(),
        headers
      };
      const textarea = form.querySelector("textarea");
      if (textarea && textarea.value.trim() !== "") {
        init.body = textarea.value;
        headers["Content-Type"] = "application/json";
      }
      const url = path.replace(/^\\//, "") + (query.length ? \`?\${query.join("&")}\` : "");
      out.innerHTML = \`<p class=muted>Sending \${esc(\`\${init.method} /\${url}\`)} …</p>\`;
      fetch(url, init).then(
        (res) => res.text().then((text) => {
          let pretty = text;
          try {
            pretty = JSON.stringify(JSON.parse(text), null, 2);
          } catch {
          }
          const replay = res.headers.get("Idempotent-Replayed");
          out.innerHTML = \`<p class='status \${res.ok ? "good" : "bad"}'>HTTP \${res.status}\${replay ? " (replayed)" : ""}</p><pre>\${esc(pretty)}</pre>\`;
        })
      ).catch((error) => {
        out.innerHTML = \`<p class=error>\${esc(messageOf(error))}</p>\`;
      });
    });
  }
  fetch("openapi.json").then((res) => {
    if (!res.ok) throw new Error(\`openapi.json answered HTTP \${res.status}\`);
    return res.json();
  }).then((spec) => {
    document.getElementById("title").textContent = spec.info?.title || "API";
    document.getElementById("version").textContent = \`OpenAPI \${spec.openapi} · version \${spec.info?.version || ""}\`;
    render(spec);
  }).catch((error) => {
    app.innerHTML = \`<p class=error>Could not load openapi.json: \${esc(messageOf(error))}</p>\`;
  });
})();
`;
