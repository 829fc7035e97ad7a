-- ma_cross.lua: moving-average crossover on bar closes.
-- Long `qty` while SMA(fast) is above SMA(slow), flat otherwise; with
-- allow_short it goes short instead of flat. The C twin is
-- plugins/strategies/ma_cross: both make the same trades on the same bars.
local fast, slow
local working = false -- an order is out: wait for it before trading again

return {
  name = "ma_cross",
  params = {
    fast = { type = "int", default = 10, min = 1, max = 4096, help = "fast SMA period, in bars" },
    slow = { type = "int", default = 30, min = 2, max = 4096, help = "slow SMA period, in bars" },
    qty = { type = "int", default = 1, min = 1, max = 1e12, help = "position size, in lots" },
    allow_short = { type = "bool", default = false, help = "go short instead of flat when fast < slow" },
  },

  on_start = function(ctx)
    local p = ctx.params
    if p.fast >= p.slow then
      error(("fast (%d) must be below slow (%d)"):format(p.fast, p.slow))
    end
    fast = ctx.indicators.sma(p.fast)
    slow = ctx.indicators.sma(p.slow)
  end,

  on_bar = function(ctx, bar)
    local close = bar.close
    local f = fast:update(close)
    local s = slow:update(close)
    if not f or not s or working then return end
    local p = ctx.params
    local target
    if f > s then
      target = p.qty
    elseif p.allow_short then
      target = -p.qty
    else
      target = 0
    end
    local delta = target - ctx:position(bar.instrument)
    if delta > 0 then
      if ctx:buy(delta) then working = true end
    elseif delta < 0 then
      if ctx:sell(-delta) then working = true end
    end
  end,

  on_order = function(ctx, ev)
    local k = ev.kind
    if k == "rejected" or k == "cancelled" or (k == "fill" and ev.leaves == 0) then
      working = false
    end
  end,
}
