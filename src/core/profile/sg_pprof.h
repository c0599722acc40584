/* The parts of pprof's profile.proto (github.com/google/pprof, proto/profile.proto)
 * that the encoder and the decoder share: field numbers and the names spyglass uses
 * for labels and comments. Private to pprof_encode.c and pprof_decode.c. */
#ifndef SG_PPROF_H
#define SG_PPROF_H

/* message Profile */
enum {
    SG_PP_SAMPLE_TYPE = 1,
    SG_PP_SAMPLE = 2,
    SG_PP_MAPPING = 3,
    SG_PP_LOCATION = 4,
    SG_PP_FUNCTION = 5,
    SG_PP_STRING_TABLE = 6,
    SG_PP_DROP_FRAMES = 7,
    SG_PP_KEEP_FRAMES = 8,
    SG_PP_TIME_NANOS = 9,
    SG_PP_DURATION_NANOS = 10,
    SG_PP_PERIOD_TYPE = 11,
    SG_PP_PERIOD = 12,
    SG_PP_COMMENT = 13,
    SG_PP_DEFAULT_SAMPLE_TYPE = 14,
};
enum { SG_PP_VT_TYPE = 1, SG_PP_VT_UNIT = 2 };                      /* ValueType */
enum { SG_PP_S_LOCATION_ID = 1, SG_PP_S_VALUE = 2, SG_PP_S_LABEL = 3 }; /* Sample */
enum { SG_PP_LB_KEY = 1, SG_PP_LB_STR = 2, SG_PP_LB_NUM = 3 };          /* Label */
enum { SG_PP_L_ID = 1, SG_PP_L_LINE = 4 };                              /* Location */
enum { SG_PP_LN_FUNCTION_ID = 1, SG_PP_LN_LINE = 2 };                   /* Line */
enum {                                                                  /* Function */
    SG_PP_F_ID = 1,
    SG_PP_F_NAME = 2,
    SG_PP_F_SYSTEM_NAME = 3,
    SG_PP_F_FILENAME = 4,
    SG_PP_F_START_LINE = 5,
};

/* Sample labels. Every sample carries pid and thread_id (numbers); thread_name and
 * main_thread="true" when known; state ("running"/"idle") and gil ("held"/"waiting"/
 * "released") for sampled profiles; partial="true" for truncated stacks. "flags" (a
 * number, the raw sg_record.flags) is only written when the words above cannot say it. */
#define SG_PP_LABEL_PID "pid"
#define SG_PP_LABEL_TID "thread_id"
#define SG_PP_LABEL_THREAD_NAME "thread_name"
#define SG_PP_LABEL_MAIN "main_thread"
#define SG_PP_LABEL_STATE "state"
#define SG_PP_LABEL_GIL "gil"
#define SG_PP_LABEL_PARTIAL "partial"
#define SG_PP_LABEL_FLAGS "flags"

/* Profile-level data pprof has no field for travels in comments "spyglass:KEY=VALUE":
 *   version=1, strings=N (the first N table entries are the model's strings, in order),
 *   mode=sample|trace|lines, rate_hz=%.17g, ticks_requested=N, ticks_taken=N,
 *   attr:KEY=VALUE (KEY with '%' and '=' written as %25 and %3D),
 *   process:PID:cmdline=S, process:PID:python=S, process:PID:samples_ok=N,
 *   process:PID:samples_failed=N, thread:PID:TID:name=S, thread:PID:TID:main=0|1.
 * The clock is period_type's type ("wall"/"cpu"), interval_ns is period, start and
 * duration are time_nanos and duration_nanos.
 *
 * The timeline (when recorded) is one more string table entry that nothing refers
 * to, "spyglass:timeline=" then base64 (RFC 4648, no padding) of varint pairs, one per
 * event in order: the index of the Sample (in file order) the event is one sample of,
 * then the zigzag-encoded difference of its time from the previous event's (from 0
 * for the first). Why not one extra Sample per event with a timestamp label: that
 * repeats every stack once per tick (tens of bytes per event instead of ~4), and a
 * plain pprof reader would add those samples up (zero values would keep totals but
 * still show empty stacks and cost memory). Why not a comment: `go tool pprof` prints
 * every comment. An unreferenced string is invisible to every other reader, so their
 * totals and output cannot change; a reader that rewrites the file drops it. */
#define SG_PP_COMMENT_PREFIX "spyglass:"
#define SG_PP_FORMAT_VERSION 1
#define SG_PP_TIMELINE_KEY "timeline"

#endif
