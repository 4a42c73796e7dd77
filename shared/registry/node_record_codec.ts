/**
 * Node records in etcd carry an HMAC, so that whoever can write to etcd
 * cannot make routers or gateways send pushes (and the internal secret) to
 * an address of their choosing: a record is trusted only when its `sig`
 * checks out under a key derived from the internal secret, which never sits
 * in etcd. The signature covers the node id (so a record cannot be copied
 * under another node's key) and every field routers act on.
 *
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";
import type { Logger } from "../log.ts";
import type { NodeRecord } from "./registry.ts";
import { decodeNodeValue, encodeNodeValue } from "./keys.ts";

/** Labels the key derivation, so the same secret never signs two kinds of things alike. */
const KEY_LABEL = "wsgw node record v1";

/** Distinct rejected values remembered, so one rogue record warns once. */
const WARNED_MAX = 1000;

/** Why a stored node value was not taken. */
export type NodeRecordProblem = "malformed" | "unsigned" | "bad_signature";

/**
 * Encodes node records with a signature and checks the signature of the
 * records it reads. Without secrets it neither signs nor checks (processes
 * that only read for display, like ctl, and the memory registry's tests).
 */
export class NodeRecordCodec {
  readonly #signKey: Buffer | undefined;
  readonly #verifyKeys: Buffer[];
  readonly #log: Logger | undefined;
  readonly #warned = new Set<string>();

  /**
   * @param secrets the internal secret first (it signs), then any other
   * accepted during a rotation (they verify too); empty turns signing off.
   */
  constructor(secrets: readonly string[], log?: Logger) {
    this.#verifyKeys = secrets.map(deriveKey);
    this.#signKey = this.#verifyKeys[0];
    this.#log = log;
  }

  /** True when records are signed and checked. */
  get signing(): boolean {
    return this.#signKey !== undefined;
  }

  /** The JSON to store for `node`, signed when the codec has a secret. */
  encode(node: NodeRecord): string {
    const json = encodeNodeValue(node);
    if (!this.#signKey) return json;
    const sig = mac(this.#signKey, node);
    return `${json.slice(0, -1)},"sig":"${sig}"}`;
  }

  /** The record stored under `nodeId`, or why it is not trusted. */
  check(
    nodeId: string,
    value: string,
  ): { node: NodeRecord } | { problem: NodeRecordProblem } {
    const node = decodeNodeValue(nodeId, value);
    if (!node) return { problem: "malformed" };
    if (this.#verifyKeys.length === 0) return { node };
    let sig: unknown;
    try {
      sig = (JSON.parse(value) as { sig?: unknown }).sig;
    } catch {
      return { problem: "malformed" };
    }
    if (typeof sig !== "string") return { problem: "unsigned" };
    const given = Buffer.from(sig, "base64url");
    for (const key of this.#verifyKeys) {
      const want = Buffer.from(mac(key, node), "base64url");
      if (given.length === want.length && timingSafeEqual(given, want)) {
        return { node };
      }
    }
    return { problem: "bad_signature" };
  }

  /**
   * The trusted record stored under `nodeId`, or `undefined`; a record
   * refused for its signature is logged as a warning (once per value).
   */
  decode(nodeId: string, value: string): NodeRecord | undefined {
    const checked = this.check(nodeId, value);
    if ("node" in checked) return checked.node;
    this.#warn(nodeId, value, checked.problem);
    return undefined;
  }

  #warn(nodeId: string, value: string, problem: NodeRecordProblem): void {
    const seen = `${nodeId}\n${value}`;
    if (this.#warned.has(seen)) return;
    if (this.#warned.size >= WARNED_MAX) this.#warned.clear();
    this.#warned.add(seen);
    const fields = { nodeId, problem };
    if (problem === "malformed") {
      this.#log?.debug("ignoring a malformed node record", fields);
    } else {
      // Someone wrote to etcd without the internal secret: worth a look.
      this.#log?.warn("ignoring a node record that is not authenticated", {
        ...fields,
        internalUrl: internalUrlOf(value),
      });
    }
  }
}

function deriveKey(secret: string): Buffer {
  return createHmac("sha256", secret).update(KEY_LABEL).digest();
}

function mac(key: Buffer, node: NodeRecord): string {
  const { nodeId, url, internalUrl, startedAt, draining } = node;
  return createHmac("sha256", key)
    .update(JSON.stringify([nodeId, url, internalUrl, startedAt, draining]))
    .digest("base64url");
}

/** The (attacker-chosen) address of a refused record, cut short for the log. */
function internalUrlOf(value: string): string | undefined {
  try {
    const { internalUrl } = JSON.parse(value) as { internalUrl?: unknown };
    return typeof internalUrl === "string"
      ? internalUrl.slice(0, 200)
      : undefined;
  } catch {
    return undefined;
  }
}
