-- hostile (point 4): the venue (not the host) refuses a post-only order that
-- would take, and on_order resubmits it: bounded per event.
return {
  on_bar = function(ctx, bar) ctx:buy{qty = 1, price = bar.close + 100, post_only = true} end,
  on_order = function(ctx, ev)
    if ev.kind == "rejected" then ctx:buy{qty = 1, price = ev.price, post_only = true} end
  end,
  on_top = function(ctx, top) end, -- quotes and trades: the simple fill model
}
