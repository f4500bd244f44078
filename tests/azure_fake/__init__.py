"""Test infrastructure, not product: stand-ins for Azure that the real azure-ai-ml talks to.

- ``azure_ml_api``: a loopback HTTPS fake of the Azure Resource Manager / Azure ML REST API
  (workspace, environment, component, code, datastore, compute, job and schedule endpoints) that
  records every request it receives and can be told to fail.
- ``azurite``: Azurite's blob service, which receives the code snapshot through the SAS URL the
  fake hands out.
- ``certificate``: the self-signed certificate the fake serves, made when a test session starts.
- ``credentials``: token credentials for tests, one that signs in and one that cannot.

The submit and schedule tests point an unmodified ``MLClient`` at the fake through the
``cloud`` setting of ``azureml.yml`` (a custom cloud whose Resource Manager endpoint is the fake).
"""
