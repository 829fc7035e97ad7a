-- hostile (point 5): one table.move call copying 2^62 elements ran for ever in C.
return { on_start = function(ctx) table.move({}, 1, math.maxinteger // 2, 1) end }
