/**
 * docs/RELIABILITY.md "Reproduce" as written, scaled down: the chaos run
 * with `WSGW_CHAOS_FIGURES` (one case instead of the whole folder, which the
 * suite runs anyway), then the table command on the figures it appended.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../..", import.meta.url).pathname;

async function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  assert.ok(
    out.success,
    `deno ${args.join(" ")} failed:\n${text.slice(-2000)}`,
  );
  return text;
}

Deno.test("reliability - the chaos figures and the table command run as RELIABILITY.md writes them", async () => {
  const doc = await Deno.readTextFile(`${ROOT}docs/RELIABILITY.md`);
  assert.match(
    doc,
    /WSGW_CHAOS_FIGURES=\/tmp\/chaos\.jsonl deno test -A tests\/chaos\//,
  );
  assert.match(
    doc,
    /deno run --allow-read tests\/_support\/chaos_table\.ts \/tmp\/chaos\.jsonl/,
  );
  const dir = await Deno.makeTempDir({ prefix: "wsgw-chaos-figures-" });
  try {
    const figures = `${dir}/chaos.jsonl`;
    await run(["test", "-A", "tests/chaos/router_restart.test.ts"], {
      WSGW_CHAOS_FIGURES: figures,
    });
    const lines = (await Deno.readTextFile(figures)).trim().split("\n");
    assert.equal(lines.length, 1, "one case, one line of figures");
    const table = await run([
      "run",
      "--allow-read",
      "tests/_support/chaos_table.ts",
      figures,
    ]);
    assert.match(table, /router restarted/);
    assert.match(table, /\*\*lost\*\* +\| \*\*0\*\*/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
