-- hostile (point 5): ctx:set_targets read #t through __len (2^27) and
-- allocated 1 GiB outside the memory cap before refusing it. The length is
-- read raw now (0 here), the copy is inside the cap.
local fake = setmetatable({}, { __len = function() return 1 << 27 end })
return {
  on_start = function(ctx) ctx:log("set_targets:", ctx:set_targets(fake)) end,
}
