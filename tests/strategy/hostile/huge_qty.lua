-- hostile (point 8): ctx:buy(1 << 62) overflowed qty x price in the runtime
-- and the metrics (UBSan abort; an average price of -1.0). Refused now, and
-- the largest accepted orders keep every figure exact.
return {
  on_start = function(ctx)
    ctx:log("1<<62:", ctx:buy(1 << 62))
    ctx:log("limit 1e9 @ 4e9:", ctx:buy{qty = 1000000000, price = 4000000000})
    ctx:log("price 4e9+1:", ctx:buy{qty = 1, price = 4000000001})
  end,
  on_bar = function(ctx, bar)
    local q = ctx:position()
    if q < 1000000000 then ctx:buy(1000000000 - q) end
    if q > 0 then ctx:sell(q) end
  end,
  on_stop = function(ctx) ctx:log("position", ctx:position()); ctx:log("pnl", ctx:pnl()) end,
}
