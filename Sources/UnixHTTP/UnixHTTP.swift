// Module UnixHTTP.
