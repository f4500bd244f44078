"""What leaves the machine: the code snapshot Azure ML gets, the same list of files for the upload,
the replay and ``doctor``.

- ``code_snapshot``: which files of the code folder are in the snapshot, and why others are not;
- ``ignore_rules``: the ``.amlignore`` (or ``.gitignore``) rules, applied as azure-ai-ml applies
  them;
- ``secret_scan``: the secrets detect-secrets finds, by content, in the files of a snapshot.
"""
