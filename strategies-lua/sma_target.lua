-- sma_target.lua: moving-average crossover written for signal backtests: on
-- each bar it states the position it wants as a fraction in [-1, 1]
-- (ctx:target) instead of sending orders; the engine sizes it (fixed quantity
-- or a fraction of equity), executes it at the next bar's open and charges
-- commission, slippage and impact (docs/backtesting.md). Both averages are
-- declared with ctx:plot, so the report draws them over the price.
local fast, slow, short_target, scale

return {
  name = "sma_target",
  params = {
    fast = { type = "int", default = 10, min = 1, max = 4096, help = "fast SMA period, in bars" },
    slow = { type = "int", default = 40, min = 2, max = 4096, help = "slow SMA period, in bars" },
    allow_short = { type = "bool", default = false, help = "-1 instead of 0 when fast < slow" },
  },

  on_start = function(ctx)
    local p = ctx.params
    if p.fast >= p.slow then
      error(("fast (%d) must be below slow (%d)"):format(p.fast, p.slow))
    end
    fast = ctx.indicators.sma(p.fast)
    slow = ctx.indicators.sma(p.slow)
    short_target = p.allow_short and -1 or 0
    scale = ctx:instrument(0).price_scale -- ticks per currency unit, for ctx:plot
  end,

  on_bar = function(ctx, bar)
    local f = fast:update(bar.close)
    local s = slow:update(bar.close)
    if f then ctx:plot("sma_fast", f / scale) end
    if s then ctx:plot("sma_slow", s / scale) end
    if f and s then
      ctx:target(f > s and 1 or short_target, bar.instrument)
    end
  end,
}
