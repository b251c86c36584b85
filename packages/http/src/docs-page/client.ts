/**
 * The script of `GET /docs`, run in the browser: it renders `openapi.json` (fetched from the same
 * server, by a relative URL so a mounted app works too) and wires a "Try it" form per operation.
 *
 * It is compiled to `client.generated.ts` (`pnpm --filter @paylink/http generate`), which the page inlines
 * and hashes into its Content-Security-Policy; a test fails when the two drift. It uses no globals but
 * `document`, `fetch` and the language's own, so a test can run it against a stub DOM.
 */

/** The parts of a JSON Schema the page shows. */
interface Schema {
  readonly $ref?: string;
  readonly type?: string | readonly string[];
  readonly format?: string;
  readonly description?: string;
  readonly example?: unknown;
  readonly default?: unknown;
  readonly enum?: readonly unknown[];
  readonly anyOf?: readonly Schema[];
  readonly oneOf?: readonly Schema[];
  readonly items?: Schema;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | Schema;
}

interface Parameter {
  readonly name: string;
  readonly in: string;
  readonly required?: boolean;
  readonly description?: string;
  readonly example?: unknown;
  readonly schema?: Schema;
}

interface MediaType {
  readonly schema?: Schema;
}

interface Operation {
  readonly summary?: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly security?: readonly Readonly<Record<string, unknown>>[];
  readonly parameters?: readonly Parameter[];
  readonly requestBody?: {
    readonly required?: boolean;
    readonly content?: Readonly<Record<string, MediaType>>;
  };
  readonly responses?: Readonly<
    Record<string, { readonly description?: string; readonly content?: Readonly<Record<string, MediaType>> }>
  >;
}

interface Spec {
  readonly openapi: string;
  readonly info?: { readonly title?: string; readonly version?: string; readonly description?: string };
  readonly paths?: Readonly<Record<string, Readonly<Record<string, Operation>>>>;
  readonly components?: { readonly schemas?: Readonly<Record<string, Schema>> };
}

interface Entry {
  readonly path: string;
  readonly method: string;
  readonly op: Operation;
}

const app = document.getElementById("app") as HTMLElement;
const keyInput = document.getElementById("api-key") as HTMLInputElement;
const keyMode = document.getElementById("key-mode") as HTMLSelectElement;

const ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text made safe for HTML, in element content and in quoted attributes. */
function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

const refName = (ref: string) => ref.split("/").pop() ?? "";

function resolve(spec: Spec, schema: Schema | undefined): Schema {
  let guard = 0;
  while (schema?.$ref && guard++ < 20) {
    schema = spec.components?.schemas?.[refName(schema.$ref)] ?? {};
  }
  return schema ?? {};
}

function typeOf(spec: Spec, schema: Schema | undefined): string {
  if (!schema) return "any";
  if (schema.$ref) return refName(schema.$ref);
  if (schema.anyOf) return schema.anyOf.map((s) => typeOf(spec, s)).join(" | ");
  if (schema.oneOf) return schema.oneOf.map((s) => typeOf(spec, s)).join(" | ");
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  let type = Array.isArray(schema.type)
    ? schema.type.join(" | ")
    : (schema.type as string | undefined) || "any";
  if (type === "array") return `${typeOf(spec, schema.items)}[]`;
  if (schema.format) type += ` (${schema.format})`;
  return type;
}

/** A value that fits `schema`, for the body of a "Try it" form. */
function example(spec: Spec, given: Schema | undefined, depth: number): unknown {
  const schema = resolve(spec, given);
  if (depth > 6) return null;
  if (schema.example !== undefined) return schema.example;
  if (schema.default !== undefined) return schema.default;
  if (schema.enum) return schema.enum[0];
  if (schema.anyOf) return example(spec, schema.anyOf[0], depth + 1);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === "object") {
    const out: Record<string, unknown> = {};
    const props = schema.properties ?? {};
    const required = schema.required ?? [];
    for (const k of Object.keys(props)) {
      const prop = props[k] as Schema;
      if (required.indexOf(k) >= 0 || prop.example !== undefined) out[k] = example(spec, prop, depth + 1);
    }
    return out;
  }
  if (type === "array") return [];
  if (type === "integer" || type === "number") return 0;
  if (type === "boolean") return false;
  if (type === "string") {
    return schema.format === "date-time" ? new Date(Date.now() + 86400000).toISOString() : "string";
  }
  return null;
}

function schemaTable(spec: Spec, given: Schema | undefined): string {
  const schema = resolve(spec, given);
  const props = schema.properties;
  if (!props) return `<pre>${esc(typeOf(spec, schema))}</pre>`;
  const required = schema.required ?? [];
  const rows = Object.keys(props).map((k) => {
    const p = props[k] as Schema;
    return `<tr><td><code>${esc(k)}</code>${required.indexOf(k) >= 0 ? " *" : ""}</td><td><code>${esc(
      typeOf(spec, p),
    )}</code></td><td>${esc(p.description || "")}</td></tr>`;
  });
  return (
    `<table><tr><th>field</th><th>type</th><th>notes</th></tr>${rows.join("")}</table>` +
    (schema.additionalProperties === false ? "<p class=muted>Unknown fields are refused.</p>" : "")
  );
}

function operation(spec: Spec, { path, method, op }: Entry, index: number): string {
  const params = op.parameters ?? [];
  let html =
    `<details class=op id=op-${index}><summary><span class='method ${esc(method)}'>` +
    `${esc(method.toUpperCase())}</span><span class=path>${esc(path)}</span><span class=summary>` +
    `${esc(op.summary || "")}</span></summary><div class=body>`;
  if (op.description) html += `<p>${esc(op.description)}</p>`;
  if (op.security) {
    const schemes = op.security.map((s) => Object.keys(s).join("+")).join(" or ");
    html += `<p class=muted>Auth: ${esc(schemes)}</p>`;
  }
  if (params.length) {
    html +=
      "<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th><th>notes</th></tr>" +
      params
        .map(
          (p) =>
            `<tr><td><code>${esc(p.name)}</code>${p.required ? " *" : ""}</td><td>${esc(p.in)}</td><td><code>` +
            `${esc(typeOf(spec, p.schema))}</code></td><td>${esc(p.description || p.schema?.description || "")}</td></tr>`,
        )
        .join("") +
      "</table>";
  }
  const body = op.requestBody?.content?.["application/json"];
  if (body) {
    html += `<h4>Body${op.requestBody?.required ? "" : " (optional)"}</h4>${schemaTable(spec, body.schema)}`;
  }
  const responses = op.responses ?? {};
  html +=
    "<h4>Responses</h4><table><tr><th>status</th><th>meaning</th><th>body</th></tr>" +
    Object.keys(responses)
      .map((status) => {
        const r = responses[status] ?? {};
        const c = r.content?.["application/json"];
        return `<tr><td>${esc(status)}</td><td>${esc(r.description || "")}</td><td><code>${esc(
          c ? typeOf(spec, c.schema) : "",
        )}</code></td></tr>`;
      })
      .join("") +
    "</table>";
  html += `<h4>Try it</h4><form data-op=${index}>`;
  for (const p of params) {
    let value = p.example !== undefined ? p.example : p.schema?.example !== undefined ? p.schema.example : "";
    // Headers (the Idempotency-Key) start empty: a sample key sent twice would replay the first answer.
    if (p.in === "header") value = "";
    html += `<label>${esc(p.in)} <code>${esc(p.name)}</code></label><input name='${esc(`${p.in}:${p.name}`)}' value='${esc(
      value,
    )}'>`;
  }
  if (body) {
    const sample = op.requestBody?.required ? JSON.stringify(example(spec, body.schema, 0), null, 2) : "";
    html += `<label>JSON body</label><textarea name=body>${esc(sample)}</textarea>`;
  }
  html += "<button type=submit>Send</button><div class=result></div></form></div></details>";
  return html;
}

/** Renders every operation, grouped by its first tag; returns how many. */
function render(spec: Spec): number {
  const ops: Entry[] = [];
  const groups: Record<string, number[]> = {};
  const paths = spec.paths ?? {};
  for (const path of Object.keys(paths)) {
    const methods = paths[path] ?? {};
    for (const method of Object.keys(methods)) {
      const op = methods[method] as Operation;
      const tag = op.tags?.[0] || "Other";
      groups[tag] ??= [];
      groups[tag].push(ops.length);
      ops.push({ path, method, op });
    }
  }
  let html = "";
  if (spec.info?.description) html += `<p>${esc(spec.info.description)}</p>`;
  for (const tag of Object.keys(groups)) {
    html += `<h2>${esc(tag)}</h2>`;
    for (const i of groups[tag] ?? []) html += operation(spec, ops[i] as Entry, i);
  }
  app.innerHTML = html;
  const forms = app.querySelectorAll<HTMLFormElement>("form[data-op]");
  for (let f = 0; f < forms.length; f++) {
    const form = forms[f] as HTMLFormElement;
    wire(form, ops[Number(form.getAttribute("data-op"))] as Entry);
  }
  return ops.length;
}

const messageOf = (error: unknown) =>
  error && (error as { message?: unknown }).message ? String((error as Error).message) : String(error);

/** Sends the form's request from the browser with the key entered at the top, and shows the answer. */
function wire(form: HTMLFormElement, entry: Entry): void {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const out = form.querySelector(".result") as HTMLElement;
    let path = entry.path;
    const query: string[] = [];
    const headers: Record<string, string> = {};
    const inputs = form.querySelectorAll<HTMLInputElement>("input");
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i] as HTMLInputElement;
      const parts = input.name.split(":");
      const where = parts[0];
      const name = parts.slice(1).join(":");
      const value = input.value;
      if (where === "path") path = path.replace(`{${name}}`, encodeURIComponent(value));
      else if (where === "query" && value !== "")
        query.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
      else if (where === "header" && value !== "") headers[name] = value;
    }
    const key = keyInput.value.trim();
    if (key) {
      if (keyMode.value === "x-api-key" && entry.path.indexOf("/v1/") !== 0) headers["x-api-key"] = key;
      else headers.Authorization = `Bearer ${key}`;
    }
    const init: { method: string; headers: Record<string, string>; body?: string } = {
      method: entry.method.toUpperCase(),
      headers,
    };
    const textarea = form.querySelector("textarea");
    if (textarea && textarea.value.trim() !== "") {
      init.body = textarea.value;
      headers["Content-Type"] = "application/json";
    }
    // Relative to the page, so an app mounted under a prefix sends to its own routes.
    const url = path.replace(/^\//, "") + (query.length ? `?${query.join("&")}` : "");
    out.innerHTML = `<p class=muted>Sending ${esc(`${init.method} /${url}`)} …</p>`;
    fetch(url, init)
      .then((res) =>
        res.text().then((text) => {
          let pretty = text;
          try {
            pretty = JSON.stringify(JSON.parse(text), null, 2);
          } catch {
            // Not JSON: shown as it came.
          }
          const replay = res.headers.get("Idempotent-Replayed");
          out.innerHTML =
            `<p class='status ${res.ok ? "good" : "bad"}'>HTTP ${res.status}${replay ? " (replayed)" : ""}</p>` +
            `<pre>${esc(pretty)}</pre>`;
        }),
      )
      .catch((error: unknown) => {
        out.innerHTML = `<p class=error>${esc(messageOf(error))}</p>`;
      });
  });
}

fetch("openapi.json")
  .then((res) => {
    if (!res.ok) throw new Error(`openapi.json answered HTTP ${res.status}`);
    return res.json() as Promise<Spec>;
  })
  .then((spec) => {
    (document.getElementById("title") as HTMLElement).textContent = spec.info?.title || "API";
    (document.getElementById("version") as HTMLElement).textContent =
      `OpenAPI ${spec.openapi} · version ${spec.info?.version || ""}`;
    render(spec);
  })
  .catch((error: unknown) => {
    app.innerHTML = `<p class=error>Could not load openapi.json: ${esc(messageOf(error))}</p>`;
  });

// A module, so its names stay out of the global scope of the type-check; the bundle is a plain script.
export {};
