/**
 * Network faults on loopback for chaos tests: iptables rules that drop TCP
 * packets to one local port, removed when the test lets go of them (also
 * when it fails). Needs root, as the tests run here and in CI.
 *
 * @module
 */

/** A fault in force until healed or disposed. */
export type NetFault = AsyncDisposable & {
  /** Removes the rule; later calls do nothing. */
  heal(): Promise<void>;
};

async function iptables(...args: string[]): Promise<void> {
  const out = await new Deno.Command("iptables", {
    args: ["-w", ...args],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `iptables ${args.join(" ")} failed: ${
        new TextDecoder().decode(out.stderr).trim()
      }`,
    );
  }
}

/**
 * Drops every TCP packet sent to `127.0.0.1:port`: connections to it hang,
 * and requests on open keep-alive connections never arrive.
 */
export async function dropTcpTo(port: number): Promise<NetFault> {
  const rule = [
    "OUTPUT",
    "-p",
    "tcp",
    "-d",
    "127.0.0.1",
    "--dport",
    String(port),
    "-j",
    "DROP",
  ];
  return await insertRule(rule);
}

/**
 * Drops the TCP packets one local connection sends from `fromPort` to
 * `toPort` (both on 127.0.0.1): that direction of the connection stalls,
 * everything else on those ports flows.
 */
export async function dropTcpFlow(
  fromPort: number,
  toPort: number,
): Promise<NetFault> {
  const rule = [
    "OUTPUT",
    "-p",
    "tcp",
    "-s",
    "127.0.0.1",
    "--sport",
    String(fromPort),
    "-d",
    "127.0.0.1",
    "--dport",
    String(toPort),
    "-j",
    "DROP",
  ];
  return await insertRule(rule);
}

/** Inserts one iptables rule; healing deletes it, once. */
async function insertRule(rule: string[]): Promise<NetFault> {
  await iptables("-I", ...rule);
  let healed: Promise<void> | undefined;
  const heal = () => healed ??= iptables("-D", ...rule);
  return { heal, [Symbol.asyncDispose]: heal };
}
