-- a runtime error in on_bar names the script, the line and the callback
local n = 0
return {
  on_bar = function(ctx, bar)
    n = n + 1
    if n == 50 then
      local t = nil
      return t.field
    end
  end,
}
