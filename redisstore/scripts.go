package redisstore

import "github.com/redis/go-redis/v9"

// The Lua scripts below carry out each atomic operation in one round trip.
// Every key a script touches is passed in KEYS, and the keys of one call
// share a hash tag, so the scripts run unchanged on Redis Cluster.
//
// Times are Unix microseconds. Lua compares them as doubles, which is exact
// for times within about 285 years of 1970.
//
// A script that finds a record returns {1, field, value, ...}; one that
// does not returns {0}. Scripts without a record return an integer status.
// reserveScript, which returns several records, describes its own reply.

// luaEqual compares two strings in time that depends only on their lengths,
// so that the comparison of a hash or sealed secret leaks no prefix of it.
const luaEqual = `
local function equal(a, b)
	if #a ~= #b then return false end
	local diff = 0
	for i = 1, #a do
		diff = bit.bor(diff, bit.bxor(string.byte(a, i), string.byte(b, i)))
	end
	return diff == 0
end
`

// luaGreater compares two time steps given as decimal strings. Lua numbers
// are doubles, exact only up to 2^53, so it compares the strings: a
// negative step before any other, then a shorter string before a longer
// one, then byte-wise.
const luaGreater = `
local function greater(a, b)
	local an, bn = a:sub(1, 1) == '-', b:sub(1, 1) == '-'
	if an ~= bn then return bn end
	if an then return tonumber(a) > tonumber(b) end
	if #a ~= #b then return #a > #b end
	return a > b
end
`

// luaClearFailures sets the failure count of an account to zero. It writes
// nothing when the count is missing or already zero, so that it creates no
// account record.
const luaClearFailures = `
local function clearFailures(account)
	local failures = redis.call('HGET', account, 'failures')
	if failures and failures ~= '0' then
		redis.call('HSET', account, 'failures', 0)
	end
end
`

// putScript replaces a hash record and sets its TTL.
// KEYS[1]: the record. ARGV[1]: "1" to leave an existing record alone and
// return 0; ARGV[2]: TTL in ms; ARGV[3...]: field, value pairs.
var putScript = redis.NewScript(`
if ARGV[1] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then
	return 0
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`)

// confirmScript turns the set-up into the enrollment.
// KEYS[1]: set-up, KEYS[2]: enrollment. ARGV[1]: set-up ID, ARGV[2]: step,
// ARGV[3]: now.
var confirmScript = redis.NewScript(`
local s = redis.call('HMGET', KEYS[1], 'id', 'secret', 'alg', 'digits', 'period', 'expires')
if not s[1] or s[1] ~= ARGV[1] or tonumber(s[6]) <= tonumber(ARGV[3]) then
	return {0}
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[2], 'secret', s[2], 'alg', s[3], 'digits', s[4], 'period', s[5],
	'last_step', ARGV[2], 'confirmed', ARGV[3])
return {1, 'secret', s[2], 'alg', s[3], 'digits', s[4], 'period', s[5],
	'last_step', ARGV[2], 'confirmed', ARGV[3]}
`)

// luaSignIn finishes a right code: it sets the account's failure count to
// zero, creating no account record, and moves the challenge to the state
// succeeded.
const luaSignIn = luaClearFailures + `
local function signIn(challenge, account, succeeded)
	clearFailures(account)
	redis.call('HSET', challenge, 'state', succeeded)
end
`

// luaPendingChallenge checks that a challenge belongs to the user and is
// code-pending. It returns -1 when the challenge is missing or belongs to
// another user, 0 when it is in another state, and 1 otherwise.
const luaPendingChallenge = `
local function pendingChallenge(key, userID, pending)
	local c = redis.call('HMGET', key, 'user', 'state')
	if not c[1] or c[1] ~= userID then return -1 end
	if c[2] ~= pending then return 0 end
	return 1
end
`

// acceptStepScript signs in a challenge by a right code: it records a
// later time step, clears the failure count and closes the challenge.
// KEYS[1]: challenge, KEYS[2]: enrollment, KEYS[3]: account. ARGV[1]:
// step, ARGV[2]: user ID, ARGV[3]: the code-pending state, ARGV[4]: the
// succeeded state.
// Returns -1 without the challenge or an enrollment, -2 for a challenge in
// another state, 0 for a used step and 1 when recorded.
var acceptStepScript = redis.NewScript(luaSignIn + luaPendingChallenge + luaGreater + `
local pending = pendingChallenge(KEYS[1], ARGV[2], ARGV[3])
if pending < 0 then return -1 end
local last = redis.call('HGET', KEYS[2], 'last_step')
if not last then return -1 end
if pending == 0 then return -2 end
if not greater(ARGV[1], last) then return 0 end
redis.call('HSET', KEYS[2], 'last_step', ARGV[1])
signIn(KEYS[1], KEYS[3], ARGV[4])
return 1
`)

// replaceSecretScript swaps the sealed secret if it is unchanged.
// KEYS[1]: enrollment. ARGV[1]: old secret, ARGV[2]: new secret.
// Returns -1 without an enrollment, 0 for another secret, 1 when replaced.
var replaceSecretScript = redis.NewScript(luaEqual + `
local current = redis.call('HGET', KEYS[1], 'secret')
if not current then return -1 end
if not equal(current, ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'secret', ARGV[2])
return 1
`)

// reserveScript reads an unexpired challenge and its user's enrollment and
// account, and takes an attempt when the challenge is code-pending before
// its deadline, the user is enrolled, the account's generation is the
// challenge's and the count is below the limit. It judges a taken attempt
// by the verdict: a backup code's hash, or an app code's result when the
// secret it was checked against is the enrollment's. The secrets are
// compared with Lua's string equality, which is not constant-time: the
// library, not the user, chooses the secret in a verdict, and both sides
// are ciphertext. For a right code it records the step or deletes the
// backup code, clears the failure count and closes the challenge. Any
// other taken attempt counts a failure.
// KEYS[1]: challenge, KEYS[2]: enrollment, KEYS[3]: account, KEYS[4]:
// backup code.
// ARGV[1]: limit. ARGV[2]: now. ARGV[3]: the code-pending state.
// ARGV[4]: the user ID that the challenge ID carries.
// ARGV[5]: the succeeded state.
// ARGV[6]: the verdict's kind, "backup", "app" or empty.
// ARGV[7]: the backup code's hash or the sealed secret.
// ARGV[8]: "1" when the app code matched. ARGV[9]: the step it matched.
// Returns {0} without such a challenge, and otherwise {1, reserved,
// judged, accepted, challenge, account, enrollment}, where the flags are 0
// or 1, the account is the one after the call and each record is a flat
// list of fields and values, empty when there is none.
var reserveScript = redis.NewScript(luaEqual + luaSignIn + luaGreater + `
local function fields(list)
	local m = {}
	for i = 1, #list, 2 do m[list[i]] = list[i + 1] end
	return m
end
local challenge = redis.call('HGETALL', KEYS[1])
local c = fields(challenge)
if not c.user or c.user ~= ARGV[4] or tonumber(c.expires) <= tonumber(ARGV[2]) then
	return {0}
end
local enrollment = redis.call('HGETALL', KEYS[2])
local e = fields(enrollment)
local reserved, judged, accepted = 0, 0, 0
if #enrollment > 0 and c.state == ARGV[3] and tonumber(c.deadline) > tonumber(ARGV[2]) then
	local a = redis.call('HMGET', KEYS[3], 'failures', 'generation')
	if tonumber(a[1] or '0') < tonumber(ARGV[1]) and (a[2] or '0') == c.generation then
		reserved = 1
	end
end
if reserved == 1 then
	if ARGV[6] == 'backup' then
		judged = 1
		local b = redis.call('HMGET', KEYS[4], 'hash', 'expires')
		if b[1] and tonumber(b[2]) > tonumber(ARGV[2]) and equal(b[1], ARGV[7]) then
			accepted = 1
			redis.call('DEL', KEYS[4])
		end
	elseif ARGV[6] == 'app' and e.secret == ARGV[7] then
		judged = 1
		if ARGV[8] == '1' and greater(ARGV[9], e.last_step) then
			accepted = 1
			redis.call('HSET', KEYS[2], 'last_step', ARGV[9])
		end
	end
	if accepted == 1 then
		signIn(KEYS[1], KEYS[3], ARGV[5])
	else
		redis.call('HINCRBY', KEYS[3], 'failures', 1)
	end
end
return {1, reserved, judged, accepted, challenge, redis.call('HGETALL', KEYS[3]), enrollment}
`)

// releaseScript gives back one counted failure.
// KEYS[1]: account.
var releaseScript = redis.NewScript(`
local failures = tonumber(redis.call('HGET', KEYS[1], 'failures') or '0')
if failures > 0 then redis.call('HINCRBY', KEYS[1], 'failures', -1) end
return 0
`)

// setIfExistsScript sets one field of a hash that exists, and creates
// nothing otherwise.
// KEYS[1]: the hash. ARGV[1]: field, ARGV[2]: value.
var setIfExistsScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
	redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
return 0
`)

// unlockScript clears the failures and starts a new generation.
// KEYS[1]: account. ARGV[1]: now, ARGV[2]: "1" if a reset is required.
var unlockScript = redis.NewScript(`
redis.call('HSET', KEYS[1], 'failures', 0, 'unlocked', ARGV[1], 'reset', ARGV[2])
return redis.call('HINCRBY', KEYS[1], 'generation', 1)
`)

// updateChallengeScript moves a challenge from one state to another.
// KEYS[1]: challenge. ARGV[1]: from, ARGV[2]: to.
// Returns -1 without a challenge, 0 in another state, 1 when moved.
var updateChallengeScript = redis.NewScript(`
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return -1 end
if state ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2])
return 1
`)

// consumeBackupScript signs in a challenge by a backup code: it deletes
// and returns an unexpired backup code with the hash, clears the failure
// count and closes the challenge.
// KEYS[1]: challenge, KEYS[2]: backup code, KEYS[3]: account. ARGV[1]:
// hash, ARGV[2]: now, ARGV[3]: user ID, ARGV[4]: the code-pending state,
// ARGV[5]: the succeeded state.
// Returns {-1} for a challenge in another state, {0} when the challenge or
// a matching code is missing, and the code as a record otherwise.
var consumeBackupScript = redis.NewScript(luaEqual + luaSignIn + luaPendingChallenge + `
local pending = pendingChallenge(KEYS[1], ARGV[3], ARGV[4])
if pending < 0 then return {0} end
if pending == 0 then return {-1} end
local c = redis.call('HMGET', KEYS[2], 'hash', 'issued_by', 'created', 'expires')
if not c[1] or tonumber(c[4]) <= tonumber(ARGV[2]) or not equal(c[1], ARGV[1]) then
	return {0}
end
redis.call('DEL', KEYS[2])
signIn(KEYS[1], KEYS[3], ARGV[5])
return {1, 'hash', c[1], 'issued_by', c[2], 'created', c[3], 'expires', c[4]}
`)

// putDeviceScript stores a device and adds it to the user's device index,
// first dropping index members that expired at or before a bound. The
// index lives at least as long as its newest device.
// KEYS[1]: device, KEYS[2]: device index. ARGV[1]: TTL in ms, ARGV[2]:
// index member, ARGV[3]: expiry, ARGV[4]: the bound, ARGV[5...]: field,
// value pairs.
var putDeviceScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[1]) then
	redis.call('PEXPIRE', KEYS[2], ARGV[1])
end
return 1
`)

// useDeviceScript returns an indexed, unexpired device and sets its
// last use. A device key whose member left the index is revoked.
// KEYS[1]: device, KEYS[2]: device index. ARGV[1]: index member, ARGV[2]:
// now.
var useDeviceScript = redis.NewScript(`
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then return {0} end
local d = redis.call('HMGET', KEYS[1], 'id', 'hash', 'label', 'created', 'expires')
if not d[1] or tonumber(d[5]) <= tonumber(ARGV[2]) then return {0} end
redis.call('HSET', KEYS[1], 'last_used', ARGV[2])
return {1, 'id', d[1], 'hash', d[2], 'label', d[3], 'created', d[4], 'expires', d[5],
	'last_used', ARGV[2]}
`)
