/**
 * The runbook as written: the README's "Cluster" quick tour (after its
 * launcher line), then every `sh` block of docs/OPERATIONS.md "Practise on a
 * local cluster" and "Inside etcd", run in one bash (`set -euo pipefail`),
 * in order, against the `deno task cluster` the practice section's first
 * block starts; only the state file's path is replaced by a temp one. Then what the section says
 * the operator sees is checked in the output of the commands and of the
 * launcher.
 */
import assert from "node:assert/strict";
import { onPath } from "../../ops/cluster/services.ts";
import { alive, childrenOf } from "../_support/cluster.ts";
import { Launcher, ROOT } from "../_support/launcher.ts";
import { waitFor } from "../_support/until.ts";

const DOC = `${ROOT}docs/OPERATIONS.md`;
const README = `${ROOT}README.md`;
const DOC_STATE_FILE = "/tmp/wsgw.json";
const TOOLS = ["haproxy", "etcdctl", "jq", "promtool", "openssl", "curl"];

/** The `sh` blocks of the `## title` section of `markdown`. */
function shBlocks(markdown: string, title: string): string[] {
  const start = markdown.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`no section "## ${title}" in ${DOC}`);
  const end = markdown.indexOf("\n## ", start + 1);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

const missing = (await Promise.all(TOOLS.map(onPath)))
  .flatMap((found, i) => found ? [] : [TOOLS[i]!]);

Deno.test({
  name:
    `runbooks - OPERATIONS.md's local-cluster procedures and etcd commands run as written${
      missing.length ? ` (skipped: ${missing.join(", ")} not on PATH)` : ""
    }`,
  ignore: missing.length > 0,
  async fn() {
    const doc = await Deno.readTextFile(DOC);
    const [launch, ...practice] = shBlocks(doc, "Practise on a local cluster");
    const etcd = shBlocks(doc, "Inside etcd");
    assert.ok(practice.length >= 6 && etcd.length === 1);
    const [tour] = shBlocks(await Deno.readTextFile(README), "Cluster");
    const [tourLaunch, ...tourRest] = tour!.split("\n");
    assert.match(
      tourLaunch!,
      /^deno task cluster .*--state-file \/tmp\/wsgw\.json/,
    );
    const dir = await Deno.makeTempDir({ prefix: "wsgw-runbook-test-" });
    const stateFile = `${dir}/wsgw.json`;
    const here = (block: string) => block.replaceAll(DOC_STATE_FILE, stateFile);
    try {
      const command = here(launch!).split("\n")[0]!.replace(/\s+#.*$/, "");
      const prefix = "deno task cluster ";
      assert.ok(command.startsWith(prefix), command);
      await using launcher = new Launcher(
        command.slice(prefix.length).split(/\s+/),
      );
      await waitFor(() => Deno.stat(stateFile).then(() => true, () => false), {
        timeout: 90_000,
        interval: 50,
        what: `the state file (launcher said: ${launcher.output.slice(-500)})`,
      });

      const blocks = [tourRest.join("\n"), ...practice, ...etcd];
      const script = [
        "set -euo pipefail",
        ...blocks.map((b, i) => `echo "=== block ${i + 1}"\n${here(b)}`),
        'echo "=== done"',
      ].join("\n");
      const ran = await new Deno.Command("bash", {
        args: ["-c", script],
        cwd: ROOT,
        env: { NO_COLOR: "1" },
        stdin: "null",
      }).output();
      const out = new TextDecoder().decode(ran.stdout);
      const err = new TextDecoder().decode(ran.stderr);
      const last = [...out.matchAll(/=== block (\d+)/g)].at(-1)?.[1];
      assert.equal(
        ran.code,
        0,
        `block ${last} of ${blocks.length} failed:\n${
          blocks[Number(last) - 1]
        }\n--- stdout\n${out.slice(-3000)}\n--- stderr\n${err.slice(-3000)}`,
      );
      assert.match(out, /=== done/);

      // What the section says the operator sees.
      assert.match(out, /user "alice" is on no node/); // the README's tour
      assert.match(out, /gw-2: drained and left the registry in [\d.]+ s/);
      assert.match(out, /"node":"node is draining"/);
      assert.match(out, /gw-2: running, pid \d+/);
      assert.match(out, /^3$/m); // three gateways carry the new secret
      assert.match(out, /gw-4: running, pid \d+, http:\/\/127\.0\.0\.1:\d+/);
      assert.match(out, /gw-4: drained, stopped and removed/);
      assert.match(out, /"registry":/);
      assert.match(out, /exit status 3/);
      assert.match(out, /"history":/);
      assert.match(out, /"stored": ?false/);
      assert.match(out, /SUCCESS/); // promtool test rules
      assert.match(out, /\/wsgw\/nodes\/gw-1/);
      assert.match(launcher.output, /\[gw-2\] .*drain finished/);
      assert.match(launcher.output, /haproxy reloaded: gw-1,gw-2,gw-3,gw-4/);
      assert.match(launcher.output, /gw-2 exited \(exit code 0\)/);
      assert.doesNotMatch(launcher.output, /UNEXPECTEDLY/);

      const children = childrenOf(launcher.child.pid);
      launcher.child.kill("SIGTERM");
      assert.equal((await launcher.status()).code, 0, launcher.output);
      for (const pid of children) assert.equal(alive(pid), false);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
