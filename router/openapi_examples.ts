/**
 * Examples shown in `/openapi.json`, one per request and answer. They are
 * checked against the zod schemas of the routes in tests, so an example that
 * stops matching the API fails the suite.
 *
 * @module
 */

/** Example bodies, by the name of their component schema. */
export const EXAMPLES = {
  PushRequest: {
    users: ["alice", "bob"],
    data: { type: "order.shipped", orderId: 1042 },
    id: "order-1042-shipped",
  },
  PushResponse: {
    id: "order-1042-shipped",
    results: [
      { user: "alice", seq: 17, devices: 2 },
      { user: "bob", seq: 4, devices: 0 },
    ],
  },
  BroadcastRequest: {
    data: { type: "maintenance", at: "2026-12-02T22:00:00Z" },
  },
  BroadcastResponse: {
    id: "3f0c9a52-5d8e-4c61-9c07-2a1b0e6f9d11",
    nodes: 3,
    devices: 1250,
  },
  PresenceResponse: {
    user: "alice",
    online: true,
    devices: [
      {
        connId: "c-7f3a",
        nodeId: "gw-1",
        device: "phone",
        connectedAt: 1764712800000,
      },
      {
        connId: "c-91be",
        nodeId: "gw-2",
        device: null,
        connectedAt: 1764713100000,
      },
    ],
  },
  DisconnectRequest: { device: "phone" },
  DisconnectResponse: { closed: 1 },
  MessagesResponse: {
    user: "alice",
    epoch: "m4x2k9-a1b2c3",
    seq: 17,
    messages: [
      {
        seq: 17,
        id: "order-1042-shipped",
        data: { type: "order.shipped", orderId: 1042 },
        ts: 1764713160000,
      },
    ],
  },
  Nodes: [
    {
      nodeId: "gw-1",
      url: "http://10.0.0.5:8080",
      connections: 812,
      users: 640,
      draining: false,
      startedAt: 1764709200000,
      reachable: true,
    },
  ],
  Error: {
    error: {
      code: "bad_request",
      message: "users[0]: must be 1 to 128 characters",
    },
  },
} as const;
