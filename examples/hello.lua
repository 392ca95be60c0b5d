-- A first ccm-lua script: no container engine needed.
-- Run it with: ccm-lua examples/hello.lua [name]
local name = arg[1] or "world"

log.step("greet in parallel", function()
  local started = now()
  -- Three branches that each wait 0.3 s finish together in about 0.3 s.
  local a, b, c = parallel(
    function() sleep(0.3) return "hello" end,
    function() sleep(0.3) return name end,
    function()
      local r = exec.host({"uname", "-s"})
      return r.stdout:gsub("%s+$", "")
    end)
  log.info("%s, %s from %s (%.2f s)", a, b, c, now() - started)
end)

log.step("round-trip JSON", function()
  local text = json.encode({ greeting = "hello", to = name, nodes = { "node1", "node2" } })
  log.info("encoded: %s", text)
  assert(json.decode(text).nodes[2] == "node2")
end)

log.step("wait for a condition", function()
  local deadline = now() + 0.2
  wait_until(function() return now() >= deadline end, { timeout = 5, interval = 0.05 })
end)

-- Errors are values with a kind; pcall catches them.
local ok, err = pcall(exec.host, {"sleep", "5"}, { timeout = 0.1 })
log.info("a command that took too long: ok=%s kind=%s", tostring(ok), err.kind)
