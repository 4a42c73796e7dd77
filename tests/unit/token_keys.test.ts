import assert from "node:assert/strict";
import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { loadConfig } from "../../shared/config.ts";
import { ConfigError, HttpError } from "../../shared/errors.ts";
import { signToken, TokenVerifier } from "../../shared/token.ts";
import { JwksServer } from "../_support/jwks_server.ts";

const SECRET = "hs-secret-0123456789abcdef0123456789";

async function refusal(
  verifier: TokenVerifier,
  token: string,
): Promise<{ code: string; status: number; message: string }> {
  try {
    await verifier.verify(token);
  } catch (error) {
    assert.ok(error instanceof HttpError, String(error));
    assert.ok(!error.message.includes(token), "never echoes the token");
    return { code: error.code, status: error.status, message: error.message };
  }
  assert.fail("expected the token to be refused");
}

async function pemPair(alg: "RS256" | "ES256" | "EdDSA") {
  const { publicKey, privateKey } = await generateKeyPair(alg, {
    extractable: true,
  });
  const sign = (sub: string, header: Record<string, string> = {}) =>
    new SignJWT({})
      .setProtectedHeader({ alg, ...header })
      .setSubject(sub)
      .setExpirationTime("1h")
      .sign(privateKey);
  return { pem: await exportSPKI(publicKey), sign };
}

function gatewayConfig(env: Record<string, string>) {
  return loadConfig({
    WSGW_ETCD: "http://127.0.0.1:2379",
    WSGW_REDIS: "redis://127.0.0.1:6379",
    WSGW_API_KEYS: "k",
    WSGW_INTERNAL_SECRET: "internal-secret-of-32-characters-or-more",
    ...env,
  }, "gateway");
}

function configError(env: Record<string, string>): ConfigError {
  try {
    gatewayConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail("expected a ConfigError");
}

for (const alg of ["RS256", "ES256", "EdDSA"] as const) {
  Deno.test(`token keys - ${alg} from a PEM public key in WSGW_JWT_PUBLIC_KEY`, async () => {
    const pair = await pemPair(alg);
    const { config } = gatewayConfig({ WSGW_JWT_PUBLIC_KEY: pair.pem });
    assert.deepEqual(config.jwtPublicKeys.map((k) => k.alg), [alg]);
    assert.equal(config.jwtSecret, undefined);
    const verifier = TokenVerifier.fromConfig(config);
    assert.deepEqual(verifier.algorithms, [alg]);
    assert.equal(
      (await verifier.verify(await pair.sign("alice"))).user,
      "alice",
    );
    const other = await pemPair(alg);
    assert.equal(
      (await refusal(verifier, await other.sign("alice"))).code,
      "token_signature",
    );
    // No secret is configured: an HS256 token is refused, whatever its key.
    assert.deepEqual(
      await refusal(verifier, await signToken(SECRET, { sub: "a" })),
      {
        code: "token_invalid",
        status: 401,
        message: `token algorithm "HS256" is not accepted (accepted: ${alg})`,
      },
    );
  });
}

Deno.test("token keys - the PEM text as an HS256 secret does not pass for the public key", async () => {
  const pair = await pemPair("RS256");
  const verifier = new TokenVerifier({
    secret: SECRET,
    publicKeys: gatewayConfig({ WSGW_JWT_PUBLIC_KEY: pair.pem }).config
      .jwtPublicKeys,
  });
  assert.equal((await verifier.verify(await pair.sign("a"))).user, "a");
  assert.equal(
    (await verifier.verify(await signToken(SECRET, { sub: "b" }))).user,
    "b",
  );
  // The classic algorithm confusion: HS256 keyed with the public PEM.
  assert.equal(
    (await refusal(verifier, await signToken(pair.pem, { sub: "c" }))).code,
    "token_signature",
  );
});

Deno.test("token keys - WSGW_JWT_PUBLIC_KEY: a file path, several keys, \\n escapes", async () => {
  const rsa = await pemPair("RS256");
  const ed = await pemPair("EdDSA");
  const file = await Deno.makeTempFile({ suffix: ".pem" });
  try {
    await Deno.writeTextFile(file, rsa.pem + ed.pem);
    const fromFile = gatewayConfig({ WSGW_JWT_PUBLIC_KEY: file }).config;
    assert.deepEqual(fromFile.jwtPublicKeys.map((k) => k.alg), [
      "RS256",
      "EdDSA",
    ]);
    const verifier = TokenVerifier.fromConfig(fromFile);
    assert.equal((await verifier.verify(await rsa.sign("a"))).user, "a");
    assert.equal((await verifier.verify(await ed.sign("b"))).user, "b");
  } finally {
    await Deno.remove(file);
  }
  const escaped = gatewayConfig({
    WSGW_JWT_PUBLIC_KEY: rsa.pem.replaceAll("\n", "\\n"),
  }).config;
  assert.equal(escaped.jwtPublicKeys.length, 1);
});

Deno.test("token keys - config errors name the variable", async () => {
  assert.match(
    configError({}).message,
    /^WSGW_JWT_SECRET, WSGW_JWT_PUBLIC_KEY or WSGW_JWT_JWKS_URL is required in gateway mode$/,
  );
  const missing = configError({ WSGW_JWT_PUBLIC_KEY: "/nonexistent/key.pem" });
  assert.equal(missing.variable, "WSGW_JWT_PUBLIC_KEY");
  assert.match(
    missing.message,
    /neither PEM text nor a readable file: \/nonexistent\/key.pem/,
  );
  const garbled = configError({
    WSGW_JWT_PUBLIC_KEY:
      "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
  });
  assert.equal(garbled.variable, "WSGW_JWT_PUBLIC_KEY");
  assert.match(garbled.message, /key 1 is not a valid PEM public key/);
  assert.match(
    configError({
      WSGW_JWT_PUBLIC_KEY:
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
    }).message,
    /no "-----BEGIN PUBLIC KEY-----" block/,
  );
  const p384 = await generateKeyPair("ES384", { extractable: true });
  assert.match(
    configError({ WSGW_JWT_PUBLIC_KEY: await exportSPKI(p384.publicKey) })
      .message,
    /EC key on secp384r1; only P-256 \(ES256\) is supported/,
  );
  for (const url of ["not a url", "ftp://keys.example.com/jwks"]) {
    assert.equal(
      configError({ WSGW_JWT_JWKS_URL: url }).variable,
      "WSGW_JWT_JWKS_URL",
    );
  }
  assert.equal(
    configError({
      WSGW_JWT_JWKS_URL: "https://a.example/jwks",
      WSGW_JWT_JWKS_COOLDOWN: "-1",
    }).variable,
    "WSGW_JWT_JWKS_COOLDOWN",
  );
  assert.equal(
    configError({
      WSGW_JWT_PUBLIC_KEY: (await pemPair("ES256")).pem,
      WSGW_JWT_PREVIOUS_SECRET: SECRET,
    }).variable,
    "WSGW_JWT_PREVIOUS_SECRET",
  );
});

Deno.test("token keys - a JWKS is fetched once, refetched on an unknown kid, rotated without restart", async () => {
  await using jwks = await JwksServer.start(["RS256", "ES256", "EdDSA"]);
  const verifier = new TokenVerifier({ jwksUrl: jwks.url, jwksCooldownMs: 0 });
  for (const kid of jwks.kids) {
    assert.equal(
      (await verifier.verify(await jwks.sign(kid, { kid }))).user,
      kid,
    );
  }
  assert.equal(jwks.fetches, 1, "cached across tokens");
  const [oldest] = jwks.kids;
  const oldToken = await jwks.sign("old", { kid: oldest });
  const fresh = await jwks.rotate("EdDSA");
  assert.equal(
    (await verifier.verify(await jwks.sign("new", { kid: fresh }))).user,
    "new",
  );
  assert.equal(jwks.fetches, 2, "an unknown kid fetched the set again");
  assert.deepEqual(await refusal(verifier, oldToken), {
    code: "token_signature",
    status: 401,
    message: "no key of the JWKS matches the token (kid, alg)",
  });
  assert.equal(
    (await refusal(verifier, await jwks.forge("x", fresh))).code,
    "token_signature",
  );
  // Without kid, every key of the token's algorithm is tried.
  assert.equal(
    (await verifier.verify(await jwks.sign("nokid", { noKid: true }))).user,
    "nokid",
  );
});

Deno.test("token keys - an unknown kid inside the cooldown does not fetch again", async () => {
  await using jwks = await JwksServer.start(["ES256"]);
  const verifier = new TokenVerifier({
    jwksUrl: jwks.url,
    jwksCooldownMs: 60_000,
  });
  assert.ok(await verifier.verify(await jwks.sign("a")));
  const fresh = await jwks.rotate("ES256");
  assert.equal(
    (await refusal(verifier, await jwks.sign("b", { kid: fresh }))).code,
    "token_signature",
  );
  assert.equal(jwks.fetches, 1);
});

Deno.test("token keys - an unreachable JWKS refuses with 503 jwks_unavailable, and recovers", async () => {
  await using jwks = await JwksServer.start(["RS256"]);
  const verifier = new TokenVerifier({
    jwksUrl: jwks.url,
    jwksCooldownMs: 0,
    jwksMaxAgeMs: 1,
  });
  await jwks.stop();
  const token = await jwks.sign("a");
  assert.deepEqual(await refusal(verifier, token), {
    code: "jwks_unavailable",
    status: 503,
    message:
      "the gateway cannot fetch its token keys (JWKS) right now; try again shortly",
  });
  jwks.resume();
  assert.equal((await verifier.verify(token)).user, "a");
});

Deno.test("token keys - an HS256 secret and a JWKS side by side", async () => {
  await using jwks = await JwksServer.start(["RS256"]);
  const verifier = new TokenVerifier({ secret: SECRET, jwksUrl: jwks.url });
  assert.deepEqual(verifier.algorithms, ["HS256", "RS256", "ES256", "EdDSA"]);
  assert.equal(
    (await verifier.verify(await signToken(SECRET, { sub: "h" }))).user,
    "h",
  );
  assert.equal((await verifier.verify(await jwks.sign("r"))).user, "r");
});
