// Module Broker.
