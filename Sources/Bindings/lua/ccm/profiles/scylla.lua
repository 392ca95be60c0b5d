--- scylla: ScyllaDB nodes from the official image (the default profile, as in CCM).
---
--- The image's entrypoint takes --seeds, --smp, --memory, --overprovisioned, --developer-mode and
--- passes other flags to scylla. conf/scylla.yaml and conf/cassandra-rackdc.properties are generated
--- in each node folder from `config` and mounted at /etc/scylla; data lives in the node folder too.
local cassandra_like = require "ccm.profiles.cassandra_like"

local profile = {
  name = "scylla",
  -- Classic Scylla bootstraps one node at a time: start the next once the previous serves CQL.
  start_order = "one-by-one",
  -- The test runner's error-log gate (Swift Regex): error lines and backtraces.
  error_patterns = { "(^|\\s)ERROR\\s", "Backtrace:" },
  ignore_log_patterns = {},
  -- Spec fields this profile reads besides the common ones: --smp and scylla's own --memory
  -- (spec.memory is the container's limit).
  spec_fields = { smp = "number", scylla_memory = "string" },
}

function profile.image(spec)
  return os.getenv("SCYLLA_DOCKER_IMAGE") or "scylladb/scylla:latest"
end

--- scylla.yaml defaults; `spec.config` and `n:set_config` merge into these (json.null removes a key).
function profile.config(cluster)
  return {
    cluster_name = cluster.name,
    num_tokens = 256,
    endpoint_snitch = "GossipingPropertyFileSnitch",
    data_file_directories = { "/var/lib/scylla/data" },
    commitlog_directory = "/var/lib/scylla/commitlog",
    hints_directory = "/var/lib/scylla/hints",
    view_hints_directory = "/var/lib/scylla/view_hints",
    saved_caches_directory = "/var/lib/scylla/saved_caches",
    seed_provider = cassandra_like.seed_provider(cluster),
  }
end

function profile.node(node, cluster)
  local spec = cluster.spec
  local command = {
    "--seeds", table.concat(cassandra_like.seeds(cluster), ","),
    "--smp", tostring(spec.smp or 1),
    "--memory", spec.scylla_memory or "512M",
    "--overprovisioned", "1",
    "--developer-mode", "1",
    -- The entrypoint passes this on to scylla, where it beats scylla.yaml: keep the two in step.
    "--cluster-name", tostring(node.config.cluster_name or cluster.name),
  }
  return {
    command = command,
    files = {
      { path = "conf/scylla.yaml", mount = "/etc/scylla/scylla.yaml", format = "yaml", content = node.config },
      { path = "conf/cassandra-rackdc.properties", mount = "/etc/scylla/cassandra-rackdc.properties",
        format = "properties", content = cassandra_like.rackdc(node) },
    },
    -- ccm's node folder layout, each visible on the host (conf/ holds the files mounted above;
    -- logs/ is the node's captured output).
    directories = {
      data = "/var/lib/scylla/data", commitlogs = "/var/lib/scylla/commitlog", hints = "/var/lib/scylla/hints",
      view_hints = "/var/lib/scylla/view_hints", saved_caches = "/var/lib/scylla/saved_caches", keys = "/etc/scylla/keys",
    },
    ready = { log = "Starting listening for CQL clients", plain = true },
  }
end

profile.methods = cassandra_like.methods

return profile
