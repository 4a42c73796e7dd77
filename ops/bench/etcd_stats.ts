/**
 * etcd's own counters, read from its `/metrics`: what the registry costs
 * etcd per connect and per disconnect (writes, txns, bytes in), and how big
 * its database grows.
 *
 * @module
 */

/** A reading of the counters we compare. */
export type EtcdCounters = {
  puts: number;
  deletes: number;
  txns: number;
  ranges: number;
  /** Bytes etcd received from clients over gRPC. */
  bytesIn: number;
  /** Bytes etcd sent to clients over gRPC (listings, watch events). */
  bytesOut: number;
  /** Raft proposals committed: one per write request (a txn is one). */
  proposals: number;
  /** WAL fsyncs: a batch of proposals shares one. */
  fsyncs: number;
  /** Size of the bbolt file, and the part of it in use. */
  dbBytes: number;
  dbInUseBytes: number;
  keys: number;
};

const METRICS: Record<keyof EtcdCounters, string> = {
  puts: "etcd_mvcc_put_total",
  deletes: "etcd_mvcc_delete_total",
  txns: "etcd_mvcc_txn_total",
  ranges: "etcd_mvcc_range_total",
  bytesIn: "etcd_network_client_grpc_received_bytes_total",
  bytesOut: "etcd_network_client_grpc_sent_bytes_total",
  proposals: "etcd_server_proposals_committed_total",
  fsyncs: "etcd_disk_wal_fsync_duration_seconds_count",
  dbBytes: "etcd_mvcc_db_total_size_in_bytes",
  dbInUseBytes: "etcd_mvcc_db_total_size_in_use_in_bytes",
  keys: "etcd_debugging_mvcc_keys_total",
};

/** Reads the counters of the etcd whose client URL is `url`. */
export async function etcdCounters(url: string): Promise<EtcdCounters> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    if (space > 0) values.set(line.slice(0, space), Number(line.slice(space)));
  }
  const counters = {} as EtcdCounters;
  for (const [field, metric] of Object.entries(METRICS)) {
    counters[field as keyof EtcdCounters] = values.get(metric) ?? NaN;
  }
  return counters;
}

/** What happened between two readings, per `per` events (e.g. connects). */
export function costPer(
  before: EtcdCounters,
  after: EtcdCounters,
  per: number,
): Record<string, number> {
  const round = (n: number) => Number(n.toFixed(3));
  const delta = (field: keyof EtcdCounters) => after[field] - before[field];
  return {
    events: per,
    writes: round((delta("puts") + delta("deletes")) / per),
    puts: round(delta("puts") / per),
    deletes: round(delta("deletes") / per),
    txns: round(delta("txns") / per),
    ranges: round(delta("ranges") / per),
    proposals: round(delta("proposals") / per),
    fsyncs: round(delta("fsyncs") / per),
    bytesIn: Math.round(delta("bytesIn") / per),
    bytesOut: Math.round(delta("bytesOut") / per),
  };
}
