-- market_maker.lua: a simple two-sided quoter.
-- Keeps one bid and one ask `edge` ticks either side of the mid, `qty` each,
-- skewed against its inventory (`skew` ticks per lot held), and stops quoting
-- the side that would take the position past `max_position`. It requotes (with
-- replace, keeping the order ids) only when its wanted price moved.
local bid_id, ask_id       -- our resting orders, nil when none
local bid_px, ask_px       -- their prices
local position = 0

local function quote(ctx, side, id, px, want_px, allowed)
  if not allowed then
    if id then ctx:cancel(id) end
    return nil, nil
  end
  if id then
    if px ~= want_px then ctx:replace(id, want_px, ctx.params.qty) end
    return id, want_px
  end
  local new_id
  if side == "buy" then
    new_id = ctx:buy { qty = ctx.params.qty, price = want_px, post_only = true }
  else
    new_id = ctx:sell { qty = ctx.params.qty, price = want_px, post_only = true }
  end
  return new_id, new_id and want_px or nil
end

return {
  name = "market_maker",
  params = {
    edge = { type = "int", default = 2, min = 1, help = "ticks from the mid to each quote" },
    qty = { type = "int", default = 1, min = 1, help = "size of each quote, in lots" },
    max_position = { type = "int", default = 10, min = 1, help = "inventory limit, in lots" },
    skew = { type = "number", default = 0.5, min = 0, help = "ticks to shade both quotes per lot held" },
  },

  on_top = function(ctx, top)
    local mid = top.mid
    if not mid then return end
    local p = ctx.params
    local shade = math.floor(position * p.skew + 0.5)
    local want_bid = math.floor(mid) - p.edge - shade
    local want_ask = math.ceil(mid) + p.edge - shade
    if want_bid < 1 then want_bid = 1 end
    bid_id, bid_px = quote(ctx, "buy", bid_id, bid_px, want_bid, position + p.qty <= p.max_position)
    ask_id, ask_px = quote(ctx, "sell", ask_id, ask_px, want_ask, position - p.qty >= -p.max_position)
  end,

  on_order = function(ctx, ev)
    if ev.kind == "fill" then
      position = position + (ev.side == "buy" and ev.qty or -ev.qty)
    end
    if ev.leaves == 0 and ev.kind ~= "accepted" then
      if ev.id == bid_id then bid_id, bid_px = nil, nil end
      if ev.id == ask_id then ask_id, ask_px = nil, nil end
    end
  end,

  on_stop = function(ctx)
    ctx:cancel_all()
    local r, u = ctx:pnl()
    ctx:log("market_maker: position", position, "realized", r, "unrealized", u)
  end,
}
