--- generic: any image. The spec says everything: `image`, `command`, `entrypoint`, `env`, and how
--- to tell a node is ready with `ready = { log = "pattern" }`, `ready = { probe = {"argv", ...} }`,
--- both, or nothing.
local errors = require "ccm.errors"

local profile = {
  name = "generic",
  start_order = "parallel",
  config = {},
  spec_fields = { command = "table|string", entrypoint = "table|string", ready = "table" },
}

local READY_FIELDS = { log = "string", plain = "boolean", probe = "table", interval = "number", timeout = "number" }

function profile.image(spec)
  return spec.image
end


--- An entrypoint string is the program (as `docker run --entrypoint` takes it).
local function entrypoint(value)
  if type(value) == "string" then return { value } end
  return value
end

local function check_ready(ready)
  if ready == nil then return nil end
  for key, value in pairs(ready) do
    local expected = READY_FIELDS[key]
    if expected == nil then
      errors.raise("usage", ("unknown field '%s' in spec.ready (fields: log, plain, probe, interval, timeout)"):format(tostring(key)))
    end
    if type(value) ~= expected then
      errors.raise("usage", ("spec.ready.%s must be a %s, got %s"):format(key, expected, type(value)))
    end
  end
  return ready
end

function profile.node(node, cluster)
  local spec = cluster.spec
  return {
    command = spec.command, -- a string runs through a shell, as for n:exec (Core's ShellCommand)
    entrypoint = entrypoint(spec.entrypoint),
    ready = check_ready(spec.ready),
  }
end

profile.methods = {}

return profile
