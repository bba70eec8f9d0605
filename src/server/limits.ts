/** The largest message limit the port can apply: Connect takes its readMaxBytes as a uint32. */
export const MAX_MESSAGE_BYTES_LIMIT = 0xffff_ffff;

/** The largest SETTINGS_MAX_CONCURRENT_STREAMS HTTP/2 allows (a uint32). */
export const MAX_HTTP2_STREAMS = 0xffff_ffff;
