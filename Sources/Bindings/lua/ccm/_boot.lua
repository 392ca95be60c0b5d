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
  image = "ccm.image",
  http = "ccm.http",
  tcp = "ccm.tcp",
}
-- The test runner's words (ccm.test): fields of the module, loaded when a script first uses one.
local fields = { wait_until = true }
for _, name in ipairs { "describe", "it", "pending", "before_each", "after_each", "setup", "teardown", "lazy_setup",
                        "strict_setup" } do
  lazy[name], fields[name] = "ccm.test", true
end
setmetatable(_G, {
  __index = function(globals, name)
    local module = lazy[name]
    if module == nil then return nil end
    local value = require(module)
    if fields[name] then value = value[name] end
    rawset(globals, name, value)
    return value
  end,
})

-- 4. assert: Lua's own when called, busted/luassert-style checks as fields (ccm.assert, loaded
-- on first use).
local lua_assert = assert
-- Raises what Lua's assert raises ("file:LINE: message" for a string, at the caller's line), from
-- a function the test runner can recognise as a failed assertion.
local function plain_assert(_, ...)
  if select("#", ...) == 0 then return lua_assert() end
  local v, message = ...
  if v then return ... end
  if select("#", ...) < 2 then message = "assertion failed!" end
  error(message, 2)
end
package.loaded["ccm.assert.base"] = plain_assert
assert = setmetatable({}, {
  __call = plain_assert,
  __index = function(_, key) return require("ccm.assert")[key] end,
  __name = "ccm.assert",
})
