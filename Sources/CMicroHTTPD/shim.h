#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <microhttpd.h>

/// MHD_start_daemon is variadic: start a daemon on an already-listening socket, one thread per connection.
static inline struct MHD_Daemon *ab_mhd_start_on_socket(int listen_fd, MHD_AccessHandlerCallback handler, void *handler_cls,
                                                        MHD_RequestCompletedCallback completed, void *completed_cls,
                                                        unsigned int connection_timeout_seconds) {
    return MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL
                                | MHD_USE_ITC,
                            0, NULL, NULL, handler, handler_cls,
                            MHD_OPTION_LISTEN_SOCKET, (MHD_socket)listen_fd,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, completed_cls,
                            MHD_OPTION_CONNECTION_TIMEOUT, connection_timeout_seconds,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
                            MHD_OPTION_END);
}

/// The connection's socket, for SO_PEERCRED (MHD_get_connection_info is variadic).
static inline int ab_mhd_connection_fd(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info == NULL ? -1 : (int)info->connect_fd;
}

#include <stdlib.h>
#include <string.h>

static void ab_mhd_free_zeroed(void *cls) {
    size_t *header = ((size_t *)cls) - 1;
    size_t length = *header;
    volatile unsigned char *bytes = (volatile unsigned char *)cls;
    while (length--) *bytes++ = 0;
    free(header);
}

/// A response whose body is copied into a buffer that is zeroed when MHD is done with it
/// (response bodies can carry secret values).
static inline struct MHD_Response *ab_mhd_response_zeroed_copy(const void *body, size_t length) {
    size_t *header = (size_t *)malloc(sizeof(size_t) + (length ? length : 1));
    if (header == NULL) return NULL;
    *header = length;
    void *bytes = header + 1;
    if (length) memcpy(bytes, body, length);
    struct MHD_Response *response = MHD_create_response_from_buffer_with_free_callback(length, bytes, ab_mhd_free_zeroed);
    if (response == NULL) ab_mhd_free_zeroed(bytes);
    return response;
}

typedef void *(*ab_mhd_uri_log_callback)(void *cls, const char *uri, struct MHD_Connection *connection);

/// A daemon for the credential proxy: like ab_mhd_start_on_socket, plus a callback that sees the
/// raw request target (with its query) before anything else, and a larger per-connection
/// buffer for request headers.
static inline struct MHD_Daemon *ab_mhd_start_proxy_on_socket(int listen_fd, MHD_AccessHandlerCallback handler,
                                                              void *handler_cls, MHD_RequestCompletedCallback completed,
                                                              void *completed_cls, ab_mhd_uri_log_callback uri_log,
                                                              void *uri_log_cls, unsigned int connection_timeout_seconds) {
    return MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL
                                | MHD_USE_ITC,
                            0, NULL, NULL, handler, handler_cls,
                            MHD_OPTION_LISTEN_SOCKET, (MHD_socket)listen_fd,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, completed_cls,
                            MHD_OPTION_URI_LOG_CALLBACK, uri_log, uri_log_cls,
                            MHD_OPTION_CONNECTION_TIMEOUT, connection_timeout_seconds,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned int)256,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
                            MHD_OPTION_END);
}

static inline ssize_t ab_mhd_content_end_of_stream(void) { return MHD_CONTENT_READER_END_OF_STREAM; }
static inline ssize_t ab_mhd_content_end_with_error(void) { return MHD_CONTENT_READER_END_WITH_ERROR; }
static inline uint64_t ab_mhd_size_unknown(void) { return MHD_SIZE_UNKNOWN; }
