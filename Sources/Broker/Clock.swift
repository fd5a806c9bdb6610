#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// Wall-clock seconds since the Unix epoch, for expiries that are shown to people.
func nowSeconds() -> Int64 {
    Int64(time(nil))
}
