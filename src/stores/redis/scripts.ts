/**
 * Lua scripts of the Redis store. Each touches one value's keys only (its head and its parts share a
 * hash tag, so they live in one cluster slot) and runs atomically on the server.
 *
 * A head is a hash: v (version id), k (kind), c (codec), n (number of parts; 0 when the bytes are in
 * d), l (byte length), x (CRC-32 sealed with the kind and codec, see src/values/seal.ts), d (the
 * bytes of a value small enough to have no parts). Heads written before sealing hold s (the plain
 * CRC-32) instead of x.
 */

/**
 * Publishes a value whose parts (if any) are already written, with an expiry: replaces the head
 * and makes the parts permanent in one step. KEYS: the head, then the parts. ARGV: version, kind,
 * codec, parts, length, sealed crc, data, expected version ('*': any, '': absent). Returns the replaced
 * version and its part count ({'', '0'} when there was none), 'SAME' when this version is already
 * published (a command sent again after a reconnect), 'CONFLICT' when the head is not at the
 * expected version, or 'MISSING' when a part is gone (expired before it could be published).
 */
export const PUBLISH = `
local old = redis.call('HMGET', KEYS[1], 'v', 'n')
local current = old[1] or ''
if current == ARGV[1] then return 'SAME' end
if ARGV[8] ~= '*' and ARGV[8] ~= current then return 'CONFLICT' end
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then return 'MISSING' end
end
for i = 2, #KEYS do redis.call('PERSIST', KEYS[i]) end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'k', ARGV[2], 'c', ARGV[3], 'n', ARGV[4], 'l', ARGV[5], 'x', ARGV[6], 'd', ARGV[7])
return {current, old[2] or '0'}
`;

/**
 * Removes a head. ARGV: expected version ('*': any). Returns the removed version and its part count
 * ({'', '0'} when there was none), or 'CONFLICT'.
 */
export const REMOVE = `
local old = redis.call('HMGET', KEYS[1], 'v', 'n')
local current = old[1] or ''
if ARGV[1] ~= '*' and ARGV[1] ~= current then return 'CONFLICT' end
if current ~= '' then redis.call('DEL', KEYS[1]) end
return {current, old[2] or '0'}
`;
