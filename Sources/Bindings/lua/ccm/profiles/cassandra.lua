--- cassandra: Apache Cassandra nodes from the official image.
---
--- The image's entrypoint fills listen/broadcast addresses, seeds, cluster name, dc and rack from
--- its CASSANDRA_* variables into /etc/cassandra/cassandra.yaml, replacing lines that exist there;
--- so the generated file keeps those keys, and the variables say the truth.
local cassandra_like = require "ccm.profiles.cassandra_like"

local profile = {
  name = "cassandra",
  start_order = "one-by-one",
}

function profile.image(spec)
  return os.getenv("CASSANDRA_DOCKER_IMAGE") or "cassandra:4.1"
end

function profile.config(cluster)
  return {
    cluster_name = cluster.name,
    num_tokens = 16,
    partitioner = "org.apache.cassandra.dht.Murmur3Partitioner",
    endpoint_snitch = "GossipingPropertyFileSnitch",
    commitlog_sync = "periodic",
    commitlog_sync_period_in_ms = 10000,
    listen_address = "localhost",          -- replaced by the entrypoint (CASSANDRA_LISTEN_ADDRESS)
    rpc_address = "0.0.0.0",
    broadcast_address = "localhost",       -- replaced by the entrypoint
    broadcast_rpc_address = "localhost",   -- replaced by the entrypoint
    data_file_directories = { "/var/lib/cassandra/data" },
    commitlog_directory = "/var/lib/cassandra/commitlog",
    hints_directory = "/var/lib/cassandra/hints",
    saved_caches_directory = "/var/lib/cassandra/saved_caches",
    seed_provider = cassandra_like.seed_provider(cluster),
  }
end

--- Lines the entrypoint fills in with the container's addresses (it rewrites `KEY: ...` lines and
--- cannot add missing ones): they stay in the file even when the config removes them.
local ADDRESS_LINES = {
  listen_address = "localhost", broadcast_address = "localhost", broadcast_rpc_address = "localhost",
  rpc_address = "0.0.0.0",
}

function profile.node(node, cluster)
  local rackdc = cassandra_like.rackdc(node)
  local yaml = {}
  for key, value in pairs(node.config) do yaml[key] = value end
  for key, placeholder in pairs(ADDRESS_LINES) do
    if yaml[key] == nil then yaml[key] = placeholder end
  end
  return {
    -- The entrypoint writes these into cassandra.yaml (and cassandra-rackdc.properties) at every
    -- start, so they must say what the config says.
    env = {
      CASSANDRA_SEEDS = table.concat(cassandra_like.seeds(cluster), ","),
      CASSANDRA_CLUSTER_NAME = tostring(node.config.cluster_name or cluster.name),
      CASSANDRA_DC = rackdc.dc,
      CASSANDRA_RACK = rackdc.rack,
      CASSANDRA_ENDPOINT_SNITCH = tostring(node.config.endpoint_snitch or "GossipingPropertyFileSnitch"),
    },
    files = {
      { path = "conf/cassandra.yaml", mount = "/etc/cassandra/cassandra.yaml", format = "yaml", content = yaml },
    },
    directories = { data = "/var/lib/cassandra" },
    ready = { log = "Starting listening for CQL clients", plain = true },
  }
end

profile.methods = cassandra_like.methods

return profile
