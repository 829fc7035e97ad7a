-- a script error raised inside a C function (error()), on the 3rd bar
local n = 0
return {
  on_bar = function(ctx, bar)
    n = n + 1
    if n == 3 then error("bad thing on bar " .. n) end
  end,
}
