import assert from "node:assert/strict";
import {
  ChannelSession,
  type SessionSocket,
} from "../../gateway/channel_session.ts";
import {
  connectChannel,
  historySlice,
  type Resume,
} from "../../gateway/connect_flow.ts";
import { createGatewayMetrics } from "../../gateway/metrics.ts";
import type { History } from "../../shared/history/mod.ts";
import { MemoryHistory } from "../../shared/history/mod.ts";
import { silentLogger } from "../../shared/log.ts";
import { createMetricsRegistry } from "../../shared/metrics.ts";
import type { ServerFrame } from "../../shared/protocol.ts";
import { historyWith } from "../_support/router_fixture.ts";

class FakeSocket implements SessionSocket {
  readyState = 1;
  bufferedAmount = 0;
  frames: ServerFrame[] = [];
  send(data: string): void {
    this.frames.push(JSON.parse(data));
  }
  close(): void {
    this.readyState = 3;
  }
}

/** Runs the connect flow of one socket of "alice" over `history`. */
async function connectTo(history: History, resume: Resume) {
  const socket = new FakeSocket();
  const session = new ChannelSession(
    { connId: "c1", user: "alice", device: null, connectedAt: 0 },
    socket,
    {
      sendBufferBytes: 1 << 20,
      inboundRate: 10,
      onClose: () => {},
      fill: async (_info, after) =>
        historySlice(await history.read("alice", after, 100), after, 100, null),
      fillRetryMs: 1,
    },
  );
  const metrics = createGatewayMetrics(createMetricsRegistry(), {
    connections: () => 0,
    users: () => 0,
    sendBufferBytes: () => 0,
    ready: () => true,
  });
  await connectChannel(session, resume, {
    nodeId: "n1",
    history,
    historySize: 100,
    register: undefined,
    log: silentLogger,
    metrics,
    scheduleCatchUp: () =>
      assert.fail("only a user's first connection looks in history again"),
  });
  return { socket, session };
}

function downWhile(memory: MemoryHistory, down: () => boolean): History {
  return historyWith(memory, {
    read: (user, after, limit) =>
      down()
        ? Promise.reject(new Error("redis down"))
        : memory.read(user, after, limit),
  });
}

const message = (id: string) => ({ id, ts: 1, dataJson: "1" });

Deno.test("connect flow - history unreadable: a resuming client is told it stands where it said, and the gap fills once history is back", async () => {
  const memory = new MemoryHistory({ size: 100, ttl: 60 });
  for (const id of ["m1", "m2", "m3", "m4"]) {
    await memory.append(["alice"], message(id));
  }
  const { epoch } = await memory.read("alice", 0, 0);
  let down = true;
  const { socket, session } = await connectTo(
    downWhile(memory, () => down),
    { since: 2, epoch },
  );
  assert.deepEqual(socket.frames[0], {
    type: "welcome",
    connId: "c1",
    nodeId: "n1",
    userId: "alice",
    seq: 2,
    epoch,
    recovered: true,
  });
  assert.equal(session.lastSeq, 2);
  // History is back; the next push (seq 5) shows the gap 3..4.
  down = false;
  const [{ seq }] = await memory.append(["alice"], message("m5")) as [
    { seq: number; epoch: string },
  ];
  session.deliver({
    seq,
    epoch,
    id: "m5",
    ts: 1,
    json: JSON.stringify({ type: "message", seq, id: "m5" }),
  });
  await session.idle();
  assert.deepEqual(
    socket.frames.slice(1).map((f) => f.type === "message" && f.seq),
    [3, 4, 5],
  );
});

Deno.test("connect flow - since older than the retained history: recovered false, the lost range announced, then the rest", async () => {
  const memory = new MemoryHistory({ size: 2, ttl: 60 });
  for (const id of ["m1", "m2", "m3", "m4", "m5"]) {
    await memory.append(["alice"], message(id));
  }
  const { epoch } = await memory.read("alice", 0, 0);
  const { socket } = await connectTo(memory, { since: 1, epoch });
  assert.equal(socket.frames[0]?.type, "welcome");
  assert.equal((socket.frames[0] as { recovered: boolean }).recovered, false);
  assert.deepEqual(socket.frames.slice(1).map(describe), [
    ["gap", 2],
    ["message", 4],
    ["message", 5],
  ]);
});

Deno.test("connect flow - history unreadable: a new client gets seq 0, no epoch, recovered false, and takes the first seq it sees", async () => {
  const memory = new MemoryHistory({ size: 100, ttl: 60 });
  const { socket, session } = await connectTo(
    downWhile(memory, () => true),
    { since: undefined, epoch: undefined },
  );
  assert.deepEqual(socket.frames[0], {
    type: "welcome",
    connId: "c1",
    nodeId: "n1",
    userId: "alice",
    seq: 0,
    epoch: "",
    recovered: false,
  });
  assert.equal(session.lastSeq, undefined);
  session.deliver({
    seq: 7,
    id: "m7",
    ts: 1,
    json: '{"type":"message","seq":7}',
  });
  assert.equal(session.lastSeq, 7);
});

/** A frame as [type, seq or first seq of a gap]. */
function describe(frame: ServerFrame): [string, number | undefined] {
  if (frame.type === "message") return [frame.type, frame.seq];
  if (frame.type === "gap") return [frame.type, frame.from];
  return [frame.type, undefined];
}
