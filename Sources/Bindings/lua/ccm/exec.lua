-- The `exec` global: run commands on the host or in a node.
local native = require "ccm.exec.native"
local errors = require "ccm.errors"

local exec = {}

-- exec.host(cmd, opts) -> {code=, stdout=, stderr=, duration=} (Sources/Bindings/Modules/Exec.swift)
function exec.host(cmd, opts)
  errors.check(1, "host", cmd, "string|table")
  return native.host(cmd, errors.options("exec.host", 2, opts, "env:table workdir:string timeout:number stdin:string"))
end

-- exec.on(node, cmd, opts) is node:exec(cmd, opts).
function exec.on(node, cmd, opts)
  return node:exec(cmd, opts)
end

return exec
