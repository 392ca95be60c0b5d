--- `local tcp = require "ccm.tcp"` (also the `tcp` global): plain TCP from a scenario, for line
--- and length-prefixed protocols (Redis, memcached). Every call suspends the calling coroutine,
--- so `parallel` branches overlap; failures raise kind "tcp" (refused, reset, timeout, closed).
local native = require "ccm.tcp.native"
local errors = require "ccm.errors"

local tcp = {}

local Connection = { __name = "ccm.tcp.Connection" }
Connection.__index = Connection

--- tcp.connect("host:port", {timeout = 10}) -> connection; `timeout` is also the default of
--- every send and receive on it. Closed by c:close(), a `<close>` variable, or garbage collection.
function tcp.connect(address, opts)
  errors.check(1, "connect", address, "string")
  errors.options("tcp.connect", 2, opts, "timeout:number")
  local timeout = opts and opts.timeout
  return setmetatable({ _handle = native.connect(address, timeout), _timeout = timeout, peer = address }, Connection)
end

--- c:send(s, {timeout =}) -> c
function Connection:send(data, opts)
  errors.check_self(self, "send", Connection)
  errors.check(1, "send", data, "string")
  errors.options("send", 2, opts, "timeout:number")
  self._handle:send(data, opts and opts.timeout or self._timeout)
  return self
end

--- c:receive("l" | n, {timeout =}) -> a line without its newline, or exactly n bytes.
function Connection:receive(what, opts)
  errors.check_self(self, "receive", Connection)
  errors.check(1, "receive", what, "string|number", true)
  errors.options("receive", 2, opts, "timeout:number")
  return self._handle:receive(what or "l", opts and opts.timeout or self._timeout)
end

--- c:close(); closing twice is no error.
function Connection:close()
  errors.check_self(self, "close", Connection)
  self._handle:close()
end

Connection.__close = Connection.close
function Connection:__tostring() return "ccm.tcp.Connection(" .. self.peer .. ")" end

return tcp
