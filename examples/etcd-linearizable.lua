-- Is etcd linearizable under network partitions? Jepsen's register test in one file: 5 clients
-- read, write and compare-and-set a few keys through etcd's v3 JSON API while a nemesis cuts the
-- network; every operation is recorded in a history, and the history is checked.
--
--   ccm-lua examples/etcd-linearizable.lua           linearizable reads: the check passes
--   ccm-lua examples/etcd-linearizable.lua stale     serializable reads on an isolated member:
--                                                    the check finds the stale read and shows it
--
-- WORKLOAD_SECONDS (default 30) sets how long the clients run; CCM_LUA_RUNTIME=podman picks the
-- engine; HISTORY_FILE=path also saves the history (JSON lines, with the faults as nemesis
-- operations) for other tools.
local history = require "ccm.history"
local check = require "ccm.check"
local nemesis = require "ccm.nemesis"

local stale = arg[1] == "stale" or os.getenv("WORKLOAD_MODE") == "stale"
local seconds = tonumber(os.getenv("WORKLOAD_SECONDS") or "30")
local image = os.getenv("ETCD_DOCKER_IMAGE") or "ccm-lua-test/etcd:3.4"
local keys = { "k1", "k2", "k3" }
local workers = 5

local c = cluster.create { profile = "etcd", image = image, nodes = 3 }
c:start { timeout = 60 }
local nodes = c:nodes()
local base = {}
for i, n in ipairs(nodes) do base[i] = "http://" .. n:endpoint(2379) end

-- etcd's v3 JSON gateway: keys and values are base64; an absent key has no "kvs".
local b64, unb64 = http.base64_encode, http.base64_decode

local function call(node, path, body)
  local r = http.post(base[node] .. path, body, { timeout = 2 })
  if not r.ok then error(("etcd %s: HTTP %d %s"):format(path, r.status, r.body), 0) end
  return r:json()
end

local function read(node, key, serializable)
  local body = call(node, "/v3/kv/range", { key = b64(key), serializable = serializable or nil })
  local kv = body.kvs and body.kvs[1]
  return kv and math.tointeger(tonumber(unb64(kv.value))) or nil
end

local function write(node, key, value)
  call(node, "/v3/kv/put", { key = b64(key), value = b64(tostring(value)) })
end

local function cas(node, key, old, new)
  local body = call(node, "/v3/kv/txn", {
    compare = { { key = b64(key), target = "VALUE", result = "EQUAL", value = b64(tostring(old)) } },
    success = { { requestPut = { key = b64(key), value = b64(tostring(new)) } } },
  })
  return body.succeeded == true
end

local h = history.new { concurrency = workers }

-- One client: a process id (a new one after an unknown outcome, as Jepsen does) bound to one
-- node. A read that failed changed nothing, so it is a fail; a write or cas that failed may
-- still have happened, so its outcome is unknown (info).
local function client(i, node, deadline, serializable)
  local p = i - 1
  while now() < deadline do
    local key = keys[math.random(#keys)]
    local dice = math.random()
    if dice < 0.5 or serializable then
      local op = h:invoke { process = p, f = "read", key = key }
      local ok, value = pcall(read, node, key, serializable)
      if ok then op:ok(value) else op:fail(value) end
    elseif dice < 0.8 then
      local value = math.random(0, 4)
      local op = h:invoke { process = p, f = "write", key = key, value = value }
      local ok, err = pcall(write, node, key, value)
      if ok then op:ok() else p = op:info(err) end
    else
      local old, new = math.random(0, 4), math.random(0, 4)
      local op = h:invoke { process = p, f = "cas", key = key, value = { old, new } }
      local ok, swapped = pcall(cas, node, key, old, new)
      if not ok then p = op:info(swapped)
      elseif swapped then op:ok()
      else op:fail("compare failed") end
    end
  end
end

log.step("workload", function()
  local deadline = now() + seconds
  local branches = {}
  for i = 1, workers do
    -- In the stale mode the last client reads node3 with serializable reads: that member answers
    -- from its own copy, without asking the others.
    local node, serializable = (i - 1) % #nodes + 1, nil
    if stale and i == workers then node, serializable = 3, true end
    branches[i] = function() client(i, node, deadline, serializable) end
  end
  if stale then
    -- A pinned partition: node3 alone, from a fifth of the way in until the end.
    branches[#branches + 1] = function()
      sleep(seconds / 5)
      local cut = c:partition({ c:node(3) }, { c:node(1), c:node(2) })
      while now() < deadline do sleep(0.2) end
      -- Made sure of: a new value is written through the majority, then the isolated member is
      -- asked. It cannot have seen that write.
      local fresh, writer = 100, 1000000
      repeat
        fresh = fresh + 1
        local op = h:invoke { process = writer, f = "write", key = "k1", value = fresh }
        local ok, err = pcall(write, 1, "k1", fresh)
        if ok then op:ok() else writer = op:info(err) end
      until ok
      local op = h:invoke { process = 2000000, f = "read", key = "k1" }
      local ok, value = pcall(read, 3, "k1", true)
      if ok then op:ok(value) else op:fail(value) end
      cut:heal()
    end
  else
    branches[#branches + 1] = function()
      nemesis.run(c, nemesis.time_limit(seconds, nemesis.stagger(math.max(seconds / 8, 1), nemesis.partition_random_halves())))
    end
  end
  parallel(branches)
end)
c:heal()

if os.getenv("HISTORY_FILE") then h:save(os.getenv("HISTORY_FILE")) end
local result = log.step("check", function()
  return check.linearizable(h, { model = "etcd", time_limit = 120 })
end)
print(("%d events recorded"):format(h:count()))
print(check.describe(result))
if stale then
  assert(result.valid == false, "serializable reads on an isolated member should have been caught")
  print("caught: the isolated member served a stale read")
else
  assert(result.valid == true, "etcd with linearizable reads should be linearizable")
end
