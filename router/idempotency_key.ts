/**
 * The key a client's push or broadcast id is made idempotent under, in the
 * history's reservations and in each user's dedupe records: scoped by the
 * API key and the route, so another key's id, or a push id spelled like a
 * broadcast's, never stands for it.
 *
 * @module
 */
import { createHash } from "node:crypto";

/**
 * A short, stable fingerprint of an API key: ids are scoped by it in Redis,
 * where the key itself must never be written. The same on every replica,
 * whatever order `WSGW_API_KEYS` lists the keys in.
 */
export function keyFingerprint(key: string): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 16);
}

/** `<fingerprint>:<route>:<id>`. */
export function idempotencyKey(
  fingerprint: string,
  route: "push" | "broadcast",
  id: string,
): string {
  return `${fingerprint}:${route}:${id}`;
}
