--- etcd: a real Raft cluster. Nodes find each other by name on the cluster network
--- (node1:2380, ...), so the initial cluster is known before any container starts.
local errors = require "ccm.errors"

local profile = {
  name = "etcd",
  -- Starting containers one after another (without waiting) is the fastest way to a ready etcd
  -- cluster: started all at once, each node spends a second probing peers that do not answer yet.
  start_order = "sequential",
  client_port = 2379,
  peer_port = 2380,
  -- The test runner's error-log gate: lines that fail a test (Swift Regex), unless ignored.
  error_patterns = { " E \\| ", " C \\| ", "(^|\\s)panic: " },
  -- rafthttp is the peer transport: its errors say a peer is not reachable (yet), which happens
  -- at every start (peers not up, names not resolvable yet) and whenever a scenario stops,
  -- pauses or cuts off a node.
  ignore_log_patterns = { " E \\| rafthttp: " },
}

-- Upstream etcd images have no shell since 3.5.7: every command this profile runs in a node
-- (the node's command, the readiness probe, member add, the helpers) is an argv table.
function profile.image()
  return os.getenv("ETCD_DOCKER_IMAGE") or "quay.io/coreos/etcd:v3.5.17"
end

--- Extra etcd flags, as a table of name = value ("--name" and the cluster flags are set for you).
profile.config = {}

local function url(host, port) return ("http://%s:%d"):format(host, port) end

function profile.node(node, cluster)
  local members = {}
  for _, peer in ipairs(cluster.nodes) do
    members[#members + 1] = peer.name .. "=" .. url(peer.name, profile.peer_port)
  end
  local command = {
    "etcd",
    "--name", node.name,
    "--data-dir", "/var/lib/etcd/" .. node.name,
    "--listen-peer-urls", url("0.0.0.0", profile.peer_port),
    "--listen-client-urls", url("0.0.0.0", profile.client_port),
    "--initial-advertise-peer-urls", url(node.name, profile.peer_port),
    "--advertise-client-urls", url(node.name, profile.client_port),
    "--initial-cluster", table.concat(members, ","),
    "--initial-cluster-token", cluster.name,
    "--initial-cluster-state", node.joining and "existing" or "new",
  }
  local keys = {}
  for key in pairs(node.config) do keys[#keys + 1] = key end
  table.sort(keys)
  for _, key in ipairs(keys) do
    command[#command + 1] = "--" .. key .. "=" .. tostring(node.config[key])
  end
  return {
    command = command,
    -- The data dir lives on the host (<node>/data): a node made anew after a changed command
    -- (set_config, updateconf) is still the same member, not an empty one.
    directories = { data = "/var/lib/etcd" },
    -- Published on the host where n:endpoint cannot reach the node's address (rootless, remote).
    client_ports = { profile.client_port },
    -- etcd prints its ready line only after its own joining (publishing its name and client
    -- URLs) was committed through Raft, so a leader and a quorum answered: what the probe's
    -- quorum read checks. The line of this start is enough; a node already running when the start
    -- began (its line is old) is checked with the probe.
    ready = {
      log = "ready to serve client requests",
      probe = { "etcdctl", "--endpoints=" .. url("127.0.0.1", profile.client_port), "endpoint", "health" },
      probe_after_log = false,
    },
  }
end

--- Runs a membership change (`member add|remove ...`) on `peer`. etcd refuses one ("unhealthy
--- cluster") until every member has been connected for a few seconds, as right after a start:
--- that is waited out; any other failure is raised.
local function change_membership(peer, ...)
  local argv = { "etcdctl", "--endpoints=" .. url("127.0.0.1", profile.client_port), "member", ... }
  wait_until(function()
    local result = peer:exec(argv, { timeout = 10 })
    if result.code == 0 then return true end
    if result.stderr:find("unhealthy cluster", 1, true) then return false end
    errors.raise("exec", ("%s: `%s` exited %d: %s"):format(peer.name, table.concat(argv, " "), result.code,
      result.stderr), 1, { node = peer.name, code = result.code, stderr = result.stderr })
  end, { timeout = 30, interval = 0.5 })
end

--- A node added to a running cluster (c:add_node) joins as a new member: the cluster is told
--- first, through a running node, as etcd requires (its plan says --initial-cluster-state existing).
function profile.on_add(c, n)
  for _, peer in ipairs(c:nodes()) do
    if peer ~= n and peer:state() == "running" then
      change_membership(peer, "add", n.name, "--peer-urls=" .. url(n.name, profile.peer_port))
      return
    end
  end
end

--- A running node removed from the cluster (n:remove, `ccm-lua nodeN remove`) leaves it first:
--- another running member removes it from the membership, so the quorum is a majority of the
--- members that are left (a member gone but still listed counts against it: of 4 with one gone,
--- all 3 left are needed; of 3 members, 2). Returns a note when there is nobody to ask.
function profile.on_remove(c, n)
  local endpoint = "--endpoints=" .. url("127.0.0.1", profile.client_port)
  local peer_url = url(n.name, profile.peer_port)
  for _, peer in ipairs(c:nodes()) do
    if peer ~= n and peer:state() == "running" then
      -- `member list`: "ID, STATUS, NAME, PEER ADDRS, CLIENT ADDRS, IS LEARNER"; a member added but
      -- never started has no name yet, only its peer address.
      local list = peer:run({ "etcdctl", endpoint, "member", "list" }, { timeout = 10 })
      for line in list:gmatch("[^\n]+") do
        local id, name, peers = line:match("^(%x+), [^,]*, ([^,]*), ([^,]*),")
        if id and (name == n.name or peers == peer_url) then
          change_membership(peer, "remove", id)
          return nil
        end
      end
      return nil   -- not a member (it never joined): nothing to leave
    end
  end
  return ("%s was removed without leaving the etcd cluster first: no other node runs to ask"):format(n.name)
end

--- on_remove asks another member, so a stopped node can leave too (its departure is what keeps
--- the survivors' quorum right).
profile.leaves_from_peer = true

--- Said when on_remove could not run (a stopped node, or force).
profile.leave_by_hand = "on a running node, `etcdctl member list` names its ID and `etcdctl member remove ID` removes it"

profile.methods = {}

--- n:etcdctl("put", "k", "v") -> stdout; raises kind "exec" when etcdctl fails.
function profile.methods.etcdctl(n, ...)
  local argv = { "etcdctl", "--endpoints=" .. url("127.0.0.1", profile.client_port) }
  for i = 1, select("#", ...) do argv[#argv + 1] = tostring((select(i, ...))) end
  return n:run(argv)
end

--- The name of the node that leads the Raft group as `n` sees it, or nil while it knows of none.
--- Only `n`'s own endpoint is asked: its leader's id (`endpoint status`), named through
--- `member list`. (`endpoint status --cluster` dials every member, and a stopped one makes it
--- hang for seconds.) Ids are compared as text: they do not fit a Lua float.
function profile.methods.leader(n)
  local function local_etcdctl(...)
    local argv = { "etcdctl", "--endpoints=" .. url("127.0.0.1", profile.client_port), "--command-timeout=2s", ... }
    local result = n:exec(argv, { timeout = 10 })
    return result.code == 0 and result.stdout or nil
  end
  local status = local_etcdctl("endpoint", "status", "-w", "fields")
  local leader_id = status and status:match('"Leader" : (%d+)')
  if not leader_id or leader_id == "0" then return nil end
  local members = local_etcdctl("member", "list", "-w", "fields") or ""
  for id, name in members:gmatch('"ID" : (%d+)%s+"Name" : "([^"]*)"') do
    if id == leader_id then return name end
  end
  return nil
end

return profile
