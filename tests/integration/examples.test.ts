/**
 * The server-side examples, run as a backend would run them against a live
 * gateway: examples/node (fetch + jose) and examples/python (standard library
 * + PyJWT) sign client tokens, with the HS256 secret and with private keys
 * whose public halves the gateway holds, and push to the socket they opened.
 */
import assert from "node:assert/strict";
import { exportPKCS8, exportSPKI, generateKeyPair } from "jose";
import type { MessageFrame } from "../../shared/protocol.ts";
import {
  API_KEY,
  JWT_SECRET,
  startTestGateway,
  type TestGateway,
} from "../_support/embedded.ts";
import { TestClient } from "../_support/ws_client.ts";

const EXAMPLES = new URL("../../examples/", import.meta.url).pathname;
// Debian's python3 has python3-jwt; a pyenv or venv python on PATH may not.
const PYTHON = (() => {
  try {
    Deno.statSync("/usr/bin/python3");
    return "/usr/bin/python3";
  } catch {
    return "python3";
  }
})();

async function run(
  command: string,
  args: string[],
  env: Record<string, string>,
  cwd = EXAMPLES,
): Promise<string> {
  const out = await new Deno.Command(command, {
    args,
    env,
    cwd,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `${command} ${args.join(" ")} failed:\n${stderr}`);
  return new TextDecoder().decode(out.stdout).trim();
}

/** A private key file per algorithm, and the gateway that trusts their public halves. */
async function gatewayWithKeys(dir: string): Promise<{
  gw: TestGateway;
  keyFiles: Record<string, string>;
}> {
  const keyFiles: Record<string, string> = {};
  let publicPem = "";
  for (const alg of ["RS256", "ES256", "EdDSA"] as const) {
    const { publicKey, privateKey } = await generateKeyPair(alg, {
      extractable: true,
    });
    keyFiles[alg] = `${dir}/${alg}.pem`;
    await Deno.writeTextFile(keyFiles[alg], await exportPKCS8(privateKey));
    publicPem += await exportSPKI(publicKey);
  }
  const gw = await startTestGateway({ WSGW_JWT_PUBLIC_KEY: publicPem });
  return { gw, keyFiles };
}

const LANGUAGES = {
  node: {
    command: "node",
    sign: ["node/sign_token.mjs"],
    push: ["node/push.mjs"],
  },
  python: {
    command: PYTHON,
    sign: ["python/sign_token.py"],
    push: ["python/push.py"],
  },
};

async function ensureNodeModules(): Promise<void> {
  try {
    await Deno.stat(`${EXAMPLES}node/node_modules/jose`);
  } catch {
    await run("npm", ["ci", "--no-audit", "--no-fund"], {}, `${EXAMPLES}node`);
  }
}

for (const [language, example] of Object.entries(LANGUAGES)) {
  Deno.test(`examples - ${language}: sign a token with each key type, connect, push`, async () => {
    if (language === "node") await ensureNodeModules();
    const dir = await Deno.makeTempDir({ prefix: "wsgw_examples_" });
    const { gw, keyFiles } = await gatewayWithKeys(dir);
    await using _gw = gw;
    try {
      const base = {
        PATH: Deno.env.get("PATH") ?? "",
        WSGW_URL: gw.url,
        WSGW_API_KEY: API_KEY,
      };
      const signers: Record<string, Record<string, string>> = {
        HS256: { WSGW_JWT_SECRET: JWT_SECRET },
        // A key given as PEM text rather than as a file path.
        RS256: {
          WSGW_JWT_PRIVATE_KEY: await Deno.readTextFile(keyFiles.RS256!),
        },
        ES256: { WSGW_JWT_PRIVATE_KEY: keyFiles.ES256! },
        EdDSA: { WSGW_JWT_PRIVATE_KEY: keyFiles.EdDSA! },
      };
      for (const [alg, keyEnv] of Object.entries(signers)) {
        const user = `${language}-${alg}`;
        const token = await run(example.command, [
          ...example.sign,
          user,
          "laptop",
        ], { ...base, ...keyEnv });
        assert.equal(JSON.parse(atob(token.split(".")[0]!)).alg, alg);
        const url = new URL("/ws", gw.url.replace("http", "ws"));
        url.searchParams.set("token", token);
        const { client, welcome } = await TestClient.welcomed(url.href);
        await using _client = client;
        assert.equal(welcome.userId, user);

        const data = { from: language, alg, text: "héllo" };
        const answer = JSON.parse(
          await run(example.command, [
            ...example.push,
            user,
            JSON.stringify(data),
            `${user}-1`,
          ], base),
        );
        assert.deepEqual(answer.results, [{ user, seq: 1, devices: 1 }]);
        assert.equal(answer.id, `${user}-1`);
        const frame = await client.next((f): f is MessageFrame =>
          f.type === "message"
        );
        assert.deepEqual(frame.data, data);
      }
      // A refusal surfaces as a non-zero exit naming the API's error code.
      const refused = await new Deno.Command(example.command, {
        args: [...example.push, "x", "1"],
        env: { ...base, WSGW_API_KEY: "wrong-key" },
        cwd: EXAMPLES,
        stderr: "piped",
        stdout: "piped",
      }).output();
      assert.notEqual(refused.code, 0);
      assert.match(new TextDecoder().decode(refused.stderr), /403 forbidden/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
