/**
 * Which internal URLs a process may send the internal secret to
 * (`WSGW_INTERNAL_NETWORKS`): http or https, no credentials in the URL, and a
 * host on an allowed network or matching an allowed name. Node records are
 * signed (`shared/registry/node_record_codec.ts`); this is the second fence,
 * for a signed record written by a careless or compromised node.
 *
 * Entries: a CIDR (`10.0.0.0/8`, `fd00::/8`), a host name (`gw1.corp`), a
 * suffix (`*.svc.cluster.local`), `*` (anything) or `private`: loopback,
 * RFC 1918, shared (100.64/10) and unique-local IPv6 addresses, `localhost`,
 * single-label names (`gateway1`, as in compose) and names under `.internal`,
 * `.local`, `.lan`, `.svc` and `.cluster.local`. Link-local addresses
 * (169.254/16, where clouds serve instance metadata) are not private here.
 * Host names are matched as names, not resolved.
 *
 * @module
 */

/** The default of `WSGW_INTERNAL_NETWORKS`. */
export const DEFAULT_INTERNAL_NETWORKS = ["private"] as const;

const PRIVATE = [
  "127.0.0.0/8",
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "100.64.0.0/10",
  "::1/128",
  "fc00::/7",
  "localhost",
  "*.internal",
  "*.local",
  "*.lan",
  "*.svc",
  "*.cluster.local",
];

type Cidr = { v6: boolean; base: bigint; bits: number };

/** A parsed `WSGW_INTERNAL_NETWORKS`. */
export class InternalUrlPolicy {
  readonly #cidrs: Cidr[] = [];
  readonly #names = new Set<string>();
  readonly #suffixes: string[] = [];
  #any = false;
  #singleLabel = false;

  /** @throws {TypeError} naming an entry that is none of the accepted forms. */
  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const entry = raw.trim().toLowerCase();
      if (entry === "*") this.#any = true;
      else if (entry === "private") {
        this.#singleLabel = true;
        for (const p of PRIVATE) this.#add(p);
      } else this.#add(entry);
    }
  }

  /** Why `url` may not be called, or `undefined` when it may. */
  refusal(url: string): string | undefined {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return "not a URL";
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      return `scheme ${parsed.protocol} is not http or https`;
    }
    if (parsed.username !== "" || parsed.password !== "") {
      return "the URL holds credentials";
    }
    if (this.#any) return undefined;
    const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
    const ip = parseIp(host);
    if (ip) {
      const hit = this.#cidrs.some((c) =>
        c.v6 === ip.v6 && (ip.value >> BigInt((ip.v6 ? 128 : 32) - c.bits)) ===
          (c.base >> BigInt((c.v6 ? 128 : 32) - c.bits))
      );
      return hit
        ? undefined
        : `address ${host} is outside the allowed networks`;
    }
    if (
      this.#names.has(host) || (this.#singleLabel && !host.includes(".")) ||
      this.#suffixes.some((s) => host.endsWith(s))
    ) return undefined;
    return `host ${host} is not an allowed name`;
  }

  #add(entry: string): void {
    const slash = entry.indexOf("/");
    if (slash !== -1) {
      const ip = parseIp(entry.slice(0, slash));
      const bits = Number(entry.slice(slash + 1));
      const max = ip?.v6 ? 128 : 32;
      if (!ip || !/^\d+$/.test(entry.slice(slash + 1)) || bits > max) {
        throw new TypeError(`"${entry}" is not a CIDR like 10.0.0.0/8`);
      }
      this.#cidrs.push({ v6: ip.v6, base: ip.value, bits });
    } else if (parseIp(entry)) {
      const ip = parseIp(entry)!;
      this.#cidrs.push({ v6: ip.v6, base: ip.value, bits: ip.v6 ? 128 : 32 });
    } else if (/^\*\.[a-z0-9.-]+$/.test(entry)) {
      this.#suffixes.push(entry.slice(1));
    } else if (/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(entry)) {
      this.#names.add(entry);
    } else {
      throw new TypeError(
        `"${entry}" is not a CIDR, a host name, *.suffix, * or private`,
      );
    }
  }
}

/** An IPv4 or IPv6 literal as a number; IPv4-mapped IPv6 counts as IPv4. */
function parseIp(text: string): { v6: boolean; value: bigint } | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return {
      v6: false,
      value: parts.reduce((n, p) => (n << 8n) | BigInt(p), 0n),
    };
  }
  if (!text.includes(":") || !/^[0-9a-f:.]+$/i.test(text)) return undefined;
  let value: bigint;
  try {
    // The URL parser normalizes IPv6 (and embedded IPv4) for us.
    const host = new URL(`http://[${text}]/`).hostname.slice(1, -1);
    const [head = "", tail] = host.split("::");
    const groups = (s: string) => s === "" ? [] : s.split(":");
    const left = groups(head);
    const right = tail === undefined ? [] : groups(tail);
    const fill = 8 - left.length - right.length;
    if (fill < 0 || (tail === undefined && fill !== 0)) return undefined;
    const all = [...left, ...Array(fill).fill("0"), ...right];
    value = all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
  } catch {
    return undefined;
  }
  if (value >> 32n === 0xffffn) {
    return { v6: false, value: value & 0xffffffffn };
  }
  return { v6: true, value };
}
