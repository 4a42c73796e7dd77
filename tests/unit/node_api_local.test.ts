import { nodeApiContract } from "../_support/node_api_contract.ts";

// The embedded process calls its node in-process (LocalNodeClient).
nodeApiContract("in-process", (gateway) =>
  Promise.resolve({
    api: gateway.node,
    [Symbol.asyncDispose]: () => Promise.resolve(),
  }));
