-- hostile: pairs takes a snapshot of the keys and sorts it in C; each call
-- is charged per key and n log2 n, so walking a big table over and over
-- meets the instruction budget at this line instead of running unmetered.
local t = {}
for i = 1, 200000 do t["k" .. i] = i end
return {
  on_start = function(ctx)
    for _ = 1, 1000 do for _ in pairs(t) do break end end
  end,
}
