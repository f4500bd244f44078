"""The Key Vault tests run against the loopback fake (``azure_fake/key_vault.py``)."""

from azure_fake import key_vault_fixtures, tls

tls_certificate = tls.tls_certificate
trust_fake = tls.trust_fake
key_vault = key_vault_fixtures.key_vault
vault = key_vault_fixtures.vault
step_env = key_vault_fixtures.step_env
