-- hostile (point 4): now + delay overflowed (undefined behaviour) and the
-- timer then fired about 2^63 times. The sum saturates: it never fires.
local fired = 0
return {
  on_start = function(ctx) ctx:timer(math.maxinteger, 1) end,
  on_timer = function(ctx) fired = fired + 1 end,
  on_stop = function(ctx) ctx:log("fired", fired) end,
}
