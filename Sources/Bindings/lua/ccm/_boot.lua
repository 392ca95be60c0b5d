-- Runs once when a Lua state starts, before any script. Keep it small: start-up time matters.
local host = require "ccm.host"
local SENTINEL = host.sentinel()

-- 1. Coroutines that cooperate with the scheduler.
-- A binding that suspends (sleep, exec.host, ...) yields SENTINEL to whoever resumed its
-- coroutine. When that is a script's own coroutine.resume, pass the suspension on upwards (or
-- wait in place where we cannot yield), then hand the result back to the inner coroutine.
local create, resume, yield, isyieldable, status, close =
  coroutine.create, coroutine.resume, coroutine.yield, coroutine.isyieldable, coroutine.status, coroutine.close

local function relay(co, ok, first, ...)
  if ok and first == SENTINEL and status(co) == "suspended" then
    if isyieldable() then
      return relay(co, resume(co, yield(SENTINEL)))
    end
    return relay(co, resume(co, host.await(co)))
  end
  return ok, first, ...
end

function coroutine.resume(co, ...)
  return relay(co, resume(co, ...))
end

function coroutine.wrap(f)
  local co = create(f)
  local function finish(ok, ...)
    if ok then return ... end
    local err = ...
    close(co)
    if type(err) == "string" then error(err, 2) end -- adds the caller's position, as Lua does
    error(err, 0)
  end
  return function(...)
    return finish(relay(co, resume(co, ...)))
  end
end

-- 2. os.exit runs the cleanup registry first.
os.exit = host.exit

-- 3. Globals that load their module on first use, so start-up stays fast.
local lazy = {
  json = "ccm.json",
  log = "ccm.log",
  exec = "ccm.exec",
  wait_until = "ccm.wait",
  cluster = "ccm.cluster",
  fault = "ccm.fault",
}
setmetatable(_G, {
  __index = function(globals, name)
    local module = lazy[name]
    if module == nil then return nil end
    local value = require(module)
    if name == "wait_until" then value = value.wait_until end
    rawset(globals, name, value)
    return value
  end,
})
