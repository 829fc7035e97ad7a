-- market_maker.lua: the Avellaneda-Stoikov market maker, the Lua twin of
-- plugins/strategies/market_maker (same parameters, same maths, same orders).
-- Quotes one instrument around the mid (or the microprice), in ticks:
--   reservation price r = s - q * gamma * sigma^2 * tau
--   half spread = (gamma * sigma^2 * tau + (2 / gamma) * ln(1 + gamma / k)) / 2
--   (gamma = 0: r = s and half spread 1 / k; never below half a tick)
-- sigma^2 is an EWMA (half-life sigma_halflife seconds) of squared mid moves per
-- second; q the position in quote sizes. Bid floor(r - half), ask ceil(r + half),
-- never crossing the opposite touch, posted post-only. At |position| >=
-- inventory_limit only the reducing side is quoted; at hard_stop everything is
-- cancelled and quoting stops. A working quote moves (replace) only when its
-- wanted price moved by at least requote_ticks, so it keeps its queue place.
-- on_stop cancels everything. docs/router.md section 5.

local p                    -- parameters (copied in on_start)
local inst                 -- instrument id quoted
local tick                 -- its tick size, in price units
local limit, hard_stop
local sigma2               -- EWMA of squared mid moves per second, ticks^2
local last_mid, last_ts
local stopped = false
local bid_id, ask_id       -- working quotes (nil: none)
local bid_px, ask_px

-- Place or move one side; px nil: that side should not quote.
local function quote(ctx, side, px)
  local id, cur = ask_id, ask_px -- (not `side == "buy" and bid_id or ask_id`: bid_id may be nil)
  if side == "buy" then id, cur = bid_id, bid_px end
  if not px then
    if id then
      ctx:cancel(id)
      if side == "buy" then bid_id = nil else ask_id = nil end
    end
    return
  end
  if id then
    if math.abs(px - cur) // tick < p.requote_ticks then return end -- keep the queue place
    if ctx:replace(id, px, p.order_qty) then
      if side == "buy" then bid_px = px else ask_px = px end
    end
    return
  end
  local order = { qty = p.order_qty, price = px, post_only = true, instrument = inst }
  local nid
  if side == "buy" then nid = ctx:buy(order) else nid = ctx:sell(order) end
  if nid then
    if side == "buy" then bid_id, bid_px = nid, px else ask_id, ask_px = nid, px end
  end
end

return {
  name = "market_maker",
  params = {
    gamma = { type = "number", default = 0.1, min = 0, max = 100, help = "risk aversion (0: no inventory control)" },
    k = { type = "number", default = 1.5, min = 1e-6, max = 1e6, help = "order-arrival intensity decay, per tick" },
    tau = { type = "number", default = 1.0, min = 0, max = 1e6, help = "horizon in seconds for the inventory term" },
    sigma_halflife = { type = "number", default = 30.0, min = 1e-3, max = 1e6, help = "EWMA half-life of the volatility estimate, seconds" },
    sigma_init = { type = "number", default = 1.0, min = 0, max = 1e9, help = "volatility before any data, ticks/sqrt(s)" },
    order_qty = { type = "int", default = 1, min = 1, help = "quote size in lots" },
    inventory_limit = { type = "int", default = 10, min = 1, help = "beyond this |position| only the reducing side is quoted" },
    hard_stop = { type = "int", default = 0, min = 0, help = "|position| at which everything is cancelled and quoting stops (0: 2 x inventory_limit)" },
    requote_ticks = { type = "int", default = 1, min = 1, max = 1000000, help = "move a quote only if it changes this much" },
    microprice = { type = "bool", default = false, help = "quote around the microprice instead of the mid" },
    instrument = { type = "string", default = "", help = "symbol to quote (default: instrument 0)" },
  },

  on_start = function(ctx)
    p = ctx.params
    local def = ctx:instrument(p.instrument ~= "" and p.instrument or 0)
    inst = def.id
    tick = def.tick_size > 0 and def.tick_size or 1
    limit = p.inventory_limit
    hard_stop = p.hard_stop > 0 and p.hard_stop or 2 * limit
    sigma2 = p.sigma_init * p.sigma_init
  end,

  on_stop = function(ctx)
    stopped = true
    ctx:cancel_all(inst)
  end,

  on_top = function(ctx, t)
    if stopped or t.instrument ~= inst or t.bid_qty == 0 or t.ask_qty == 0 or t.bid >= t.ask then
      return
    end
    local mid = 0.5 * (t.bid + t.ask) / tick
    -- volatility: EWMA of squared mid moves per second, in ticks
    if last_ts and t.ts > last_ts then
      local dt = (t.ts - last_ts) * 1e-9
      local d = mid - last_mid
      local a = 1.0 - 2.0 ^ (-dt / p.sigma_halflife)
      sigma2 = sigma2 + a * (d * d / (dt > 1e-3 and dt or 1e-3) - sigma2)
    end
    last_mid, last_ts = mid, t.ts
    local ref = mid
    if p.microprice then -- the touch weighted by the opposite side's size
      ref = (t.bid * t.ask_qty + t.ask * t.bid_qty) / ((t.bid_qty + t.ask_qty) * tick)
    end
    local pos = ctx:position(inst)
    local q = pos // p.order_qty
    if pos < 0 then q = -((-pos) // p.order_qty) end -- truncate toward zero, as C does
    if pos >= hard_stop or -pos >= hard_stop then
      stopped = true
      ctx:cancel_all(inst)
      bid_id, ask_id = nil, nil
      ctx:warn("market_maker: hard stop on inventory")
      return
    end
    local r, half
    if p.gamma > 0 then
      r = ref - q * p.gamma * sigma2 * p.tau
      half = 0.5 * (p.gamma * sigma2 * p.tau + (2.0 / p.gamma) * math.log(1.0 + p.gamma / p.k))
    else
      r = ref
      half = 1.0 / p.k
    end
    if half < 0.5 then half = 0.5 end
    local bid = math.floor(r - half) * tick
    local ask = math.ceil(r + half) * tick
    -- never cross: at most one tick inside the opposite touch
    if bid >= t.ask then bid = t.ask - tick end
    if ask <= t.bid then ask = t.bid + tick end
    if bid >= ask then ask = bid + tick end
    quote(ctx, "buy", (pos < limit and bid > 0) and bid or nil)
    quote(ctx, "sell", (-pos < limit) and ask or nil)
  end,

  on_order = function(ctx, ev)
    local done = ev.kind == "cancelled" or ev.kind == "rejected" or (ev.kind == "fill" and ev.leaves == 0)
    if not done then return end
    if ev.id == bid_id then bid_id = nil end
    if ev.id == ask_id then ask_id = nil end
  end,
}
