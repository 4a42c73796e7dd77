/**
 * A real three-member etcd cluster for partition tests. Each member runs in
 * its own network namespace, joined to the test process by a bridge, so one
 * member can be cut off from the others' peer traffic (iptables rules inside
 * its own namespace) while clients still reach it: the "member cut off from
 * the quorum" case. Everything it creates (namespaces, rules, bridge) goes
 * on dispose, also when the test failed.
 *
 * @example
 * ```ts
 * await using cluster = await startEtcdCluster();
 * await cluster.isolate(0);
 * ```
 *
 * @module
 */
import {
  EtcdProcess,
  type EtcdServerOptions,
  removeAll,
} from "../../ops/servers/etcd_server.ts";

/** A running cluster started by {@link startEtcdCluster}. */
export type EtcdCluster = AsyncDisposable & {
  /** The members, in `--initial-cluster` order. */
  readonly members: readonly EtcdProcess[];
  /** Every member's client URL. */
  readonly endpoints: readonly string[];
  /**
   * Drops every peer packet to and from member `index` (its client port
   * stays open): it loses the leader while clients can still talk to it.
   */
  isolate(index: number): Promise<void>;
  /** Removes the rules {@link isolate} added for member `index`. */
  heal(index: number): Promise<void>;
  /** Index of the member a watch stream is open on, from etcd's metrics. */
  watchStreams(): Promise<number[]>;
};

/** Options of {@link startEtcdCluster}. */
export type EtcdClusterOptions = EtcdServerOptions & {
  /** Members. @default 3 */
  size?: number;
};

const CLIENT_PORT = 2379;
const PEER_PORT = 2380;

/**
 * Starts `size` etcd members, each in a namespace of its own on a fresh
 * bridge, with etcd's default raft timing (heartbeat 100 ms, election 1 s),
 * and resolves once every member answers `/health`.
 *
 * @throws {Error} when a member does not start; what was created is removed.
 */
export async function startEtcdCluster(
  options: EtcdClusterOptions = {},
): Promise<EtcdCluster> {
  const size = options.size ?? 3;
  const network = new Network(size);
  const dirs: string[] = [];
  const members: EtcdProcess[] = [];
  try {
    await network.create();
    const peers = network.addresses.map((address, i) =>
      `m${i}=http://${address}:${PEER_PORT}`
    );
    for (let i = 0; i < size; i++) {
      const dataDir = await Deno.makeTempDir({ prefix: "wsgw-etcd-cluster-" });
      dirs.push(dataDir);
      const address = network.addresses[i]!;
      members.push(
        new EtcdProcess({
          name: `m${i}`,
          dataDir,
          clientUrl: `http://${address}:${CLIENT_PORT}`,
          peerUrl: `http://${address}:${PEER_PORT}`,
          initialCluster: peers.join(","),
          timing: ["--heartbeat-interval=100", "--election-timeout=1000"],
          netns: network.namespaces[i],
        }, options),
      );
    }
    // A member is healthy only once a leader exists: start them together.
    await Promise.all(members.map((member) => member.start()));
  } catch (error) {
    await Promise.all(members.map((member) => member.kill()));
    await network.remove();
    await Promise.all(dirs.map(removeAll));
    throw error;
  }
  return {
    members,
    endpoints: members.map((member) => member.endpoint),
    isolate: (index) => network.isolate(index),
    heal: (index) => network.heal(index),
    async watchStreams() {
      const open: number[] = [];
      for (const [i, member] of members.entries()) {
        const text = await (await fetch(`${member.endpoint}/metrics`)).text();
        const line = text.split("\n").find((l) =>
          l.startsWith("etcd_debugging_mvcc_watch_stream_total ")
        );
        if (Number(line?.split(" ")[1] ?? 0) > 0) open.push(i);
      }
      return open;
    },
    async [Symbol.asyncDispose]() {
      await Promise.all(members.map((member) => member.kill()));
      await network.remove();
      await Promise.all(dirs.map(removeAll));
    },
  };
}

/**
 * A bridge on the host (the test's side) and one namespace per member with
 * a veth into it. Names carry our pid so parallel runs do not collide.
 */
class Network {
  readonly namespaces: string[];
  readonly addresses: string[];
  readonly #bridge: string;
  readonly #subnet: string;
  #created = false;

  constructor(size: number) {
    const tag = `${Deno.pid % 100000}`;
    this.#bridge = `wsgwb${tag}`;
    this.namespaces = Array.from({ length: size }, (_, i) => `wsgw${tag}m${i}`);
    // 10.<pid-derived>.0/24: unlikely to meet another run's bridge.
    this.#subnet = `10.${100 + (Deno.pid % 150)}.${(Deno.pid >> 8) % 250}`;
    this.addresses = this.namespaces.map((_, i) => `${this.#subnet}.${i + 2}`);
  }

  async create(): Promise<void> {
    this.#created = true;
    await ip("link", "add", this.#bridge, "type", "bridge");
    await ip("addr", "add", `${this.#subnet}.1/24`, "dev", this.#bridge);
    await ip("link", "set", this.#bridge, "up");
    for (const [i, ns] of this.namespaces.entries()) {
      const host = `${this.#bridge}h${i}`;
      const inner = `${this.#bridge}n${i}`;
      await ip("netns", "add", ns);
      await ip("link", "add", host, "type", "veth", "peer", "name", inner);
      await ip("link", "set", inner, "netns", ns);
      await ip("link", "set", host, "master", this.#bridge);
      await ip("link", "set", host, "up");
      await inNs(
        ns,
        "ip",
        "addr",
        "add",
        `${this.addresses[i]}/24`,
        "dev",
        inner,
      );
      await inNs(ns, "ip", "link", "set", inner, "up");
      await inNs(ns, "ip", "link", "set", "lo", "up");
    }
  }

  /** Drops peer traffic in member `index`'s namespace, both ways. */
  async isolate(index: number): Promise<void> {
    const ns = this.namespaces[index]!;
    const rules = [
      ["INPUT", "--dport"],
      ["INPUT", "--sport"],
      ["OUTPUT", "--dport"],
      ["OUTPUT", "--sport"],
    ];
    // Every member's peer port is 2380 on its own address, client ports are
    // 2379: dropping port 2380 either way cuts exactly the peer traffic.
    for (const [chain, direction] of rules) {
      await inNs(
        ns,
        "iptables",
        "-A",
        chain!,
        "-p",
        "tcp",
        direction!,
        String(PEER_PORT),
        "-j",
        "DROP",
      );
    }
  }

  async heal(index: number): Promise<void> {
    await inNs(this.namespaces[index]!, "iptables", "-F");
  }

  /**
   * Deleting a veth takes its peer with it, and a namespace its rules; the
   * kernel frees a deleted namespace lazily, so the veths go first, by name.
   */
  async remove(): Promise<void> {
    if (!this.#created) return;
    for (const i of this.namespaces.keys()) {
      await ipQuiet("link", "del", `${this.#bridge}h${i}`);
    }
    for (const ns of this.namespaces) await ipQuiet("netns", "del", ns);
    await ipQuiet("link", "del", this.#bridge);
  }
}

async function run(command: string, args: string[]): Promise<void> {
  const output = await new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr).trim();
    throw new Error(`${command} ${args.join(" ")} failed: ${stderr}`);
  }
}

function ip(...args: string[]): Promise<void> {
  return run("ip", args);
}

function inNs(ns: string, command: string, ...args: string[]): Promise<void> {
  return run("ip", ["netns", "exec", ns, command, ...args]);
}

/** Cleanup: what is already gone is fine. */
async function ipQuiet(...args: string[]): Promise<void> {
  try {
    await ip(...args);
  } catch {
    // Already removed (or never made, when create() failed half way).
  }
}
