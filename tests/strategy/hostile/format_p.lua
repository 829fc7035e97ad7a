-- hostile (point 9): string.format("%p") prints an address.
return { on_start = function(ctx) ctx:log(string.format("%p", {})) end }
