// deno-lint-ignore-file no-console
/**
 * What a Redis Cluster costs the history's hot path, A/B in one run on one
 * cluster (3 masters, 3 replicas): the append script without and with the
 * owner check (`CLUSTER MYID`, what wsgw runs), and with a `WAIT 1` after
 * each append (what wsgw does not run). Rounds alternate, so load on the
 * box hits every variant alike.
 *
 * `deno run -A ops/bench/history_cluster_cost.ts [rounds]`
 *
 * @module
 */
import type { Cluster } from "ioredis";
import { createScriptedClient } from "../../shared/history/_redis_client.ts";
import { startRedisCluster } from "../servers/redis_cluster.ts";

const rounds = Number(Deno.args[0] ?? 5);
const SINGLE_PUSHES = 1000;
const FAN_OUT = 3000;

await using cluster = await startRedisCluster();
const client = createScriptedClient(cluster.url, 3000);
await client.connect();
const masters = (client as Cluster).nodes("master");

type Variant = "plain" | "owner" | "owner+WAIT";
const variants: Variant[] = ["plain", "owner", "owner+WAIT"];
let epochs = 0;

/** Appends one message to each of `users`, as RedisHistory does. */
function append(users: string[], variant: Variant, prefix: string) {
  const epoch = `e${++epochs}`;
  return Promise.all(users.map((user) =>
    client.wsgwAppend(
      `${prefix}{${user}}:meta`,
      `${prefix}{${user}}:stream`,
      epoch,
      "60000",
      "100",
      "id",
      "1",
      '{"n":1}',
      "",
      "",
      variant === "plain" ? "0" : "1",
    )
  ));
}

/** WAIT 1 on every master: each counts the writes of its own connection. */
async function waitReplicas(): Promise<void> {
  const acks = await Promise.all(
    masters.map((node) => node.call("WAIT", "1", "1000")),
  );
  if (acks.some((n) => n !== 1)) throw new Error(`WAIT acked ${acks}`);
}

const results = new Map<string, number[]>();
const record = (key: string, value: number) =>
  results.set(key, [...results.get(key) ?? [], value]);

for (let round = 0; round < rounds; round++) {
  for (const variant of variants) {
    const prefix = `${variant}:${round}:`;
    let started = performance.now();
    for (let i = 0; i < SINGLE_PUSHES; i++) {
      await append([`u${i % 100}`], variant, prefix);
      if (variant === "owner+WAIT") await waitReplicas();
    }
    record(
      `1 user per push, sequential: µs per push (${variant})`,
      (performance.now() - started) * 1000 / SINGLE_PUSHES,
    );
    const users = Array.from({ length: FAN_OUT }, (_, i) => `f${i}`);
    started = performance.now();
    await append(users, variant, prefix);
    if (variant === "owner+WAIT") await waitReplicas();
    record(
      `${FAN_OUT} users in one push: ms (${variant})`,
      performance.now() - started,
    );
  }
}
await client.quit();

// The same round's figures side by side: the ratio cancels most of the
// load other processes put on the box.
for (
  const kind of [
    "1 user per push, sequential: µs per push",
    `${FAN_OUT} users in one push: ms`,
  ]
) {
  const of = (variant: Variant) => results.get(`${kind} (${variant})`)!;
  const ratio = (a: Variant, b: Variant) =>
    of(a).map((value, round) => value / of(b)[round]!);
  results.set(`${kind}: owner / plain`, ratio("owner", "plain"));
  results.set(`${kind}: owner+WAIT / owner`, ratio("owner+WAIT", "owner"));
}
const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
for (const [key, values] of results) {
  const s = sorted(values);
  const median = s[Math.floor(s.length / 2)]!;
  const digits = key.includes(" / ") ? 2 : 1;
  console.log(
    `${key}: min ${s[0]!.toFixed(digits)} / median ${
      median.toFixed(digits)
    } / max ${s.at(-1)!.toFixed(digits)}`,
  );
}
