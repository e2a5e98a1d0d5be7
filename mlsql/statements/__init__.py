"""Each IR statement kind and its handler, in one table.

`handler_for(parsed)` is what every surface reaches through Session.execute; `steps(script)`
is the one statement loop they share. A handler module here registers its kinds with
`@handles(...)`; discovery imports every module of this package, so a new statement kind is
its IR node, its parser branch and one handler here.
"""
