"""Everything that talks to Azure: the only code that builds credentials, clients and requests.

- ``credentials``: the credential, and the tokens checked before anything is uploaded;
- ``workspace_target``: which workspace a job goes to (pure: the dry run uses it too);
- ``network``: the connect and read timeouts and retries of every call (``KEDRO_AZUREML_*``);
- ``request_log``: what a command's requests did: which one failed or stalled, what they created;
- ``clients``: the signed-in ``MLClient`` of each workspace;
- ``errors``: Azure's errors, as one clear message each;
- ``code_upload``: the compiled job as a ``PipelineJob`` with the code snapshot to upload;
- ``submission``: ``kedro azureml run`` (submit, wait, callback);
- ``schedules``: ``kedro azureml schedule`` (create, list, disable, delete);
- ``reports``: the outcome of each job, shared by submission and schedules.

Importing this package imports nothing of the Azure SDK: each function imports what it needs.
"""
