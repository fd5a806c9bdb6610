// Module BrokerProtocol.
