-- hostile (point 7): submitting and cancelling thousands of orders per event
-- (2 GB of RSS and orders.csv in a backtest): orders per run are bounded
-- (strategy.max_orders_per_run, 1,000,000 by default).
local function flood(ctx, px)
  for i = 1, 1000 do
    local id = ctx:buy(1, px - 1000)
    if id then ctx:cancel(id) end
  end
end
return {
  on_bar = function(ctx, bar) flood(ctx, bar.close) end,
  on_top = function(ctx, top) flood(ctx, top.bid) end,
  on_trade = function(ctx, t) flood(ctx, t.price) end,
}
