-- hostile (point 1): a parameter definition's __index adds parameters while
-- the host walks `params` (it counted them first: a heap overflow). The host
-- reads definitions raw, so the __index never runs: refused, no type.
local P = {}
P.a = setmetatable({}, { __index = function(t, k)
  for i = 1, 1000 do P["x" .. i] = { type = "int", default = 1 } end
  if k == "type" then return "int" elseif k == "default" then return 1 end
end })
return { params = P, on_start = function(ctx) end }
