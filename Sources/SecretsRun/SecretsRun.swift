// Module SecretsRun.
