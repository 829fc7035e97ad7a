-- sandbox: the instruction budget stops a callback that never returns, even
-- one that tries to swallow the error with pcall
return {
  on_start = function(ctx)
    while true do
      pcall(function() while true do end end)
    end
  end,
}
