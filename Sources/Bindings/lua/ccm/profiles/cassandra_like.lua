--- What the scylla and cassandra profiles share: seeds, rack/dc files and the nodetool/cqlsh helpers.
local M = {}

--- The first node of every datacenter is a seed; nodes reach each other by name on the network.
function M.seeds(cluster)
  local seeds, seen = {}, {}
  for _, node in ipairs(cluster.nodes) do
    local dc = node.dc or "dc1"
    if not seen[dc] then
      seen[dc] = true
      seeds[#seeds + 1] = node.name
    end
  end
  return seeds
end

--- The `seed_provider` entry of scylla.yaml / cassandra.yaml: SimpleSeedProvider with M.seeds.
function M.seed_provider(cluster)
  return {
    { class_name = "org.apache.cassandra.locator.SimpleSeedProvider",
      parameters = { { seeds = table.concat(M.seeds(cluster), ",") } } },
  }
end

function M.rackdc(node)
  return { dc = node.dc or "dc1", rack = "rack1", prefer_local = "true" }
end

local function argv_of(program, ...)
  local argv = { program }
  for i = 1, select("#", ...) do argv[#argv + 1] = tostring((select(i, ...))) end
  return argv
end

M.methods = {}

--- n:nodetool("status") -> stdout; raises kind "exec" when nodetool fails.
function M.methods.nodetool(n, ...)
  return n:run(argv_of("nodetool", ...))
end

--- n:cqlsh("SELECT * FROM system.local") runs one statement (cqlsh -e); n:cqlsh("-f", "/x.cql")
--- passes flags through. Returns stdout; raises kind "exec" on failure.
function M.methods.cqlsh(n, first, ...)
  if type(first) == "string" and select("#", ...) == 0 and first:sub(1, 1) ~= "-" then
    return n:run({ "cqlsh", "-e", first })
  end
  return n:run(argv_of("cqlsh", first, ...))
end

return M
