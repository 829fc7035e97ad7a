-- sandbox: string.dump is removed, so a script cannot even produce bytecode
local bc = string.dump(function() return 1 end)
return {}
