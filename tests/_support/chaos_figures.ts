/**
 * The figures of one chaos case, counted from the push answers (what was
 * accepted, with which seq for which user) and from every frame each
 * connection received before client-side dedupe.
 *
 * @module
 */
import type { Device } from "./chaos_fleet.ts";
import type { PushRecord } from "./chaos_pusher.ts";

/** What one chaos case measured. */
export type ChaosFigures = {
  case: string;
  /** Pushes sent, and answered 200 (after retries with the same id). */
  pushes: number;
  accepted: number;
  /** Pushes that needed more than one attempt. */
  retried: number;
  /** Accepted with `"stored": false` (history down): live only, no seq. */
  unstored: number;
  /** Answers listing a node in `unreachable`. */
  unreachable: number;
  /** From the fault to the last push sent whose answer listed a node unreachable; null if none. */
  lastUnreachableMs: number | null;
  /** (device, seq) pairs the answers promise; how many arrived; the rest. */
  expected: number;
  received: number;
  lost: number;
  /** (device, id) pairs of unstored pushes whose device was online, not received. */
  unstoredMissed: number;
  /** The same seq (or seq-less id) twice on one connection. */
  duplicated: number;
  /** A seq lower than one before it on the same connection. */
  outOfOrder: number;
  /**
   * Seqs missing inside one connection's stream: from where it started
   * (its `since`, or the welcome's seq on a first connection) to the last
   * seq it got, every seq must come. A hole the device filled later on
   * another connection still counts here.
   */
  holes: number;
  /** A seq that came again on a later connection of the device (the client drops it). */
  redelivered: number;
  /** A message whose push did not name the device's user. */
  misrouted: number;
  /** Distinct messages per device: fewest, median, most. */
  perDevice: [number, number, number];
  /** Connections opened beyond each device's first. */
  reconnects: number;
  /** Welcomes with `recovered: false` on a reconnect (the client reset). */
  resets: number;
  /**
   * From the fault until every device was receiving again: the end of the
   * last silence longer than {@link SILENCE_MS} after the fault, over all
   * devices (0 when none had one); null when one never received again.
   */
  recoveryMs: number | null;
  /** Longest time any device went without a message while pushes flowed. */
  maxSilenceMs: number;
  /** Devices that had a silence longer than {@link SILENCE_MS} after the fault. */
  silentDevices: number;
};

/**
 * A device silent this long was not receiving: every user gets a push about
 * every `users / (rate × batch)` s (0.6 s in the short run, 0.3 s in the
 * long), at most two rounds apart.
 */
export const SILENCE_MS = 2500;

/** Inputs of {@link chaosFigures}. */
export type FigureInput = {
  name: string;
  devices: readonly Device[];
  pushes: readonly PushRecord[];
  /** When the fault was injected. */
  faultAt: number;
  /** When the pusher started and stopped sending new pushes. */
  streamFrom: number;
  streamTo: number;
};

/** Counts the figures of one case. */
export function chaosFigures(input: FigureInput): ChaosFigures {
  const { devices, pushes, faultAt } = input;
  const accepted = pushes.filter((p) => p.answer);
  const byId = new Map(pushes.map((p) => [p.id, p]));
  const figures: ChaosFigures = {
    case: input.name,
    pushes: pushes.length,
    accepted: accepted.length,
    retried: pushes.filter((p) => p.attempts > 1).length,
    unstored: accepted.filter((p) => p.answer!.stored === false).length,
    unreachable: 0,
    lastUnreachableMs: null,
    expected: 0,
    received: 0,
    lost: 0,
    unstoredMissed: 0,
    duplicated: 0,
    outOfOrder: 0,
    holes: 0,
    redelivered: 0,
    misrouted: 0,
    perDevice: [0, 0, 0],
    reconnects: 0,
    resets: 0,
    recoveryMs: 0,
    maxSilenceMs: 0,
    silentDevices: 0,
  };

  for (const push of accepted) {
    if (!push.answer!.unreachable?.length) continue;
    figures.unreachable++;
    figures.lastUnreachableMs = Math.max(
      figures.lastUnreachableMs ?? -Infinity,
      push.sentAt - faultAt,
    );
  }

  // What each user was promised: seq → push id, and the unstored ids with
  // the time they were in flight.
  const promised = new Map<
    string,
    { seqs: Set<number>; ids: Map<string, [number, number]> }
  >();
  for (const push of accepted) {
    for (const { user, seq, devices } of push.answer!.results) {
      let entry = promised.get(user);
      if (!entry) {
        promised.set(user, entry = { seqs: new Set(), ids: new Map() });
      }
      if (seq !== null) entry.seqs.add(seq);
      // Unstored pushes are owed only to devices connected at the time.
      else if (devices > 0) {
        entry.ids.set(push.id, [push.sentAt, push.answeredAt ?? push.sentAt]);
      }
    }
  }

  const distinct: number[] = [];
  let recoveredAt: number | null = faultAt;
  for (const device of devices) {
    const seqs = new Set<number>();
    const ids = new Set<string>();
    const arrivals: number[] = [];
    figures.reconnects += Math.max(0, device.connections.length - 1);
    figures.resets += device.resets;
    const start = owedAfter(device);
    const owed = promised.get(device.user);
    for (const connection of device.connections) {
      const seenHere = new Set<string>();
      let highest = 0;
      // Where this connection's stream starts: what it resumed from.
      let expected = connection.welcome?.recovered
        ? connection.since ?? connection.welcome.seq
        : connection.since === undefined
        ? connection.welcome?.seq
        : undefined;
      for (const message of connection.messages) {
        const push = byId.get(message.id);
        if (!push || !push.users.includes(device.user)) {
          figures.misrouted++;
          continue;
        }
        const key = message.seq === undefined
          ? `id:${message.id}`
          : `seq:${message.seq}`;
        if (seenHere.has(key)) {
          figures.duplicated++;
          continue;
        }
        seenHere.add(key);
        if (message.seq !== undefined) {
          // A reset (recovered: false) replays what history retains: its
          // first seq is where the stream starts.
          expected ??= message.seq - 1;
          // A seq skipped over is a hole only if an answer gave it out: an
          // append answered as failed may still have landed, and its
          // message then went out live-only (no seq) and is not rewritten.
          for (let skipped = expected + 1; skipped < message.seq; skipped++) {
            if (owed?.seqs.has(skipped)) figures.holes++;
          }
          expected = Math.max(expected, message.seq);
          if (message.seq < highest) figures.outOfOrder++;
          highest = Math.max(highest, message.seq);
          if (seqs.has(message.seq)) figures.redelivered++;
          seqs.add(message.seq);
        } else {
          ids.add(message.id);
        }
        arrivals.push(message.at);
      }
    }
    for (const seq of owed?.seqs ?? []) {
      if (seq <= start) continue;
      figures.expected++;
      if (seqs.has(seq)) figures.received++;
      else figures.lost++;
    }
    for (const [id, [sentAt, answeredAt]] of owed?.ids ?? []) {
      // G7 promises an unstored push to the connections that stay open; one
      // whose close was under way when the push was written to it (its close
      // event can come a second or two later on a busy box) may drop it, and
      // nothing can replay it.
      const moving = device.connections.some((c) =>
        c.closedAt !== undefined && c.closedAt >= sentAt - 100 &&
        c.closedAt <= answeredAt + 2000
      );
      if (!ids.has(id) && !moving) figures.unstoredMissed++;
    }
    distinct.push(seqs.size + ids.size);
    // A device that joined mid-stream is silent only from its first welcome.
    const joined = device.connections[0]?.openedAt ?? input.streamTo;
    const gaps = silences(
      arrivals,
      Math.min(input.streamTo, Math.max(input.streamFrom, joined)),
      input.streamTo,
    );
    for (const [from, to] of gaps) {
      figures.maxSilenceMs = Math.max(figures.maxSilenceMs, to - from);
    }
    const late = gaps.filter(([from, to]) =>
      to - from > SILENCE_MS && to > faultAt
    );
    if (late.length > 0) figures.silentDevices++;
    const last = late.at(-1);
    if (last && last[1] === input.streamTo) recoveredAt = null;
    else if (last && recoveredAt !== null) {
      recoveredAt = Math.max(recoveredAt, last[1]);
    }
  }
  figures.recoveryMs = recoveredAt === null ? null : recoveredAt - faultAt;
  distinct.sort((a, b) => a - b);
  figures.perDevice = [
    distinct[0] ?? 0,
    distinct[Math.floor(distinct.length / 2)] ?? 0,
    distinct.at(-1) ?? 0,
  ];
  return figures;
}

/**
 * The seq after which a device is owed its user's messages: a first
 * connection without since starts at the user's seq then (older messages
 * are not replayed to a new client).
 */
export function owedAfter(device: Device): number {
  const first = device.connections[0];
  return first?.since === undefined ? first?.welcome?.seq ?? 0 : 0;
}

/** The stretches of [from, to] between arrivals, in order. */
function silences(
  arrivals: number[],
  from: number,
  to: number,
): [number, number][] {
  const times = arrivals.filter((t) => t >= from && t <= to).sort((a, b) =>
    a - b
  );
  const gaps: [number, number][] = [];
  let previous = from;
  for (const t of times) {
    gaps.push([previous, t]);
    previous = t;
  }
  gaps.push([previous, to]);
  return gaps;
}

/** The figures as an aligned two-column table, for the test output. */
export function formatFigures(
  figures: ChaosFigures,
  extra: Record<string, string | number> = {},
): string {
  const rows: [string, string | number][] = [
    ["pushes sent / accepted", `${figures.pushes} / ${figures.accepted}`],
    ["pushes retried (same id)", figures.retried],
    ["accepted without history", figures.unstored],
    [
      "answers listing a node unreachable",
      figures.unreachable === 0
        ? 0
        : `${figures.unreachable} (the last sent ${figures.lastUnreachableMs} ms after the fault)`,
    ],
    ["(device, seq) owed", figures.expected],
    ["received", figures.received],
    ["lost", figures.lost],
    ["unstored, missed by an online device", figures.unstoredMissed],
    ["duplicated on one connection", figures.duplicated],
    ["out of order on one connection", figures.outOfOrder],
    ["holes inside one connection", figures.holes],
    ["redelivered on a later connection", figures.redelivered],
    ["misrouted", figures.misrouted],
    ["messages per device (min/median/max)", figures.perDevice.join(" / ")],
    ["reconnects / resets", `${figures.reconnects} / ${figures.resets}`],
    [
      "every device receiving again after",
      figures.recoveryMs === null ? "never" : `${figures.recoveryMs} ms`,
    ],
    ["longest silence of a device", `${figures.maxSilenceMs} ms`],
    [
      `devices silent > ${SILENCE_MS} ms after the fault`,
      figures.silentDevices,
    ],
    ...Object.entries(extra),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    `── chaos: ${figures.case} ──`,
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
  ].join("\n");
}
