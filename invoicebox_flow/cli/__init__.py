"""``invoicebox-flow``: the command-line tool.

Conventions every command follows:

* errors are one line on stderr (``error: …``) and a non-zero exit status; ``--debug`` shows
  the traceback. A bad value of an option is exit status 2, like click's usage errors;
* secrets come from environment variables, never from arguments;
* the store is ``--db URL`` or ``$INVOICEBOX_FLOW_DB``; commands that only read never create it;
* read commands print a table sized to the terminal, or JSON with ``--json``;
* output to a pipe that closes early (``| head``) ends the command quietly, with status 0.

One module per command group; :mod:`.app` assembles them.
"""

from .app import main

__all__ = ["main"]
