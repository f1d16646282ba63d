"""The embedded local AWS: moto's server, with every DynamoDB request serialized.

moto applies concurrent requests to one table without isolation, so two conditional
writes racing for one item can both win (four concurrent lock claims produced more
than one winner in a third of trials). DynamoDB applies each request atomically; a
lock around moto's handling of every DynamoDB request does the same here, so a race
test against the local stack means what it would mean against AWS.

``python -m listbackup.localaws [--host H] [--port P]`` serves until SIGTERM and prints
``listening on http://H:P`` once bound (``--port 0`` picks a free port). Besides AWS's
APIs it answers three local ones:

- ``POST /_localaws/reset?prefix=<p>&keep=<table>`` empties the tables whose names start
  with the prefix (but the kept ones), the user pools, the buckets and the queues, keeping
  every resource: a clean slate in milliseconds, for tests and for a fresh
  ``listbackup dev`` session;
- ``GET /_localaws/outbox`` lists the emails SES accepted (nothing leaves the local stack);
- ``GET /_localaws/confirmation-code?pool=P&username=U`` is the code Cognito would mail.

As it starts, the process warms up every service the application uses (``warmup``), so
that even the first requests of ``listbackup dev``'s bootstrap are answered quickly.

This package's ``app`` and ``warmup`` modules import moto; only the local AWS process
imports them. ``process`` is the parent's side (start, wait for the ready line, stop),
standard library only, so ``listbackup dev`` starts the child before its own imports.
"""

RESET_PATH = "/_localaws/reset"
OUTBOX_PATH = "/_localaws/outbox"
CODE_PATH = "/_localaws/confirmation-code"
