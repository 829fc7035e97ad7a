-- a syntax error is reported with the file and the line
return {
  on_start = function(ctx)
    local x = = 1
  end,
}
