"""SQL's vocabulary, shared by every layer: tokens (lexer), statements (splitter), the IR
nodes the parser emits (ir), Flink's quoting (dialect) and a statement's leading words (words).
No PyFlink and nothing of mlsql's above errors."""
