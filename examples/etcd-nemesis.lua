-- etcd under a 30-second random-halves nemesis while a writer appends keys. At the end the
-- nemesis heals, the cluster elects a leader, and a small set checker asks every node for the
-- keys: every write etcd acknowledged must be on every node.
--
--   ccm-lua examples/etcd-nemesis.lua              (Docker or Podman, whichever answers)
--   CCM_LUA_SEED=7 ccm-lua examples/etcd-nemesis.lua   (the same schedule again)
local nemesis = require "ccm.nemesis"

local image = os.getenv("ETCD_DOCKER_IMAGE") or "ccm-lua-test/etcd:3.4"
local seconds = tonumber(os.getenv("NEMESIS_SECONDS") or "30")
local c = cluster.create { profile = "etcd", image = image, nodes = 3 }
c:start { timeout = 60 }

local function etcdctl(n, timeout, ...)
  local argv = { "etcdctl", "--endpoints=http://127.0.0.1:2379", "--command-timeout=" .. timeout .. "s", ... }
  return n:exec(argv, { timeout = timeout + 10 })
end

-- The writer: appends keys through each node in turn; a write counts once etcd said OK. A write
-- that failed or timed out may still have happened: it is "unknown", not lost.
local acknowledged, unknown, done = {}, 0, false
local function writer()
  local i = 0
  while not done do
    i = i + 1
    local key = ("k%05d"):format(i)
    local n = c:node((i - 1) % 3 + 1)
    local r = etcdctl(n, 2, "put", key, tostring(i))
    if r.code == 0 then acknowledged[#acknowledged + 1] = key else unknown = unknown + 1 end
  end
end

local schedule = nemesis.time_limit(seconds, nemesis.stagger(4, nemesis.partition_random_halves()))
log.step("nemesis and writer", function()
  parallel(function()
    nemesis.run(c, schedule)
    done = true
  end, writer)
end)
log.info("%d writes acknowledged, %d unknown", #acknowledged, unknown)

log.step("wait for a leader", function()
  wait_until(function() return c:node(1):leader() end, { timeout = 30 })
end)

-- The set checker: every acknowledged key is present on every node (reads are each node's own,
-- serializable, once it has caught up).
local function keys_on(n)
  local r = etcdctl(n, 5, "get", "k", "--prefix", "--keys-only", "--consistency=s")
  if r.code ~= 0 then return nil end
  local present = {}
  for key in r.stdout:gmatch("%S+") do present[key] = true end
  return present
end

local function missing_on(n)
  local present = keys_on(n)
  if not present then return nil end
  local lost = {}
  for _, key in ipairs(acknowledged) do
    if not present[key] then lost[#lost + 1] = key end
  end
  return lost
end

log.step("check every acknowledged write is on every node", function()
  for _, n in ipairs(c:nodes()) do
    -- A node that was cut off catches up after the heal: give it a moment before judging.
    local ok = pcall(wait_until, function()
      local lost = missing_on(n)
      return lost and #lost == 0
    end, { timeout = 30, interval = 0.5 })
    if not ok then
      local lost = missing_on(n) or {}
      error(("%s lacks %d acknowledged keys: %s"):format(n.name, #lost, table.concat(lost, " ", 1, math.min(#lost, 20))))
    end
    log.info("%s has all %d acknowledged keys", n.name, #acknowledged)
  end
end)
print(("ok: %d acknowledged writes survived %g s of partitions on every node"):format(#acknowledged, seconds))
