-- fx_taker.lua (test fixture): the same parent orders whatever the venues do.
-- Every `every_ms` it sends one market order of `qty` lots, alternating buy and
-- sell, decided by the clock alone (never by fills), so a routed run and a
-- single-venue run send identical parents and only the execution differs.
local n, started = 0, false
return {
  params = {
    qty = { type = "int", default = 20, min = 1 },
    every_ms = { type = "int", default = 2000, min = 1 },
  },
  -- the timer starts at the first quote: at on_start the clock is still 0
  on_top = function(ctx)
    if not started then
      started = true
      ctx:timer(ctx.params.every_ms * 1000000, ctx.params.every_ms * 1000000)
    end
  end,
  on_timer = function(ctx)
    if not ctx:top() then return end
    n = n + 1
    if n % 2 == 1 then ctx:buy(ctx.params.qty) else ctx:sell(ctx.params.qty) end
  end,
}
