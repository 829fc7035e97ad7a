-- hostile (point 4): on_timer re-arms a timer for now: each firing a fresh
-- budget, an endless chain at one simulated instant.
return {
  on_start = function(ctx) ctx:timer(0) end,
  on_timer = function(ctx) ctx:timer(0) end,
}
