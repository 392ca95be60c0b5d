-- The `exec` global: run commands on the host or in a node.
local native = require "ccm.exec.native"

local exec = {}

-- exec.host(cmd, opts) -> {code=, stdout=, stderr=, duration=} (Sources/Bindings/Modules/Exec.swift)
exec.host = native.host

-- exec.on(node, cmd, opts) is node:exec(cmd, opts).
function exec.on(node, cmd, opts)
  return node:exec(cmd, opts)
end

return exec
