"""The commands kedro-azureml-deploy adds to ``kedro azureml`` (entry points ``kedro_azureml.commands``).

Each command parses its options, calls one function that does the work and reports the result:

- ``command``: the command class every one of them uses (one way to fail, ``--verbose``);
- ``options``: the options they share, each defined once;
- one module per command: ``info``, ``init``, ``compile``, ``doctor``, ``run``, ``replay``,
  ``schedule``, ``schema``.

Kedro imports these modules whenever a user lists or calls an ``azureml`` command, so they import
click and the standard library only: each command imports what it needs when it runs.
"""
