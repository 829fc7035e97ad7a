-- hostile (point 3): a coroutine killed by the hook kept hooks off, and its
-- pending __close then ran unhooked when the wrapper closed it.
return {
  on_start = function(ctx)
    local f = coroutine.wrap(function()
      local x <close> = setmetatable({}, { __close = function() while true do end end })
      while true do end
    end)
    pcall(f)
  end,
}
