"""SQL's vocabulary, shared by every layer: tokens (lexer), statements (splitter), the IR
nodes the parser emits (ir), Flink's quoting (dialect), a statement's leading words (words)
and which option values are secrets, masked in what mlsql shows (sensitive, secrets).
No PyFlink and nothing of mlsql's above errors."""
