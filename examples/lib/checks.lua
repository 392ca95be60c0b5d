--- Checks shared by scenarios: a small scenario library used through `require "lib.checks"`.
--- (docs/scenario-libraries.md explains where `require` looks.)
local M = {}

--- Every node in `nodes` serves `key` with `expected` (reads are linearizable: each asks the leader).
function M.same_value(nodes, key, expected)
  for _, n in ipairs(nodes) do
    local got = wait_until(function()
      local ok, out = pcall(n.etcdctl, n, "get", key, "--print-value-only")
      return ok and out:gsub("%s+$", "") or nil
    end, { timeout = 15 })
    if got ~= expected then
      error(("%s: %s = %q, expected %q"):format(n.name, key, got, expected), 2)
    end
  end
end

return M
