-- live_taker.lua: a test strategy for `bourse live`: on SUSHIUSDT it buys `qty`
-- after `after` quotes (once its book has asks) and sells what it holds after
-- twice as many (refused or cancelled orders are logged), and checks
-- on every depth change that the book it sees is sorted best first and not
-- crossed. It logs its fills, the distinct prices of its buy fills (a buy
-- larger than the best level walks the book under the default fill model) and
-- how long after the buy its first fill came (paper.latency).
local quotes, bought, sold, depth_calls = 0, false, false, 0
local held, fills, buy_prices, seen = 0, 0, 0, {}
local bought_at, first_fill_ms = nil, -1

return {
  name = "live_taker",
  params = {
    after = { type = "int", default = 20, min = 1, help = "quotes before buying" },
    qty = { type = "int", default = 1, min = 1, max = 1e9, help = "quantity to buy" },
  },
  on_top = function(ctx, top)
    if top.instrument ~= ctx:instrument("SUSHIUSDT").id then return end
    quotes = quotes + 1
    -- the book must be known first: bookTicker quotes can come before the
    -- depth snapshot, and a market buy into an empty venue book is refused
    if not bought and quotes >= ctx.params.after and #ctx:depth("ask", 1, top.instrument) > 0 then
      bought = ctx:buy(ctx.params.qty) ~= nil
      bought_at = ctx:now()
    elseif bought and not sold and quotes >= 2 * ctx.params.after and held > 0 then
      sold = ctx:sell(held) ~= nil
    end
  end,
  on_fill = function(ctx, ev)
    fills = fills + 1
    if fills == 1 then first_fill_ms = (ctx:now() - bought_at) // 1000000 end
    if ev.side == "buy" then
      held = held + ev.qty
      if not seen[ev.price] then seen[ev.price] = true; buy_prices = buy_prices + 1 end
    else
      held = held - ev.qty
    end
  end,
  on_order = function(ctx, ev)
    if ev.kind == "rejected" or ev.kind == "cancelled" then
      ctx:log("order " .. ev.kind, ev.code or "", ev.reason or "")
    end
  end,
  on_depth = function(ctx, instrument)
    depth_calls = depth_calls + 1
    local b, a = ctx:depth("bid", 10, instrument), ctx:depth("ask", 10, instrument)
    for i = 2, #b do
      if b[i].price >= b[i - 1].price then error("bids not sorted best first") end
    end
    for i = 2, #a do
      if a[i].price <= a[i - 1].price then error("asks not sorted best first") end
    end
    if #a > 0 and #b > 0 and b[1].price >= a[1].price then error("book crossed") end
  end,
  on_stop = function(ctx)
    ctx:log("quotes", quotes, "depth callbacks", depth_calls, "bought", bought, "sold", sold,
            "fills", fills, "buy prices", buy_prices, "held", held,
            "first fill after ms", first_fill_ms)
  end,
}
