/**
 * The reference docs against the code they describe: every variable the
 * configuration reads is in the README's table, every close code, metric and
 * push-API route is in docs/PROTOCOL.md. A new setting or metric without docs
 * fails here.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../shared/config.ts";
import { CLOSE } from "../../shared/protocol.ts";
import { buildOpenApiDocument } from "../../router/openapi.ts";

const root = new URL("../../", import.meta.url);
const read = (path: string) => Deno.readTextFile(new URL(path, root));

function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `no "${heading}" section`);
  const end = markdown.indexOf("\n## ", start + heading.length + 2);
  return markdown.slice(start, end < 0 ? undefined : end);
}

Deno.test("docs - every variable the configuration reads is in the README's table", async () => {
  const sources = (await Promise.all(
    [
      "shared/config.ts",
      "shared/config_secrets.ts",
      "shared/config_backends.ts",
      "shared/token_config.ts",
    ].map(read),
  )).join("\n");
  const names = new Set(
    [...sources.matchAll(/"((?:WSGW_[A-Z_]+)|PORT)"/g)].map((m) => m[1]!),
  );
  assert.ok(names.size > 30, `found ${names.size} variables`);
  const table = section(await read("README.md"), "## Configuration");
  const missing = [...names].filter((name) => !table.includes(`\`${name}\``));
  assert.deepEqual(missing, []);
});

Deno.test("docs - close codes, metrics and push-API routes are in PROTOCOL.md", async () => {
  const protocol = await read("docs/PROTOCOL.md");
  for (const { code, reason } of Object.values(CLOSE)) {
    assert.match(
      protocol,
      new RegExp(`\\| ${code} +\\| \`${reason}\``),
      `${code}`,
    );
  }
  const metricSources = (await Promise.all(
    ["gateway/metrics.ts", "router/metrics.ts", "shared/backend_metrics.ts"]
      .map(read),
  )).join("\n");
  const metrics = [...metricSources.matchAll(/name: "(wsgw_[a-z_]+)"/g)]
    .map((m) => m[1]!);
  assert.ok(metrics.length > 20, `found ${metrics.length} metrics`);
  assert.deepEqual(
    metrics.filter((name) => !protocol.includes(`\`${name}`)),
    [],
    "metrics missing from PROTOCOL.md",
  );
  const doc = buildOpenApiDocument(loadConfig({}, "embedded").config) as {
    paths: Record<string, Record<string, unknown>>;
  };
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of Object.keys(item)) {
      const route = `${method.toUpperCase()} ${path}`;
      assert.ok(protocol.includes(route), `${route} is in PROTOCOL.md`);
    }
  }
});
