/**
 * The Registry contract on {@link MemoryRegistry}: handles opened on one
 * backend share a {@link MemoryRegistryStore}, like processes sharing etcd.
 *
 * @module
 */
import {
  MemoryRegistry,
  MemoryRegistryStore,
} from "../../shared/registry/mod.ts";
import { registryContract } from "../_support/registry_contract.ts";

registryContract("memory", () => {
  const store = new MemoryRegistryStore();
  return Promise.resolve({
    open: () => Promise.resolve(new MemoryRegistry(store)),
    [Symbol.asyncDispose]: () => Promise.resolve(),
  });
});
