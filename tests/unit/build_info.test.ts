/**
 * The release of deno.json is what a process reports: `wsgw_build_info` on
 * the registry each process creates (with the Deno version), and the image's
 * import map carries the same release, so a container reports it too.
 */
import assert from "node:assert/strict";
import { createMetricsRegistry } from "../../shared/metrics.ts";

async function versionOf(path: string): Promise<string> {
  const config = JSON.parse(
    await Deno.readTextFile(new URL(`../../${path}`, import.meta.url)),
  );
  return config.version;
}

Deno.test("build info - wsgw_build_info carries the deno.json release and Deno's version", async () => {
  const version = await versionOf("deno.json");
  const text = await createMetricsRegistry({ defaults: true }).metrics();
  assert.ok(
    text.includes(
      `wsgw_build_info{version="${version}",deno="${Deno.version.deno}"} 1`,
    ),
    text.split("\n").filter((l) => l.includes("build_info")).join("\n"),
  );
  // A second registry of the same process (embedded) does not repeat it.
  assert.ok(!(await createMetricsRegistry().metrics()).includes("build_info"));
});

Deno.test("build info - the image's deno.json has the same release", async () => {
  assert.equal(
    await versionOf("deploy/image/deno.json"),
    await versionOf("deno.json"),
  );
});

Deno.test("build info - CHANGELOG.md has an entry for the release", async () => {
  const version = await versionOf("deno.json");
  const changelog = await Deno.readTextFile(
    new URL("../../CHANGELOG.md", import.meta.url),
  );
  assert.match(
    changelog,
    new RegExp(`^## \\[?${version.replace(/\./g, "\\.")}\\]?`, "m"),
  );
});
