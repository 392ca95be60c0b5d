-- A 3-node etcd cluster loses its leader and elects a new one; the old leader comes back and
-- rejoins as a follower with the data written while it was away.
--
--   ccm-lua examples/etcd-failover.lua            (Docker or Podman, whichever answers)
--   CCM_LUA_RUNTIME=podman ccm-lua examples/etcd-failover.lua
local checks = require "lib.checks"

local image = os.getenv("ETCD_DOCKER_IMAGE") or "ccm-lua-test/etcd:3.4"
local c = cluster.create { profile = "etcd", image = image, nodes = 3 }

log.step("start 3 nodes", function()
  c:start { timeout = 60 }
end)

local leader_name = log.step("find the leader", function()
  return wait_until(function() return c:node(1):leader() end, { timeout = 60 })
end)
local leader = c:node(leader_name)
log.info("leader is %s", leader.name)
leader:etcdctl("put", "before", "1")

local survivors = {}
for _, n in ipairs(c:nodes()) do
  if n ~= leader then survivors[#survivors + 1] = n end
end

log.step("stop the leader, see a new one elected", function()
  leader:stop { gently = false }
  local new_leader = wait_until(function()
    local ok, name = pcall(survivors[1].leader, survivors[1])
    return ok and name ~= nil and name ~= leader.name and name
  end, { timeout = 60 })
  log.info("new leader is %s", new_leader)
  survivors[1]:etcdctl("put", "during", "2")
end)

log.step("bring the old leader back", function()
  local mark = leader:mark_log()
  leader:start { timeout = 60 }
  -- It rejoins as a follower of the current term.
  leader:wait_log("raft.node: [0-9a-f]+ elected leader [0-9a-f]+ at term", { from = mark, timeout = 60 })
end)

log.step("check it rejoined with every write", function()
  checks.same_value(c:nodes(), "before", "1")
  checks.same_value(c:nodes(), "during", "2")
  assert(leader:leader() ~= nil, "the rejoined node sees a leader")
end)

log.info("done: %s survived losing its leader", c.name)
