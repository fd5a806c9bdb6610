#include <curl/curl.h>

/// curl_easy_setopt is variadic; these wrappers fix the argument type per option kind.
static inline CURLcode ab_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ab_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ab_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ab_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}
typedef size_t (*ab_curl_write_callback)(char *data, size_t size, size_t count, void *context);
static inline CURLcode ab_curl_setopt_write_function(CURL *handle, ab_curl_write_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}
static inline CURLcode ab_curl_response_code(CURL *handle, long *code) {
    return curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, code);
}
static inline CURLcode ab_curl_setopt_off(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ab_curl_setopt_header_function(CURL *handle, ab_curl_write_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, callback);
}
typedef curl_socket_t (*ab_curl_opensocket_callback)(void *context, curlsocktype purpose, struct curl_sockaddr *address);
static inline CURLcode ab_curl_setopt_opensocket_function(CURL *handle, ab_curl_opensocket_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, callback);
}
static inline curl_socket_t ab_curl_socket_bad(void) { return CURL_SOCKET_BAD; }
/// CURL_WRITEFUNC_PAUSE / abort value for write callbacks.
static inline size_t ab_curl_write_abort(void) { return 0; }
/// CURL_WRITEFUNC_PAUSE: the write callback keeps the data for later (curl_easy_pause to resume).
static inline size_t ab_curl_write_pause(void) { return CURL_WRITEFUNC_PAUSE; }
static inline CURLcode ab_curl_unpause(CURL *handle) { return curl_easy_pause(handle, CURLPAUSE_CONT); }
/// Reads the multi handle's next message: 1 with `*result` set when it says that a transfer is
/// done, 0 when there is no message left (other messages are skipped).
static inline int ab_curl_multi_next_done(CURLM *multi, CURLcode *result) {
    int queued = 0;
    CURLMsg *message;
    while ((message = curl_multi_info_read(multi, &queued)) != NULL) {
        if (message->msg == CURLMSG_DONE) {
            *result = message->data.result;
            return 1;
        }
    }
    return 0;
}
