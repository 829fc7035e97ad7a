-- ma_cross.lua: moving-average crossover on bar closes.
-- Long `qty` while SMA(fast) is above SMA(slow), flat otherwise; with
-- allow_short it goes short instead of flat. The C twin is
-- plugins/strategies/ma_cross: both make the same trades on the same bars.
-- Written for speed the Lua way: parameters read once into locals, the
-- position followed from fills instead of asked for on every bar.
local fast, slow          -- the two SMAs (indicator objects)
local qty, short_qty      -- target when fast > slow, and when not
local position = 0        -- our signed position, from fills
local working = false     -- an order is out: wait for it before trading again

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
    qty = p.qty
    short_qty = p.allow_short and -p.qty or 0
    position = ctx:position()
  end,

  on_bar = function(ctx, bar)
    local close = bar.close
    local f, s = fast:update(close), slow:update(close)
    -- fast < slow, so once the slow SMA is ready the fast one is too
    if working or not s then return end
    local delta = (f > s and qty or short_qty) - position
    if delta > 0 then
      working = ctx:buy(delta) ~= nil
    elseif delta < 0 then
      working = ctx:sell(-delta) ~= nil
    end
  end,

  on_order = function(ctx, ev)
    local k = ev.kind
    if k == "fill" then
      if ev.side == "buy" then position = position + ev.qty else position = position - ev.qty end
      if ev.leaves == 0 then working = false end
    elseif k == "rejected" or k == "cancelled" then
      working = false
    end
  end,
}
