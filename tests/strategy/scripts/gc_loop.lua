-- sandbox: Lua runs finalizers with hooks off, so a never-ending __gc could not
-- be stopped by the budget: setmetatable refuses __gc outright
setmetatable({}, { __gc = function() while true do end end })
return { on_start = function(ctx) end }
