// Module Vaults.
