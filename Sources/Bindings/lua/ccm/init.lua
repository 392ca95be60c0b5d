-- require "ccm": host-level helpers that are not globals.
local host = require "ccm.host"

local ccm = {}

-- Runs fn when the script ends, however it ends (returned, error, Ctrl-C); newest first.
-- Functions may sleep and call bindings; errors are logged, not raised.
function ccm.on_exit(fn, name)
  host.on_exit(fn, name)
end

-- The run's seed (`ccm-lua test --seed`, else CCM_LUA_SEED, else random): the one number that
-- makes test order, generated names and fault choices repeatable.
function ccm.seed()
  return require("ccm.runner").seed()
end

return ccm
