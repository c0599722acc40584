/* sg_layout_confirmed: before a layout that came from the target itself is trusted (a
 * build unlike our table of its minor, or a minor newer than our tables), its threads
 * and frames are looked at once through it. Reading a wrong layout would not crash
 * anything (every read is bounded and checked), but it would give a profile of garbage
 * with a high error rate; this turns that into one clear refusal. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sg_discover.h"

#define CHECK_THREADS 256
#define CHECK_FRAMES 64
/* Linux's PID_MAX_LIMIT: no thread ID is larger. */
#define TID_LIMIT 4194304

static bool plausible(uint64_t p) { return p >= 4096 && p < (1ULL << 47) && (p & 7) == 0; }

static int rd64(sg_reader *r, uint64_t addr, uint64_t *out)
{
    sg_error e;
    return sg_read(r, addr, out, sizeof *out, &e);
}

/* 1: the chain from frame held a code object and ended where chains end; 0: it could
 * not be read as one (a wrong layout, or a stack changing under us); -1: no frames. */
static int frames_look_right(sg_reader *r, const sg_target *t, uint64_t frame, uint64_t base)
{
    const sg_pyabi *a = &t->abi;
    if (!frame)
        return -1;
    int codes = 0;
    for (int depth = 0; frame && depth < CHECK_FRAMES; depth++) {
        unsigned char buf[512];
        sg_error e;
        if (!plausible(frame) || a->frame_size <= 0 || a->frame_size > (int32_t)sizeof buf ||
            sg_read(r, frame, buf, (size_t)a->frame_size, &e) != 0)
            return 0;
        uint64_t code, next;
        memcpy(&code, buf + a->frame_code, 8);
        memcpy(&next, buf + a->frame_back, 8);
        code &= ~(uint64_t)a->frame_code_tag_bits;
        uint8_t owner = buf[a->frame_owner];
        if (owner > (uint8_t)a->owner_max)
            return 0;
        if (a->owner_entry < 0 || owner < (uint8_t)a->owner_entry) {
            uint64_t type = 0;
            if (!plausible(code) || rd64(r, code + (uint64_t)a->object_type, &type) != 0)
                return 0;
            if (t->code_type_addr && type != t->code_type_addr)
                return 0;
            codes++;
        }
        if (!next && base && frame != base)
            return 0;
        frame = next;
    }
    return codes > 0 && !frame;
}

/* One look at every thread of interp: -1 with why set when the thread states themselves
 * do not fit (deterministic), else 1 if some thread's frames read right or no thread
 * has frames, 0 if frames were there but none read right (maybe only torn). */
static int look_once(sg_reader *r, const sg_target *t, uint64_t interp, char *why,
                     size_t why_len)
{
    const sg_pyabi *a = &t->abi;
    uint64_t ts = 0;
    if (rd64(r, interp + (uint64_t)a->interp_threads_head, &ts) != 0 || !plausible(ts)) {
        snprintf(why, why_len, "interpreter_state.threads_head leads to no thread state");
        return -1;
    }
    int own_tid = 0, frames_ok = 0, frames_bad = 0;
    for (int n = 0; ts && n < CHECK_THREADS; n++) {
        unsigned char buf[2048];
        sg_error e;
        if (!plausible(ts) || a->tstate_size <= 0 ||
            sg_read(r, ts, buf, a->tstate_size < (int32_t)sizeof buf ? (size_t)a->tstate_size
                                                                     : sizeof buf,
                    &e) != 0) {
            snprintf(why, why_len, "thread_state.next leads to unreadable memory");
            return -1;
        }
        uint64_t back, next, frame, base = 0, tid;
        memcpy(&back, buf + a->tstate_interp, 8);
        memcpy(&next, buf + a->tstate_next, 8);
        memcpy(&frame, buf + a->tstate_frame, 8);
        memcpy(&tid, buf + a->tstate_native_thread_id, 8);
        if (a->tstate_base_frame >= 0)
            memcpy(&base, buf + a->tstate_base_frame, 8);
        if (back != interp) {
            snprintf(why, why_len, "thread_state.interp does not lead back to the interpreter");
            return -1;
        }
        if (tid == 0 || tid > TID_LIMIT) {
            snprintf(why, why_len, "thread_state.native_thread_id holds no thread ID");
            return -1;
        }
        char task[64];
        snprintf(task, sizeof task, "/proc/%d/task/%llu", t->pid, (unsigned long long)tid);
        own_tid |= access(task, F_OK) == 0;
        int f = frames_look_right(r, t, frame, base);
        frames_ok += f == 1;
        frames_bad += f == 0;
        ts = next;
    }
    if (!own_tid) {
        snprintf(why, why_len, "no thread_state.native_thread_id is a thread of the process");
        return -1;
    }
    if (frames_bad && !frames_ok) {
        snprintf(why, why_len, "its frames do not read as frames of code objects");
        return 0;
    }
    return 1;
}

/* A stack read while the program changes it can fail a look; a wrong layout fails
 * every one. */
#define LOOKS 40
#define LOOK_PAUSE_NS 2000000L

bool sg_layout_confirmed(sg_reader *r, const sg_target *t, uint64_t interp, char *why,
                         size_t why_len)
{
    for (int look = 0; look < LOOKS; look++) {
        int rc = look_once(r, t, interp, why, why_len);
        if (rc != 0)
            return rc > 0;
        nanosleep(&(struct timespec){0, LOOK_PAUSE_NS}, NULL);
    }
    return false;
}
