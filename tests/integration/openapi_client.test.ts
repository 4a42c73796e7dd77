/**
 * The README's typed-client recipe, run: openapi-typescript generates types
 * from a live gateway's `/openapi.json`, and a client written against them
 * type-checks and pushes. The served document states the running limits.
 */
import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import { API_KEY, startTestGateway } from "../_support/embedded.ts";

const ROOT = new URL("../../", import.meta.url);

async function run(args: string[], cwd = ROOT): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `deno ${args.join(" ")}:\n${text}`);
  return text;
}

Deno.test("openapi - a typed client generated from the live document type-checks and pushes", async () => {
  await using gw = await startTestGateway({ WSGW_MAX_PUSH_USERS: "250" });
  const served = await (await fetch(`${gw.url}/openapi.json`)).json();
  assert.deepEqual(await new Validator().validate(served), { valid: true });
  assert.equal(
    served.components.schemas.PushRequest.properties.users.maxItems,
    250,
  );

  const dir = await Deno.makeTempDir({ prefix: "wsgw_openapi_" });
  try {
    // The same generator and version the README shows with npx.
    await run([
      "run",
      "-A",
      "npm:openapi-typescript@7",
      `${gw.url}/openapi.json`,
      "-o",
      `${dir}/wsgw-api.d.ts`,
    ]);
    const types = await Deno.readTextFile(`${dir}/wsgw-api.d.ts`);
    assert.match(types, /push: \{/, "operations are named by operationId");
    await Deno.writeTextFile(
      `${dir}/push.ts`,
      `import type { components, operations } from "./wsgw-api.d.ts";
type PushBody = components["schemas"]["PushRequest"];
type PushAnswer = operations["push"]["responses"]["200"]["content"]["application/json"];
const body: PushBody = { users: ["alice"], data: { hello: "typed" } };
const response = await fetch(Deno.args[0] + "/v1/push", {
  method: "POST",
  headers: { authorization: "Bearer " + Deno.args[1], "content-type": "application/json" },
  body: JSON.stringify(body),
});
const answer: PushAnswer = await response.json();
console.log(JSON.stringify({ status: response.status, users: answer.results.map((r) => r.user) }));
// @ts-expect-error: users must be an array of strings
const wrong: PushBody = { users: "alice", data: 1 };
void wrong;
`,
    );
    await run(["check", `${dir}/push.ts`]);
    const output = await run([
      "run",
      "-A",
      `${dir}/push.ts`,
      gw.url,
      API_KEY,
    ]);
    assert.deepEqual(JSON.parse(output.trim().split("\n").at(-1)!), {
      status: 200,
      users: ["alice"],
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
