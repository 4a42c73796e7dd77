/**
 * Shared pieces of the property tests: JWT building blocks that skip jose's
 * own checks, so a test can sign claims jose would refuse to sign.
 *
 * @module
 */

/** base64url of the UTF-8 bytes of `text`. */
export function base64url(text: string | Uint8Array): string {
  const bytes = typeof text === "string"
    ? new TextEncoder().encode(text)
    : text;
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/** A JWT over any claims, HMAC-signed with `alg` (HS256/384/512) by `secret`. */
export async function hmacJwt(
  secret: string,
  alg: "HS256" | "HS384" | "HS512",
  claims: unknown,
): Promise<string> {
  const input = `${base64url(JSON.stringify({ alg, typ: "JWT" }))}.${
    base64url(JSON.stringify(claims))
  }`;
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: `SHA-${alg.slice(2)}` },
    false,
    ["sign"],
  );
  const signature = await crypto.subtle.sign(
    "HMAC",
    key,
    new TextEncoder().encode(input),
  );
  return `${input}.${base64url(new Uint8Array(signature))}`;
}
