-- book_imbalance.lua: a small book-mode strategy for the demo. When the best
-- bid holds much more than the best offer (or the reverse) it crosses the
-- spread with an IOC order of `qty` lots, up to a position limit, one order in
-- flight at a time; it flattens when the imbalance flips. Orders meet the
-- replayed book after the configured latencies (docs/backtesting.md).
local working = {}   -- instrument -> true while an order is out
local pos = {}       -- instrument -> signed position, from fills

return {
  name = "book_imbalance",
  params = {
    threshold = { type = "double", default = 0.6, min = 0, max = 1, help = "|imbalance| that triggers a trade" },
    max_pos = { type = "int", default = 5, min = 1, max = 1e9, help = "position limit per instrument, in lots" },
    min_qty = { type = "int", default = 1, min = 0, max = 1e12, help = "ignore tops thinner than this on either side" },
    qty = { type = "int", default = 1, min = 1, max = 1e9, help = "lots per entry order" },
  },

  on_top = function(ctx, top)
    local i = top.instrument
    if working[i] or top.bid_qty < ctx.params.min_qty or top.ask_qty < ctx.params.min_qty then return end
    if top.bid_qty == 0 or top.ask_qty == 0 then return end
    local imb = (top.bid_qty - top.ask_qty) / (top.bid_qty + top.ask_qty)
    local p = pos[i] or 0
    local th, lim, q = ctx.params.threshold, ctx.params.max_pos, ctx.params.qty
    local id
    if imb > th and p < lim then
      id = ctx:buy({ qty = math.min(q, lim - p), price = top.ask, tif = "ioc", instrument = i })
    elseif imb < -th and p > -lim then
      id = ctx:sell({ qty = math.min(q, lim + p), price = top.bid, tif = "ioc", instrument = i })
    elseif imb * p < 0 and math.abs(imb) > th / 2 then -- the pressure turned against us
      if p > 0 then
        id = ctx:sell({ qty = p, price = top.bid, tif = "ioc", instrument = i })
      else
        id = ctx:buy({ qty = -p, price = top.ask, tif = "ioc", instrument = i })
      end
    end
    if id then working[i] = true end
  end,

  on_order = function(ctx, ev)
    local i = ev.instrument
    if ev.kind == "fill" then
      pos[i] = (pos[i] or 0) + (ev.side == "buy" and ev.qty or -ev.qty)
    end
    if ev.kind == "rejected" or ev.kind == "cancelled" or (ev.kind == "fill" and ev.leaves == 0) then
      working[i] = false
    end
  end,
}
