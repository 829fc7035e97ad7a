-- hostile (point 5): string.rep("", huge) loops in C without allocating.
return { on_start = function(ctx) string.rep("", math.maxinteger) end }
