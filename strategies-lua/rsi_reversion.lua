-- rsi_reversion.lua: RSI mean reversion on bar closes.
-- Buys `qty` when RSI(period) falls below `lower` and sells out when it climbs
-- back above `exit`; with allow_short, also sells short above `upper` and buys
-- back below `exit`. One order at a time.
local rsi
local working = false

return {
  name = "rsi_reversion",
  params = {
    period = { type = "int", default = 14, min = 2, max = 1000, help = "RSI period, in bars (Wilder)" },
    lower = { type = "number", default = 30, min = 0, max = 100, help = "buy below this RSI" },
    upper = { type = "number", default = 70, min = 0, max = 100, help = "sell short above this RSI" },
    exit = { type = "number", default = 50, min = 0, max = 100, help = "close the position when RSI crosses this" },
    qty = { type = "int", default = 1, min = 1, help = "position size, in lots" },
    allow_short = { type = "bool", default = false, help = "also fade overbought markets" },
  },

  on_start = function(ctx)
    local p = ctx.params
    if not (p.lower < p.exit and p.exit < p.upper) then
      error("need lower < exit < upper")
    end
    rsi = ctx.indicators.rsi(p.period)
  end,

  on_bar = function(ctx, bar)
    local r = rsi:update(bar.close)
    if not r or working then return end
    local p = ctx.params
    local pos = ctx:position()
    local target = pos
    if pos == 0 then
      if r < p.lower then target = p.qty
      elseif p.allow_short and r > p.upper then target = -p.qty end
    elseif pos > 0 and r > p.exit then
      target = 0
    elseif pos < 0 and r < p.exit then
      target = 0
    end
    local delta = target - pos
    if delta > 0 then working = ctx:buy(delta) ~= nil
    elseif delta < 0 then working = ctx:sell(-delta) ~= nil end
  end,

  on_order = function(ctx, ev)
    if ev.leaves == 0 and ev.kind ~= "accepted" then working = false end
  end,
}
