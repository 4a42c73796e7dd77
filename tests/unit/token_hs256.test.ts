/**
 * The HS256 path without jose (shared/token_hs256.ts) decides every token
 * the way jose's `jwtVerify` does with the same secret and options: the same
 * payload, or an error of the same jose class about the same claim.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { jwtVerify, type JWTVerifyOptions } from "jose";
import { Hs256Key } from "../../shared/token_hs256.ts";

const SECRET = "hs256-secret-0123456789abcdef0123";
const OTHER = "another-secret-0123456789abcdef01";
const now = Math.floor(Date.now() / 1000);

const b64 = (text: string) => Buffer.from(text).toString("base64url");

/** A compact JWS of `header` and `payload` (raw JSON text) signed with `secret`. */
function sign(header: unknown, payload: string, secret = SECRET): string {
  const input = `${b64(JSON.stringify(header))}.${b64(payload)}`;
  const mac = createHmac("sha256", secret).update(input).digest("base64url");
  return `${input}.${mac}`;
}

const H = { alg: "HS256", typ: "JWT" };
const claims = (extra: Record<string, unknown>) =>
  JSON.stringify({ sub: "alice", exp: now + 600, ...extra });

const CASES: [string, string][] = [
  ["valid", sign(H, claims({}))],
  ["valid with device and iat", sign(H, claims({ device: "d1", iat: now }))],
  ["expired", sign(H, claims({ exp: now - 60 }))],
  ["expired within the tolerance", sign(H, claims({ exp: now - 3 }))],
  ["not yet valid", sign(H, claims({ nbf: now + 60 }))],
  ["nbf within the tolerance", sign(H, claims({ nbf: now + 3 }))],
  ["no exp", sign(H, JSON.stringify({ sub: "alice" }))],
  ["no sub", sign(H, JSON.stringify({ exp: now + 600 }))],
  ["exp a string", sign(H, claims({ exp: String(now + 600) }))],
  ["nbf a string", sign(H, claims({ nbf: "0" }))],
  ["iat a string", sign(H, claims({ iat: "yesterday" }))],
  ["payload an array", sign(H, "[1,2]")],
  ["payload not JSON", sign(H, "{sub")],
  ["payload null", sign(H, "null")],
  ["other secret", sign(H, claims({}), OTHER)],
  ["signature cut", sign(H, claims({})).slice(0, -2)],
  ["signature not base64url", sign(H, claims({})) + "*"],
  ["two parts", sign(H, claims({})).split(".").slice(0, 2).join(".")],
  ["four parts", sign(H, claims({})) + ".x"],
  ["header not JSON", `${b64("{alg")}.${b64(claims({}))}.AAAA`],
  ["header HS512", sign({ alg: "HS512" }, claims({}))],
  ["no signature", sign(H, claims({})).split(".").slice(0, 2).join(".") + "."],
];

const POLICIES: [string, JWTVerifyOptions][] = [
  ["plain", { requiredClaims: ["exp", "sub"], clockTolerance: 5 }],
  [
    "aud and iss",
    {
      requiredClaims: ["exp", "sub"],
      clockTolerance: 0,
      audience: "wsgw",
      issuer: "https://issuer.example",
    },
  ],
];

const AUD_CASES: [string, string][] = [
  [
    "aud and iss right",
    sign(H, claims({ aud: "wsgw", iss: "https://issuer.example" })),
  ],
  [
    "aud in a list",
    sign(H, claims({ aud: ["x", "wsgw"], iss: "https://issuer.example" })),
  ],
  [
    "aud wrong",
    sign(H, claims({ aud: "other", iss: "https://issuer.example" })),
  ],
  ["aud missing", sign(H, claims({ iss: "https://issuer.example" }))],
  ["iss wrong", sign(H, claims({ aud: "wsgw", iss: "https://evil.example" }))],
  ["iss missing", sign(H, claims({ aud: "wsgw" }))],
];

/** What a verification came to: the payload, or the error's class and claim. */
async function outcome(run: () => unknown): Promise<string> {
  try {
    return `ok ${JSON.stringify(await run())}`;
  } catch (error) {
    const e = error as { name?: string; code?: string; claim?: string };
    return `${e.code ?? e.name}${e.claim ? ` ${e.claim}` : ""}`;
  }
}

Deno.test("token hs256 - every token is decided as jose decides it", async () => {
  const key = new Hs256Key(SECRET);
  for (const [policy, options] of POLICIES) {
    const cases = policy === "plain" ? CASES : [...CASES, ...AUD_CASES];
    for (const [name, token] of cases) {
      const jose = await outcome(async () =>
        (await jwtVerify(token, key.secretBytes, {
          ...options,
          algorithms: ["HS256"],
        })).payload
      );
      const ours = await outcome(() => key.verify(token, options));
      assert.equal(ours, jose, `${policy}: ${name}`);
    }
  }
});

Deno.test("token hs256 - a token with crit or b64 is left to jose", () => {
  const key = new Hs256Key(SECRET);
  const options = { requiredClaims: ["exp", "sub"] };
  assert.equal(
    key.verify(sign({ ...H, crit: ["exp"], exp: 1 }, claims({})), options),
    undefined,
  );
  assert.equal(
    key.verify(sign({ ...H, b64: true }, claims({})), options),
    undefined,
  );
});
