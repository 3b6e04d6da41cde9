// Runs API Platform's documentation parser against an entrypoint and prints the model it built as JSON;
// every further URL is fetched and expanded as JSON-LD (its @context loaded from the API) and printed too.
// Usage: node parse_docs.mjs <node_modules dir> <entrypoint URL> <bearer token> [item URL...]
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [modules, entrypoint, token, ...items] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(modules), "noop.js"));
const { parseHydraDocumentation } = await import(pathToFileURL(require.resolve("@api-platform/api-doc-parser")).href);
const jsonld = (await import(pathToFileURL(require.resolve("jsonld")).href)).default;
const auth = { Authorization: `Bearer ${token}`, Accept: "application/ld+json" };

async function expand(url) {
  const documentLoader = async (iri) => {
    const response = await fetch(iri, { headers: auth });
    if (!response.ok) throw new Error(`${iri}: HTTP ${response.status}`);
    return { contextUrl: null, documentUrl: iri, document: await response.json() };
  };
  const { document } = await documentLoader(url);
  return jsonld.expand(document, { base: url, documentLoader });
}

try {
  const { api, status } = await parseHydraDocumentation(entrypoint, { headers: () => new Headers(auth) });
  const resources = api.resources.map((r) => ({
    name: r.name,
    url: r.url,
    id: r.id,
    title: r.title,
    fields: r.fields.map((f) => ({
      name: f.name, id: f.id, range: f.range, type: f.type, required: f.required,
      reference: f.reference ? f.reference.name : null, maxCardinality: f.maxCardinality,
    })),
    readable: r.readableFields.map((f) => f.name),
    writable: r.writableFields.map((f) => f.name),
    operations: r.operations.map((o) => ({ name: o.name, type: o.type, method: o.method })),
  }));
  const expanded = [];
  for (const url of items) expanded.push(await expand(url));
  console.log(JSON.stringify({ status, title: api.title, entrypoint: api.entrypoint, resources, expanded }));
} catch (failure) {
  const error = failure && failure.error ? failure.error : failure;
  console.log(JSON.stringify({ failed: String(error && error.stack ? error.stack : error), status: failure?.status }));
  process.exit(1);
}
