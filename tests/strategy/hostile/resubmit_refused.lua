-- hostile (point 4): on_order resubmits an order the host refuses (a limit
-- price of 0): the refusal came back into on_order at once, for ever. Now the
-- "rejected" event waits for the next event: one refusal per event.
local n = 0
return {
  on_start = function(ctx) ctx:buy{qty = 1, price = 0} end,
  on_order = function(ctx, ev)
    if ev.kind == "rejected" then n = n + 1; ctx:buy{qty = 1, price = 0} end
  end,
  on_stop = function(ctx) ctx:log("rejections seen:", n) end,
  on_top = function(ctx, top) end, -- quotes and trades: the simple fill model
}
