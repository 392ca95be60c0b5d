-- Three ScyllaDB nodes, CQL through cqlsh, nodetool status: the CCM quickstart as a script.
-- Needs a ScyllaDB image on this machine: SCYLLA_DOCKER_IMAGE=scylladb/scylla:6.2 ccm-lua examples/scylla-quickstart.lua
local c = cluster.create { nodes = 3, config = { auto_snapshot = false } }

log.step("start", function() c:start { timeout = 300 } end)

local n1 = c:node(1)
log.step("schema and data", function()
  n1:cqlsh("CREATE KEYSPACE ks WITH replication = {'class': 'NetworkTopologyStrategy', 'replication_factor': 3}")
  n1:cqlsh("CREATE TABLE ks.t (k int PRIMARY KEY, v text)")
  n1:cqlsh("INSERT INTO ks.t (k, v) VALUES (1, 'one')")
end)

log.step("every node is up and normal", function()
  local status = n1:nodetool("status")
  local up = select(2, status:gsub("\nUN ", ""))
  assert(up == 3, "expected 3 nodes UN in:\n" .. status)
end)

print(c:node(3):cqlsh("SELECT * FROM ks.t"))   -- the row written through node1, read through node3
