// Module DevSSH.
