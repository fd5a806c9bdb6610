import Broker
import Foundation

exit(BrokerCommand.main(Array(CommandLine.arguments.dropFirst())))
