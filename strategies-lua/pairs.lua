-- pairs.lua: a pairs trade on two instruments' bar closes.
-- spread = log(A) - beta * log(B); its z-score over `window` bars opens a
-- position when |z| > entry (short the rich leg, long the cheap one, `qty`
-- lots each) and closes it when |z| < exit. Instruments are named by symbol
-- (`a`, `b`), or default to the run's first two instruments; with fewer than
-- two the strategy says so and stays idle.
local A, B                -- instrument ids
local last = {}           -- last close per instrument id
local stamp = {}          -- its bar time
local z                   -- the z-score indicator
local state = 0           -- 0 flat, 1 long spread (long A, short B), -1 short spread
local idle = false

local function target(ctx, inst, want)
  local pos = ctx:position(inst)
  local d = want - pos
  if d > 0 then ctx:buy { qty = d, instrument = inst }
  elseif d < 0 then ctx:sell { qty = -d, instrument = inst } end
end

return {
  name = "pairs",
  params = {
    a = { type = "string", default = "", help = "symbol of leg A (default: the first instrument)" },
    b = { type = "string", default = "", help = "symbol of leg B (default: the second instrument)" },
    beta = { type = "number", default = 1.0, help = "hedge ratio in log prices" },
    window = { type = "int", default = 60, min = 2, max = 100000, help = "z-score window, in bars" },
    entry = { type = "number", default = 2.0, min = 0, help = "open when |z| is above this" },
    exit = { type = "number", default = 0.5, min = 0, help = "close when |z| is below this" },
    qty = { type = "int", default = 1, min = 1, help = "lots per leg" },
  },

  on_start = function(ctx)
    local p = ctx.params
    if p.exit >= p.entry then error("exit must be below entry") end
    local ok_a, ia = pcall(ctx.instrument, ctx, p.a ~= "" and p.a or 0)
    local ok_b, ib = pcall(ctx.instrument, ctx, p.b ~= "" and p.b or 1)
    if not (ok_a and ok_b) or ia.id == ib.id then
      ctx:warn("pairs needs two distinct instruments; staying idle")
      idle = true
      return
    end
    A, B = ia.id, ib.id
    z = ctx.indicators.zscore(p.window)
  end,

  on_bar = function(ctx, bar)
    if idle then return end
    local i = bar.instrument
    if i ~= A and i ~= B then return end
    last[i], stamp[i] = bar.close, bar.ts
    if stamp[A] ~= stamp[B] then return end -- wait for both legs of this bar
    local p = ctx.params
    local zz = z:update(math.log(last[A]) - p.beta * math.log(last[B]))
    if not zz then return end
    local want = state
    if state == 0 and zz > p.entry then want = -1
    elseif state == 0 and zz < -p.entry then want = 1
    elseif state ~= 0 and math.abs(zz) < p.exit then want = 0 end
    if want ~= state then
      state = want
      target(ctx, A, want * p.qty)
      target(ctx, B, -want * p.qty)
    end
  end,
}
