// Signs a wsgw client token for a user, as your backend would after its own
// login check, and hands it to the browser.
//
//   node sign_token.mjs alice [device]
//
// With WSGW_JWT_PRIVATE_KEY (a PEM private key, or the path of one) the token
// is signed with it: RS256 for RSA, ES256 for EC P-256, EdDSA for Ed25519;
// the gateway then holds only the public half (WSGW_JWT_PUBLIC_KEY or a JWKS).
// Otherwise it is signed HS256 with WSGW_JWT_SECRET (the gateway's secret;
// default: the development secret of `deno task start`).
import { createPrivateKey, createSecretKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { SignJWT } from "jose";

const ALGORITHMS = { rsa: "RS256", ec: "ES256", ed25519: "EdDSA" };

/**
 * A token that lets `user` connect for `expiresIn` (a jose time span).
 * `device` labels the connection, so a push can target one device.
 */
export async function signClientToken(user, options = {}) {
  const { device, expiresIn = "1h", env = process.env } = options;
  const { key, alg, kid } = signingKey(env);
  const jwt = new SignJWT(device === undefined ? {} : { device })
    .setProtectedHeader({ alg, typ: "JWT", ...(kid ? { kid } : {}) })
    .setSubject(user)
    .setIssuedAt()
    .setExpirationTime(expiresIn);
  // Set these when the gateway sets WSGW_JWT_AUDIENCE / WSGW_JWT_ISSUER.
  if (env.WSGW_JWT_AUDIENCE) jwt.setAudience(env.WSGW_JWT_AUDIENCE);
  if (env.WSGW_JWT_ISSUER) jwt.setIssuer(env.WSGW_JWT_ISSUER);
  return await jwt.sign(key);
}

function signingKey(env) {
  const privateKey = env.WSGW_JWT_PRIVATE_KEY;
  if (privateKey) {
    const pem = privateKey.includes("-----BEGIN")
      ? privateKey
      : readFileSync(privateKey, "utf8");
    const key = createPrivateKey(pem);
    const alg = ALGORITHMS[key.asymmetricKeyType];
    if (!alg) throw new Error(`unsupported key type ${key.asymmetricKeyType}`);
    // A JWKS names keys by kid; set WSGW_JWT_KID to the kid you publish.
    return { key, alg, kid: env.WSGW_JWT_KID };
  }
  const secret = env.WSGW_JWT_SECRET ?? "dev-secret";
  return { key: createSecretKey(Buffer.from(secret)), alg: "HS256" };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [user, device] = process.argv.slice(2);
  if (!user) {
    console.error("usage: node sign_token.mjs <user> [device]");
    process.exit(2);
  }
  console.log(await signClientToken(user, { device }));
}
