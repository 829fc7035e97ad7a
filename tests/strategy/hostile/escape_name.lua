-- hostile (point 6): the script's name went unchecked into runs/NAME-MODE,
-- so a backtest wrote its seven result files outside the run directory.
return {
  name = "../../../../../../../../tmp/bourse_hostile_escape",
  on_bar = function(ctx, bar) ctx:target(0.5) end,
}
