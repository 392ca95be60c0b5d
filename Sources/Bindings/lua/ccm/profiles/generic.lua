--- generic: any image. The spec says everything: `image`, `command`, `env`, and how to tell a node
--- is ready with `ready = { log = "pattern" }`, `ready = { probe = {"argv", ...} }`, or nothing.
local profile = {
  name = "generic",
  start_order = "parallel",
  config = {},
}

function profile.image(spec)
  return spec.image
end

function profile.node(node, cluster)
  local spec = cluster.spec
  return {
    command = spec.command,
    entrypoint = spec.entrypoint,
    ready = spec.ready,
  }
end

profile.methods = {}

return profile
