-- hostile (issue 23, cb23): the host writes the fields a script has read
-- (bar.close) into the reused event table before each call, outside any
-- protected call. Leave that table's hash part full with "close" removed,
-- and memory at the cap: putting "close" back then needs a new hash part,
-- and a refused block there raised outside a protected call: the host
-- aborted. It must fail the strategy with the memory error instead.
local hog, n = {}, 0
local size, left = 65536, 0
local function fill()
  while left > 0 do
    left = left - 1
    n = n + 1
    hog[n] = string.rep("x", size)
  end
end
local round = 0
return {
  on_bar = function(ctx, bar)
    round = round + 1
    if round == 1 then
      local _ = bar.close -- hot from now on
      return
    end
    if round <= 8 then -- ~10 MB a bar, up to the 64 MB cap
      left = 150
      pcall(fill)
      return
    end
    rawset(bar, "close", nil)
    for i = 1, 1024 do rawset(bar, "k" .. i, i) end -- 1024 live keys: a full hash part
    while size >= 16 do -- what is left under the cap, with blocks ever smaller
      left = 1e9
      pcall(fill)
      size = size // 4
    end
  end,
}
