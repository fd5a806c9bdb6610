// Module YAMLDocument.
