/**
 * The ports of a local cluster: free ones picked by the OS, or a fixed layout
 * from `--port-base P` that a user can remember:
 *
 * | port | what |
 * | --- | --- |
 * | P | haproxy (`--lb`) |
 * | P+1, P+2 | etcd client, etcd peer |
 * | P+3 | redis-server |
 * | P+10 … P+19 | routers 1…10 |
 * | P+20+2i, P+21+2i | gateway i+1: public, internal |
 *
 * @module
 */

/** Every port a cluster listens on. */
export type PortPlan = {
  lb: number;
  etcd: number;
  etcdPeer: number;
  redis: number;
  routers: number[];
  gateways: { public: number; internal: number }[];
};

/** Most routers the fixed layout has room for. */
export const MAX_ROUTERS = 10;

/** The fixed layout from `base`; throws a RangeError when it does not fit. */
export function fixedPorts(
  base: number,
  nodes: number,
  routers: number,
): PortPlan {
  if (routers > MAX_ROUTERS) {
    throw new RangeError(
      `--port-base leaves room for ${MAX_ROUTERS} routers, asked for ${routers}`,
    );
  }
  const last = base + 21 + 2 * (nodes - 1);
  if (base < 1024 || last > 65535) {
    throw new RangeError(
      `--port-base ${base} with ${nodes} nodes needs ports ${base}-${last}, outside 1024-65535`,
    );
  }
  return {
    lb: base,
    etcd: base + 1,
    etcdPeer: base + 2,
    redis: base + 3,
    routers: Array.from({ length: routers }, (_, j) => base + 10 + j),
    gateways: Array.from({ length: nodes }, (_, i) => ({
      public: base + 20 + 2 * i,
      internal: base + 21 + 2 * i,
    })),
  };
}

/** Free ports for everything. */
export function freePorts(nodes: number, routers: number): PortPlan {
  return {
    lb: freePort(),
    etcd: freePort(),
    etcdPeer: freePort(),
    redis: freePort(),
    routers: Array.from({ length: routers }, freePort),
    gateways: Array.from({ length: nodes }, () => ({
      public: freePort(),
      internal: freePort(),
    })),
  };
}

/** Ports {@link freePort} handed out in this process, never handed out twice. */
const handedOut = new Set<number>();

/**
 * The kernel's range for ephemeral ports (outgoing connections and port 0),
 * from `/proc`; Linux's default when it cannot be read.
 */
function ephemeralRange(): { low: number; high: number } {
  try {
    const [low, high] = Deno.readTextFileSync(
      "/proc/sys/net/ipv4/ip_local_port_range",
    ).trim().split(/\s+/).map(Number);
    if (low! > 0 && high! >= low!) return { low: low!, high: high! };
  } catch {
    // Not Linux, or no /proc: the default below.
  }
  return { low: 32768, high: 60999 };
}

/** Below the ephemeral range, where no outgoing connection takes a port. */
const PICK_FROM = 10_000;

/**
 * Ports from {@link PICK_FROM} up that `fetch` refuses to connect to ("bad
 * ports" of the Fetch standard; Deno: "Requests to port 10080 are blocked"):
 * a gateway given one never answered the launcher's `/readyz` probe.
 */
const FETCH_BLOCKED = new Set([10_080]);

/**
 * A port on 127.0.0.1 that was free a moment ago and that this process has
 * not handed out before. It is picked below the kernel's ephemeral range, so
 * the outgoing connections of other processes (a router connecting to etcd
 * while a gateway starts) cannot take it before our child binds it; another
 * listener still could, and the launcher retries with a new port when a child
 * reports the address in use.
 */
export function freePort(): number {
  const { low } = ephemeralRange();
  const span = low - PICK_FROM;
  for (let tries = 0; span > 0 && tries < 200; tries++) {
    const port = PICK_FROM + Math.floor(Math.random() * span);
    if (handedOut.has(port) || FETCH_BLOCKED.has(port) || !bindable(port)) {
      continue;
    }
    handedOut.add(port);
    return port;
  }
  // No room below the range: let the kernel pick.
  for (;;) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = listener.addr as Deno.NetAddr;
    listener.close();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

function bindable(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** True when a process's last lines say its port was taken. */
export function addressInUse(tail: string): boolean {
  return /address already in use|AddrInUse|EADDRINUSE|cannot bind socket/i
    .test(tail);
}
