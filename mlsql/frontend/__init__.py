"""The front end: a script's text to IR nodes (templating, then parser). No PyFlink. It sits
above the model layer because the parser asks mlsql.feature_functions for each feature
function's name and argument checks (a new feature function is one module there)."""
