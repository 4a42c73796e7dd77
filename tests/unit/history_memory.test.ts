import { MemoryHistory } from "../../shared/history/mod.ts";
import { historyContract } from "../_support/history_contract.ts";

historyContract(
  "memory",
  (options) => Promise.resolve(new MemoryHistory(options)),
);
