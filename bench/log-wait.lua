-- Run by bench/log-wait (read its header). One node whose command echoes "poke N" each time a
-- line is written to a FIFO the host shares with it; the host writes N, then `n:wait_log` waits
-- for "poke N". The latency is taken on the host's monotonic clock from just before the FIFO
-- write to the return of wait_log, so it covers the container writing the line, the engine's log
-- pipeline, ccm-lua's follower and the waiter: nothing is estimated across clocks. Blocks of
-- ccm-lua pokes alternate with blocks of the bare client (bench/log-wait-floor.py: the same poke
-- read from `ENGINE logs --follow` by a plain program) on the same container.
local engine = assert(os.getenv("BENCH_ENGINE"))
local dir = assert(os.getenv("BENCH_DIR"))        -- holds the FIFO "poke"
local lines = tonumber(os.getenv("BENCH_LINES") or "50")
local blocks = 5
local out = assert(os.getenv("BENCH_OUT"))        -- one "ccm SECONDS" or "floor SECONDS" a line
local floor_script = assert(os.getenv("BENCH_FLOOR"))

-- Removed at the end, and by ccm-lua itself if the script fails or is interrupted (keep = false).
local c = cluster.create {
  name = os.getenv("BENCH_NAME"),
  image = os.getenv("BENCH_IMAGE") or "ccm-lua-test/base:bookworm",
  profile = {
    name = "bench-poke",
    node = function()
      return {
        command = { "sh", "-c", 'echo up; while :; do read x < /poke/poke; echo "poke $x"; done' },
        ready = { log = "^up$" },
      }
    end,
  },
  volumes = { dir .. ":/poke" },
  nodes = 1,
}
local n = c:node(1)
c:start { timeout = 30 }

local results = assert(io.open(out, "w"))
local fifo = dir .. "/poke"
local seq = 0

local function poke_and_wait()
  seq = seq + 1
  local mark = n:mark_log()
  local f = assert(io.open(fifo, "w"))   -- returns once the container's `read` has the FIFO open
  local t0 = now()
  f:write(seq, "\n")
  f:close()
  n:wait_log("^poke " .. seq .. "$", { from = mark, timeout = 10 })
  return now() - t0
end

poke_and_wait()  -- warm-up: the follower is attached and the first line has gone through
local per_block = math.ceil(lines / blocks)
for _ = 1, blocks do
  for _ = 1, per_block do
    results:write(("ccm %.6f\n"):format(poke_and_wait()))
    sleep(0.02 + math.random() * 0.3)   -- a random gap, so pokes do not fall in step with a poll
  end
  results:flush()
  local floor = exec.host({ "python3", floor_script, engine, c.name .. "-" .. n.name, fifo, tostring(per_block),
                            "floor-" .. seq }, { timeout = 120 })
  if floor.code ~= 0 then error("floor run failed: " .. floor.stderr) end
  results:write(floor.stdout)
end
results:close()
c:remove()
