/**
 * The Lua scripts of {@link RedisHistory}, one constant each. A user's history
 * is two keys sharing one hash tag, so they live in one Redis Cluster slot and
 * a script may touch both: a hash `meta` (`epoch`, `seq`) and a stream
 * `stream` whose entry ids are `<seq>-0`, so `XRANGE` by seq needs no index.
 *
 * Numbers leave Lua through `string.format("%d")`: `tostring` switches to
 * exponent notation past 1e14, which would make a malformed stream id.
 *
 * @module
 */

/**
 * Appends one message to one user and returns `{seq, epoch}`.
 *
 * A missing epoch means the user's keys expired or were lost, so the seq is
 * about to restart at 1: store the new epoch, and drop any stream left behind
 * (its ids would be from the old epoch, and XADD refuses ids that go back).
 * Exact `MAXLEN` keeps precisely `size` entries; both keys expire together.
 *
 * A dedupe append (a push a retry may repeat) looks its dedupe key up first:
 * `i:<key>` in the meta hash holds the seq it got, and the same key is
 * answered with that seq instead of being appended twice. Such entries carry
 * the key in a `k` field, and the records of the entries a trim evicts are
 * removed with them (`d` counts the records, so plain appends skip the look
 * at what the trim evicts).
 *
 * In a Redis Cluster (`owner` "1") the meta hash also names, in `o`, the
 * node that wrote it (`CLUSTER MYID`). A replica promoted after its master
 * died may lack the last appends it acknowledged, while the epoch it holds
 * is the same: seqs that connections already passed would be given again,
 * to other messages, and dropped there as duplicates. So a history written
 * by another node (a failover, or a slot moved to another master) starts a
 * new epoch, as if lost: connections are told with a `reset`.
 *
 * KEYS: meta, stream. ARGV: new epoch, ttl ms, size, id, ts, dataJson,
 * device ("" for a push to every device of the user), dedupe key ("" for
 * none), owner check ("1" in a cluster, else "0").
 */
export const APPEND = `
local owner = ARGV[9] == "1" and redis.call("CLUSTER", "MYID")
if redis.call("HEXISTS", KEYS[1], "epoch") == 0 or
    (owner and redis.call("HGET", KEYS[1], "o") ~= owner) then
  redis.call("DEL", KEYS[1], KEYS[2])
  redis.call("HSET", KEYS[1], "epoch", ARGV[1], "seq", 0)
  if owner then redis.call("HSET", KEYS[1], "o", owner) end
end
local epoch = redis.call("HGET", KEYS[1], "epoch")
local dedupe = ARGV[8] ~= ""
if dedupe then
  local known = redis.call("HGET", KEYS[1], "i:" .. ARGV[8])
  if known then return {tonumber(known), epoch} end
end
local records = tonumber(redis.call("HGET", KEYS[1], "d") or "0")
if records > 0 then
  local over = redis.call("XLEN", KEYS[2]) - tonumber(ARGV[3]) + 1
  if over > 0 then
    for _, old in ipairs(redis.call("XRANGE", KEYS[2], "-", "+", "COUNT", over)) do
      local fields = old[2]
      for i = 1, #fields, 2 do
        if fields[i] == "k" then
          redis.call("HDEL", KEYS[1], "i:" .. fields[i + 1])
          redis.call("HINCRBY", KEYS[1], "d", -1)
        end
      end
    end
  end
end
local seq = redis.call("HINCRBY", KEYS[1], "seq", 1)
local entry = string.format("%d-0", seq)
local fields = {"id", ARGV[4], "ts", ARGV[5], "data", ARGV[6]}
if ARGV[7] ~= "" then
  table.insert(fields, "device")
  table.insert(fields, ARGV[7])
end
if dedupe then
  table.insert(fields, "k")
  table.insert(fields, ARGV[8])
  redis.call("HSET", KEYS[1], "i:" .. ARGV[8], seq)
  redis.call("HINCRBY", KEYS[1], "d", 1)
end
redis.call("XADD", KEYS[2], "MAXLEN", ARGV[3], entry, unpack(fields))
redis.call("PEXPIRE", KEYS[1], ARGV[2])
redis.call("PEXPIRE", KEYS[2], ARGV[2])
return {seq, epoch}
`;

/**
 * Returns `{epoch, seq, entries}` of one user, entries from seq ARGV[3] on.
 *
 * A user without an epoch gets one now, with the TTL, so that the epoch a
 * welcome announces is the one the next append keeps. An existing user's TTL
 * is left alone: reading does not extend a history's life. A history another
 * cluster node wrote starts a new epoch here too (see {@link APPEND}), so a
 * device resuming after a failover is told before any new append.
 *
 * KEYS: meta, stream. ARGV: new epoch, ttl ms, first seq wanted, limit,
 * owner check ("1" in a cluster, else "0").
 */
export const READ = `
local owner = ARGV[5] == "1" and redis.call("CLUSTER", "MYID")
local epoch = redis.call("HGET", KEYS[1], "epoch")
if not epoch or (owner and redis.call("HGET", KEYS[1], "o") ~= owner) then
  epoch = ARGV[1]
  redis.call("DEL", KEYS[1], KEYS[2])
  redis.call("HSET", KEYS[1], "epoch", epoch, "seq", 0)
  if owner then redis.call("HSET", KEYS[1], "o", owner) end
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
local seq = redis.call("HGET", KEYS[1], "seq") or "0"
local entries = {}
if tonumber(ARGV[4]) > 0 then
  entries = redis.call("XRANGE", KEYS[2], ARGV[3] .. "-0", "+",
    "COUNT", ARGV[4])
end
return {epoch, seq, entries}
`;

/**
 * Claims a push id: `{1}` when this caller reserved it, else `{0, value}`
 * with the stored value (`""` while pending, the answer's JSON when done).
 * One script, so the key cannot lapse between the failed SET and the GET.
 *
 * KEYS: push key. ARGV: reservation ttl ms.
 */
export const RESERVE = `
if redis.call("SET", KEYS[1], "", "NX", "PX", ARGV[1]) then
  return {1}
end
return {0, redis.call("GET", KEYS[1])}
`;

/**
 * Deletes a push id only while it is still pending (`""`), so a late release
 * cannot erase an answer that another request already completed.
 *
 * KEYS: push key.
 */
export const RELEASE = `
if redis.call("GET", KEYS[1]) == "" then
  return redis.call("DEL", KEYS[1])
end
return 0
`;
